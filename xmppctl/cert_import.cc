// xmppctl cert import DIR...: as prosodyctl cert import. For each VirtualHost (and each
// Component that federates), the first certificate and key in the directories given
// (layouts in cert_files.h, the host's own name before its parent domain's wildcard) that
// belong together, name the host and have not expired are copied into the `certificates`
// directory as HOST.crt and HOST.key, the first
// names daemon/credentials.cc looks for; then the running server is asked to reload.
// The files are the administrator's (certbot's); xmppctl runs as root like the parent that
// reads them, writes keys 0600 root-owned, and never prints key material. Each file is read
// once: the bytes judged are the bytes installed, even while certbot swaps its symlinks; key
// buffers are cleansed.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "xmppctl/cert_files.h"
#include "xmppctl/check.h"
#include "xmppctl/control_client.h"

namespace xmppd::ctl {
namespace {

bool regular_file(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);  // certbot's live/ holds symlinks
}

// A certificate and key as read, once: judged, compared and installed from these same bytes.
struct PairBytes {
  std::string certificate, key;
  PairBytes() = default;
  PairBytes(PairBytes&&) = default;
  PairBytes& operator=(PairBytes&&) = default;
  ~PairBytes() { scrub(key); }
};

// Why the pair cannot serve `host`, or "" if it can.
std::string judge_pair(const CandidatePair& pair, const PairBytes& bytes, const std::string& host,
                       CertificateChain& chain) {
  KeyPtr key;
  std::string error;
  if (!parse_chain(bytes.certificate, pair.certificate, chain, error) || !parse_key(bytes.key, pair.key, key, error))
    return error;
  if (!key_matches(chain.leaf(), key.get())) return pair.key + " is not the key of " + pair.certificate;
  std::time_t now = std::time(nullptr);
  if (not_yet_valid(chain.leaf(), now)) return pair.certificate + " is not valid yet";
  if (days_left(chain.leaf(), now) < 0) return pair.certificate + " expired on " + expiry_date(chain.leaf());
  if (!covers(chain.leaf(), host)) return pair.certificate + " is not valid for " + host;
  return "";
}

// A new file beside `path` holding `bytes`, with `mode` and root's ownership, synced; its name, or "".
std::string write_temp(const std::string& path, const std::string& bytes, mode_t mode, std::string& error) {
  std::string temp = path + ".XXXXXX";
  int raw = mkostemp(temp.data(), O_CLOEXEC);
  if (raw < 0) {
    error = path + ": " + std::strerror(errno);
    return "";
  }
  UniqueFd fd(raw);
  bool ok = fchmod(fd.get(), mode) == 0 && (geteuid() != 0 || fchown(fd.get(), 0, 0) == 0);
  for (std::size_t done = 0; ok && done < bytes.size();) {
    ssize_t n = write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  if (!ok || fsync(fd.get()) != 0) {
    error = path + ": " + std::strerror(errno);
    unlink(temp.c_str());
    return "";
  }
  return temp;
}

bool sync_directory(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd && fsync(fd.get()) == 0;
}

// Both files written and synced first, then renamed into place, key first. If the certificate's
// rename fails, the previous key (kept as a hard link) goes back, so that the pair on disk is
// always one that belongs together: the old one or the new one.
bool install_pair(const std::string& dir, const std::string& key_to, const std::string& cert_to,
                  const PairBytes& bytes, std::string& error) {
  std::string key_temp = write_temp(key_to, bytes.key, 0600, error);
  if (key_temp.empty()) return false;
  std::string cert_temp = write_temp(cert_to, bytes.certificate, 0644, error);
  if (cert_temp.empty()) {
    unlink(key_temp.c_str());
    return false;
  }
  std::string previous = key_to + ".previous";
  unlink(previous.c_str());
  bool had_key = link(key_to.c_str(), previous.c_str()) == 0;
  if (rename(key_temp.c_str(), key_to.c_str()) != 0) {
    error = key_to + ": " + std::strerror(errno);
    unlink(key_temp.c_str());
    unlink(cert_temp.c_str());
    if (had_key) unlink(previous.c_str());
    return false;
  }
  if (rename(cert_temp.c_str(), cert_to.c_str()) != 0) {
    error = cert_to + ": " + std::strerror(errno) + "; the previous key is back in place";
    unlink(cert_temp.c_str());
    if (had_key ? rename(previous.c_str(), key_to.c_str()) != 0 : unlink(key_to.c_str()) != 0)
      error = cert_to + ": cannot be replaced, and " + key_to + " no longer belongs to it: " + std::strerror(errno);
    sync_directory(dir);
    return false;
  }
  if (had_key) unlink(previous.c_str());
  if (!sync_directory(dir)) {
    error = dir + ": fsync: " + std::strerror(errno);
    return false;
  }
  return true;
}

// The expiry date of the installed certificate if it is valid longer than the candidate, else "".
std::string installed_outlives(const std::string& installed, const CertificateChain& next) {
  CertificateChain now;
  std::string bytes, error;
  if (!read_file(installed, bytes, error) || !parse_chain(bytes, installed, now, error)) return "";
  if (ASN1_TIME_compare(X509_get0_notAfter(now.leaf()), X509_get0_notAfter(next.leaf())) <= 0) return "";
  return expiry_date(now.leaf());
}

struct Choice {
  CandidatePair pair;
  PairBytes bytes;
  CertificateChain chain;
  bool found = false;
};

Choice choose(const std::string& host, const std::vector<std::string>& dirs, Findings& out) {
  for (const std::string& name : names_for(host))
    for (const std::string& dir : dirs)
      for (const CandidatePair& pair : candidate_pairs(dir, name)) {
        if (!regular_file(pair.certificate) || !regular_file(pair.key)) continue;
        Choice choice;
        choice.pair = pair;
        std::string why;
        if (!read_file(pair.certificate, choice.bytes.certificate, why) || !read_file(pair.key, choice.bytes.key, why) ||
            !(why = judge_pair(pair, choice.bytes, host, choice.chain)).empty()) {
          out.push_back({Level::kWarning, "import", host, "skipped: " + why});
          continue;
        }
        choice.found = true;
        return choice;
      }
  return {};
}

enum class Installed { kImported, kUnchanged, kFailed };

Installed install(const config::Settings& s, const std::string& host, const Choice& from, Findings& out) {
  std::string cert_to = s.certificates + "/" + host + ".crt", key_to = s.certificates + "/" + host + ".key";
  PairBytes old;
  std::string error;
  bool same = read_file(cert_to, old.certificate, error) && read_file(key_to, old.key, error) &&
              old.certificate == from.bytes.certificate && old.key == from.bytes.key;
  if (same) {
    out.push_back({Level::kOk, "import", host, cert_to + " is already " + from.pair.certificate});
    return Installed::kUnchanged;
  }
  // Never a step back: an older copy left in a directory does not replace a renewed certificate.
  if (std::string later = installed_outlives(cert_to, from.chain); !later.empty()) {
    out.push_back({Level::kOk, "import", host,
                   "kept " + cert_to + ": it is valid until " + later + ", longer than " + from.pair.certificate});
    return Installed::kUnchanged;
  }
  // The server is asked to reload only once both are in place, so it reads the new pair together.
  if (!install_pair(s.certificates, key_to, cert_to, from.bytes, error)) {
    out.push_back({Level::kError, "import", host, error});
    return Installed::kFailed;
  }
  out.push_back({Level::kOk, "import", host,
                 "imported " + from.pair.certificate + " and " + from.pair.key + " as " + cert_to});
  return Installed::kImported;
}

// Keys are written into the certificates directory as root: one that another user may write
// to (or a symlink to one) would let that user swap the files between check and rename.
void check_certificates_dir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail(kExitFailed, dir + ": " + std::strerror(errno));
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) fail(kExitFailed, dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) fail(kExitFailed, dir + ": not a directory");
  if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022) != 0))
    fail(kExitFailed, dir + " (certificates): must be owned by root and writable by nobody else");
}

