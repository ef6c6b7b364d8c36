// xmppctl cert import DIR...: as prosodyctl cert import. For each VirtualHost, the first
// certificate and key in the directories given (layouts in cert_files.h, the host's own name
// before its parent domain's wildcard) that belong together, name the host and have not
// expired are copied into the `certificates` directory as HOST.crt and HOST.key, the first
// names daemon/credentials.cc looks for; then the running server is asked to reload.
// The files are the administrator's (certbot's); xmppctl runs as root like the parent that
// reads them, writes keys 0600 root-owned, and never prints key material.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

// Why the pair cannot serve `host`, or "" if it can.
std::string judge_pair(const CandidatePair& pair, const std::string& host) {
  CertificateChain chain;
  KeyPtr key;
  std::string error;
  if (!read_chain(pair.certificate, chain, error) || !read_key(pair.key, key, error)) return error;
  if (!key_matches(chain.leaf(), key.get())) return pair.key + " is not the key of " + pair.certificate;
  std::time_t now = std::time(nullptr);
  if (not_yet_valid(chain.leaf(), now)) return pair.certificate + " is not valid yet";
  if (days_left(chain.leaf(), now) < 0) return pair.certificate + " expired on " + expiry_date(chain.leaf());
  if (!covers(chain.leaf(), host)) return pair.certificate + " is not valid for " + host;
  return "";
}

bool read_all(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  out = bytes.str();
  return static_cast<bool>(in);
}

void scrub(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

// Writes `bytes` to a new file beside `path`, with `mode` and root's ownership, then renames it
// over `path`: the parent, reading at any moment, sees the old file or the new one, whole.
bool write_atomically(const std::string& path, const std::string& bytes, mode_t mode, std::string& error) {
  std::string temp = path + ".XXXXXX";
  int raw = mkostemp(temp.data(), O_CLOEXEC);
  if (raw < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  UniqueFd fd(raw);
  bool ok = fchmod(fd.get(), mode) == 0 && (geteuid() != 0 || fchown(fd.get(), 0, 0) == 0);
  for (std::size_t done = 0; ok && done < bytes.size();) {
    ssize_t n = write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && fsync(fd.get()) == 0 && rename(temp.c_str(), path.c_str()) == 0;
  if (!ok) {
    error = path + ": " + std::strerror(errno);
    unlink(temp.c_str());
  }
  return ok;
}

// The expiry date of the installed certificate if it is valid longer than the candidate, else "".
std::string installed_outlives(const std::string& installed, const std::string& candidate) {
  CertificateChain now, next;
  std::string error;
  if (!regular_file(installed) || !read_chain(installed, now, error) || !read_chain(candidate, next, error)) return "";
  if (ASN1_TIME_compare(X509_get0_notAfter(now.leaf()), X509_get0_notAfter(next.leaf())) <= 0) return "";
  return expiry_date(now.leaf());
}

struct Choice {
  CandidatePair pair;
  bool found = false;
};

Choice choose(const std::string& host, const std::vector<std::string>& dirs, Findings& out) {
  for (const std::string& name : names_for(host))
    for (const std::string& dir : dirs)
      for (const CandidatePair& pair : candidate_pairs(dir, name)) {
        if (!regular_file(pair.certificate) || !regular_file(pair.key)) continue;
        std::string why = judge_pair(pair, host);
        if (why.empty()) return {pair, true};
        out.push_back({Level::kWarning, "import", host, "skipped: " + why});
      }
  return {};
}

enum class Installed { kImported, kUnchanged, kFailed };

Installed install(const config::Settings& s, const std::string& host, const CandidatePair& from, Findings& out) {
  std::string cert_to = s.certificates + "/" + host + ".crt", key_to = s.certificates + "/" + host + ".key";
  std::string cert, key, old_cert, old_key, error;
  if (!read_all(from.certificate, cert) || !read_all(from.key, key)) {
    scrub(key);
    out.push_back({Level::kError, "import", host, "cannot read " + from.certificate + " or " + from.key});
    return Installed::kFailed;
  }
  bool same = read_all(cert_to, old_cert) && read_all(key_to, old_key) && old_cert == cert && old_key == key;
  scrub(old_key);
  if (same) {
    scrub(key);
    out.push_back({Level::kOk, "import", host, cert_to + " is already " + from.certificate});
    return Installed::kUnchanged;
  }
  // Never a step back: an older copy left in a directory does not replace a renewed certificate.
  if (std::string later = installed_outlives(cert_to, from.certificate); !later.empty()) {
    scrub(key);
    out.push_back({Level::kOk, "import", host,
                   "kept " + cert_to + ": it is valid until " + later + ", longer than " + from.certificate});
    return Installed::kUnchanged;
  }
  // Each file is replaced whole; the server is asked to reload only once both are in place,
  // so it reads the new pair together.
  bool ok = write_atomically(key_to, key, 0600, error) && write_atomically(cert_to, cert, 0644, error);
  scrub(key);
  if (!ok) {
    out.push_back({Level::kError, "import", host, error});
    return Installed::kFailed;
  }
  out.push_back({Level::kOk, "import", host, "imported " + from.certificate + " and " + from.key + " as " + cert_to});
  return Installed::kImported;
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
  if (mkdir(s.certificates.c_str(), 0755) != 0 && errno != EEXIST)
    fail(kExitFailed, s.certificates + ": " + std::strerror(errno));
  Findings findings;
  std::size_t imported = 0, current = 0;
  for (const config::HostSettings& host : s.hosts) {
    if (!host.enabled) continue;
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
    Installed result = install(s, host.name, choice.pair, findings);
    if (result == Installed::kImported) ++imported;
    if (result == Installed::kUnchanged) ++current;
  }
  if (imported > 0) reload(context, findings);
  print_findings(context, findings);
  if (any_error(findings) || imported + current == 0) return kExitFailed;
  return kExitOk;
}

}  // namespace xmppd::ctl
