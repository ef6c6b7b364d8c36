// check certs: for each VirtualHost, the certificate and key the parent would hand the tls
// helper (daemon/credentials.cc picks them, here as there), judged as clients and servers will
// judge them: expiry, names, chain against the host's cafile/capath or the system store, and
// whether the key belongs to the certificate. Keys are read as root, compared with OpenSSL and
// dropped; nothing of them is printed.
#include <openssl/x509_vfy.h>

#include <ctime>
#include <map>

#include "daemon/credentials.h"
#include "tls/peer_verify.h"
#include "xmppctl/cert_files.h"
#include "xmppctl/check.h"

namespace xmppd::ctl {
namespace {

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

StorePtr trust_store(const config::TlsSettings& ssl, std::string& what) {
  StorePtr store(X509_STORE_new());
  if (ssl.cafile.empty() && ssl.capath.empty()) {
    what = "the system's trust store";
    X509_STORE_set_default_paths(store.get());
    return store;
  }
  what = ssl.cafile.empty() ? ssl.capath : ssl.cafile;
  if (!ssl.cafile.empty()) X509_STORE_load_file(store.get(), ssl.cafile.c_str());
  if (!ssl.capath.empty()) X509_STORE_load_path(store.get(), ssl.capath.c_str());
  return store;
}

void check_chain(const CertificateChain& chain, const config::TlsSettings& ssl, const std::string& host,
                 const std::string& subject, Findings& out) {
  std::string what;
  StorePtr store = trust_store(ssl, what);
  STACK_OF(X509)* rest = sk_X509_new_null();
  for (std::size_t i = 1; i < chain.certificates.size(); ++i) sk_X509_push(rest, chain.certificates[i].get());
  tls::PeerVerification v = tls::verify_peer(chain.leaf(), rest, store.get(), host);
  sk_X509_free(rest);
  if (v.chain == tls::ChainStatus::kExpired || v.chain == tls::ChainStatus::kNotYetValid) return;  // said above
  if (v.chain == tls::ChainStatus::kTrusted)
    out.push_back({Level::kOk, "certs", subject, "the chain verifies against " + what});
  else
    out.push_back({Level::kError, "certs", subject,
                   std::string("the chain does not verify against ") + what + ": " + tls::describe(v.chain) +
                       (v.detail.empty() ? "" : " (" + v.detail + ")")});
}

// One certificate and key pair, for the services of `host` that use it.
void check_pair(const config::HostSettings& host, const std::string& services, const std::string& cert_path,
                const std::string& key_path, Findings& out) {
  std::string subject = host.name + " " + services;
  CertificateChain chain;
  std::string error;
  if (!read_chain(cert_path, chain, error)) {
    out.push_back({Level::kError, "certs", subject, error});
    return;
  }
  out.push_back({Level::kOk, "certs", subject, "certificate " + cert_path + ", key " + key_path});
  KeyPtr key;
  if (!read_key(key_path, key, error))
    out.push_back({Level::kError, "certs", subject, error});
  else if (!key_matches(chain.leaf(), key.get()))
    out.push_back({Level::kError, "certs", subject, key_path + " is not the key of " + cert_path});
  else
    out.push_back({Level::kOk, "certs", subject, "the key matches the certificate"});
  key.reset();

  std::time_t now = std::time(nullptr);
  long days = days_left(chain.leaf(), now);
  std::string until = expiry_date(chain.leaf());
  if (not_yet_valid(chain.leaf(), now))
    out.push_back({Level::kError, "certs", subject, "the certificate is not valid yet"});
  else if (days < 0)
    out.push_back({Level::kError, "certs", subject, "the certificate expired on " + until});
  else if (days < kExpiryWarningDays)
    out.push_back({Level::kWarning, "certs", subject,
                   "the certificate expires in " + std::to_string(days) + " days, on " + until});
  else
    out.push_back({Level::kOk, "certs", subject, "valid until " + until + " (" + std::to_string(days) + " days)"});

  // xmppd serves no components: the host is the one name the certificate must cover. Clients
  // look for a DNS-ID only; an SRV-ID or XmppAddr satisfies servers alone.
  bool c2s = services.find("c2s") != std::string::npos, s2s = services.find("s2s") != std::string::npos;
  if (!covers(chain.leaf(), host.name))
    out.push_back({Level::kError, "certs", subject, "the certificate is not valid for " + host.name});
  else if (c2s && !covers_for_clients(chain.leaf(), host.name))
    out.push_back({Level::kError, "certs", subject,
                   "the certificate names " + host.name + " only for servers (SRV-ID or XmppAddr): clients want a DNS name"});
  else
    out.push_back({Level::kOk, "certs", subject, "the certificate names " + host.name});
  if (s2s && !allows_client_auth(chain.leaf()))
    out.push_back({Level::kWarning, "certs", subject,
                   "the certificate's extended key usage lacks clientAuth: servers we connect to may refuse it for "
                   "SASL EXTERNAL and fall back to dialback"});
  // A pair shared by both services is checked against each one's trust anchors.
  if (c2s) check_chain(chain, host.c2s_ssl, host.name, subject, out);
  if (s2s && !(c2s && host.s2s_ssl.cafile == host.c2s_ssl.cafile && host.s2s_ssl.capath == host.c2s_ssl.capath))
    check_chain(chain, host.s2s_ssl, host.name, subject, out);
}

// The host that daemon/credentials.cc's warning "no certificate for HOST in ..." is about.
std::string host_named_in(const config::Settings& s, const std::string& warning) {
  for (const config::HostSettings& h : s.federating())
    if (warning.find(" for " + h.name + " ") != std::string::npos) return h.name;
  return "";
}

}  // namespace

void check_certs(const Context& context, Findings& out) {
  const config::Settings& s = context.settings;
  parent::OpenCredentials credentials = parent::open_credentials(s);
  credentials.files.clear();  // the parent's descriptors; read again here by path
  // A host without a certificate cannot do TLS, which c2s and s2s require: an error here.
  for (const std::string& w : credentials.warnings) out.push_back({Level::kError, "certs", host_named_in(s, w), w});
  for (const std::string& e : credentials.errors) out.push_back({Level::kError, "certs", "", e});
  // (host, certificate, key) -> "c2s", "c2s+s2s": one set of findings per distinct pair.
  std::map<std::tuple<std::string, std::string, std::string>, std::string> pairs;
  std::vector<std::tuple<std::string, std::string, std::string>> order;
  for (const ipc::Credential& c : credentials.settings.credentials()) {
    auto key = std::make_tuple(c.host(), c.certificate_path(), c.key_path());
    std::string service = c.service() == ipc::SERVICE_C2S ? "c2s" : "s2s";
    auto [it, fresh] = pairs.emplace(key, service);
    if (fresh)
      order.push_back(key);
    else
      it->second += "+" + service;
  }
  for (const auto& key : order) {
    const config::HostSettings* host = s.find_host(std::get<0>(key));
    if (host == nullptr) host = s.find_component(std::get<0>(key));
    if (host != nullptr) check_pair(*host, pairs[key], std::get<1>(key), std::get<2>(key), out);
  }
}

}  // namespace xmppd::ctl