// The reload: the request `xmppctl reload` sends, whose answer says whether the server took
// the configuration again and with it the new files (the tls helper loads them afresh).
void reload(const Context& context, Findings& out) {
  if (!server_running(context)) {
    out.push_back({Level::kOk, "import", "reload", "xmppd is not running: it uses the new certificates when it starts"});
    return;
  }
  ipc::AdminRequest request;
  request.mutable_reload();
  ipc::AdminResponse response = ask(context, request);
  if (response.has_done()) {
    out.push_back({Level::kError, "import", "reload", "xmppd did not reload: " + response.done().error()});
  } else if (!response.has_reload()) {
    out.push_back({Level::kError, "import", "reload", "the server's answer is not understood"});
  } else if (!response.reload().taken()) {
    std::string why = response.reload().errors().empty() ? "" : ": " + response.reload().errors(0);
    out.push_back({Level::kError, "import", "reload", "xmppd did not take its configuration again" + why});
  } else if (!response.reload().certificates_loaded()) {
    // The tls helper refused the new files: the old certificate is still served.
    const auto& errors = response.reload().certificate_errors();
    std::string why = errors.empty() ? "" : ": " + errors[0];
    out.push_back({Level::kError, "import", "reload", "xmppd did not load the certificates" + why});
  } else {
    out.push_back({Level::kOk, "import", "reload",
                   "xmppd reloaded (generation " + std::to_string(response.reload().generation()) + ")"});
  }
}

}  // namespace

int cert_import(Context& context) {
  if (context.args.empty()) fail(kExitUsage, "cert import needs a directory, such as /etc/letsencrypt/live");
  const config::Settings& s = context.settings;
  check_certificates_dir(s.certificates);
  Findings findings;
  std::size_t imported = 0, current = 0;
  for (const config::HostSettings& host : s.federating()) {
    if (!host.enabled || (host.component && !host.module_enabled("s2s"))) continue;
    if (!host.c2s_ssl.certificate.empty() && !host.s2s_ssl.certificate.empty()) {
      findings.push_back(
          {Level::kWarning, "import", host.name,
           "skipped: its ssl option names " + host.c2s_ssl.certificate + ", not the certificates directory"});
      continue;
    }
    Choice choice = choose(host.name, context.args, findings);
    if (!choice.found) {
      findings.push_back({Level::kWarning, "import", host.name, "no usable certificate found"});
      continue;
    }
    Installed result = install(s, host.name, choice, findings);
    if (result == Installed::kImported) ++imported;
    if (result == Installed::kUnchanged) ++current;
  }
  if (imported > 0) reload(context, findings);
  print_findings(context, findings);
  if (any_error(findings) || imported + current == 0) return kExitFailed;
  return kExitOk;
}

}  // namespace xmppd::ctl
