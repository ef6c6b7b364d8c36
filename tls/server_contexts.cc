#include "tls/server_contexts.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <optional>

#include "common/log.h"
#include "tls/remote_key.h"
#include "tls/server_name.h"

namespace xmppd::tls {
namespace {

// TLS 1.2 only with forward secrecy and AEAD; TLS 1.3 suites are all fine as they are.
constexpr char kDefaultCiphers[] = "ECDHE+AESGCM:ECDHE+CHACHA20";

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};

std::string server_name_lowercase(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

X509* parse_der(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return d2i_X509(nullptr, &p, static_cast<long>(der.size()));
}

}  // namespace

namespace {

// `ssl = { protocol; ciphers; ciphersuites }` on a context, or on a connection that SNI has
// moved to another host's context (libssl's setters come in both kinds, with one shape).
template <typename Object, auto SetMin, auto SetMax, auto SetCiphers, auto SetSuites>
bool apply_protocol(Object* object, const ipc::HostTls& options, std::string& error) {
  const std::string& protocol = options.protocol();
  int min = TLS1_2_VERSION, max = 0;
  if (protocol == "tlsv1_2") max = TLS1_2_VERSION;
  if (protocol == "tlsv1_3" || protocol == "tlsv1_3+") min = TLS1_3_VERSION;
  if (SetMin(object, min) != 1 || SetMax(object, max) != 1) {
    error = "cannot set protocol " + protocol;
    return false;
  }
  const std::string ciphers = options.ciphers().empty() ? kDefaultCiphers : options.ciphers();
  if (SetCiphers(object, ciphers.c_str()) != 1) {
    error = "ciphers \"" + ciphers + "\" select no cipher";
    return false;
  }
  // Empty: OpenSSL's default TLS 1.3 suites, set again for a connection that may have had others.
  const char* suites = options.ciphersuites().empty() ? OSSL_default_ciphersuites() : options.ciphersuites().c_str();
  if (SetSuites(object, suites) != 1) {
    error = "ciphersuites \"" + options.ciphersuites() + "\" select no suite";
    return false;
  }
  return true;
}

// The macros SSL_set_min_proto_version and kin, as functions a template can take.
int ssl_min(SSL* s, int v) { return SSL_set_min_proto_version(s, v); }
int ssl_max(SSL* s, int v) { return SSL_set_max_proto_version(s, v); }
int ctx_min(SSL_CTX* c, int v) { return SSL_CTX_set_min_proto_version(c, v); }
int ctx_max(SSL_CTX* c, int v) { return SSL_CTX_set_max_proto_version(c, v); }

}  // namespace

bool apply_tls_options(SSL_CTX* ctx, const ipc::HostTls& options, std::string& error) {
  if (!apply_protocol<SSL_CTX, ctx_min, ctx_max, SSL_CTX_set_cipher_list, SSL_CTX_set_ciphersuites>(ctx, options,
                                                                                                     error))
    return false;
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle connections keep no record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return true;
}

void ServerContexts::set_options(const google::protobuf::RepeatedPtrField<ipc::HostTls>& options) {
  options_.clear();
  for (const ipc::HostTls& o : options) options_[o.host()] = o;
}

bool use_host_certificate(SSL_CTX* ctx, const ipc::HostCertificate& certificate, std::string& error) {
  if (certificate.chain().empty()) {
    error = "no certificate chain";
    return false;
  }
  std::unique_ptr<X509, X509Deleter> leaf(parse_der(certificate.chain(0)));
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    error = "unusable certificate: " + openssl_error();
    return false;
  }
  for (int i = 1; i < certificate.chain_size(); ++i) {
    X509* extra = parse_der(certificate.chain(i));
    if (extra == nullptr || SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      error = "unusable chain certificate: " + openssl_error();
      return false;
    }
  }
  EVP_PKEY* key = make_remote_key(leaf.get(), certificate.key_id());
  bool ok = key != nullptr && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  if (!ok) error = "cannot use the remote key: " + openssl_error();
  return ok;
}

namespace {

// Federation decides on a peer's certificate after the handshake (tls/peer_verify.h), so
// the handshake asks for one and accepts whatever comes.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

void disable_resumption(SSL_CTX* ctx) {
  // No session tickets and no session cache, for c2s and s2s alike. libssl's ticket key
  // would live as long as the context (the process, or until a reload), and whoever reads
  // it, from this process which parses the network, could decrypt every recorded session
  // that was resumed with a ticket it sealed: forward secrecy would last only as long as
  // that key. XMPP streams are long-lived, so a full handshake per connection costs little.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

SslCtxPtr ServerContexts::make_context(const ipc::HostCertificate& certificate, std::string& error) const {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    error = "cannot make a TLS context: " + openssl_error();
    return nullptr;
  }
  auto options = options_.find(certificate.host());
  if (!apply_tls_options(ctx.get(), options == options_.end() ? ipc::HostTls() : options->second, error))
    return nullptr;
  if (!use_host_certificate(ctx.get(), certificate, error)) return nullptr;
  if (alpn_ == "xmpp-server") {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, accept_any_certificate);
    static const unsigned char kSessionContext[] = "xmppd-s2s";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  }
  disable_resumption(ctx.get());
  SSL_CTX_set_client_hello_cb(ctx.get(), on_client_hello, const_cast<ServerContexts*>(this));
  SSL_CTX_set_tlsext_servername_callback(ctx.get(), on_servername);
  SSL_CTX_set_tlsext_servername_arg(ctx.get(), const_cast<ServerContexts*>(this));
  SSL_CTX_set_alpn_select_cb(ctx.get(), on_alpn, const_cast<ServerContexts*>(this));
  return ctx;
}

void ServerContexts::set_certificates(const ipc::CertificateSet& set) {
  std::map<std::string, SslCtxPtr> hosts;
  SSL_CTX* first = nullptr;
  for (const ipc::HostCertificate& certificate : set.certificates()) {
    std::string error;
    SslCtxPtr ctx = make_context(certificate, error);
    if (!ctx) {
      log::error("TLS for %s: %s", certificate.host().c_str(), error.c_str());
      continue;
    }
    if (first == nullptr) first = ctx.get();
    hosts[certificate.host()] = std::move(ctx);
  }
  // Connections mid-handshake hold their own reference to the context they started with.
  hosts_ = std::move(hosts);
  default_ = first;
  log::info("TLS certificates for %zu hosts (generation %llu)", hosts_.size(),
            static_cast<unsigned long long>(set.generation()));
}

SslPtr ServerContexts::new_ssl() const {
  if (default_ == nullptr) return nullptr;
  return SslPtr(SSL_new(default_));
}

SslPtr ServerContexts::new_ssl_for(const std::string& host) const {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return new_ssl();
  return SslPtr(SSL_new(it->second.get()));
}

// Before libssl chooses the version: the host the client names (SNI) brings its own
// context, certificate and `ssl` settings alike. SSL_set_SSL_CTX carries the certificate
// over but not the protocol versions or ciphers, and by the time libssl has parsed SNI itself
// (on_servername) the version is chosen, so the raw extension is read here. An unknown name
// gets the default certificate, as a client with a typo deserves an answer it can judge; the
// stream's `to` is what decides which host it talks to.
int ServerContexts::on_client_hello(SSL* ssl, int* alert, void* arg) {
  auto* self = static_cast<ServerContexts*>(arg);
  const unsigned char* data = nullptr;
  std::size_t length = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &length) != 1) return SSL_CLIENT_HELLO_SUCCESS;
  // A malformed extension is libssl's to refuse, when it parses it.
  std::optional<std::string> name = server_name_from_extension({data, length});
  auto it = name ? self->hosts_.find(*name) : self->hosts_.end();
  if (it == self->hosts_.end() || SSL_get_SSL_CTX(ssl) == it->second.get()) return SSL_CLIENT_HELLO_SUCCESS;
  SSL_set_SSL_CTX(ssl, it->second.get());
  auto options = self->options_.find(*name);
  std::string error;
  if (!apply_protocol<SSL, ssl_min, ssl_max, SSL_set_cipher_list, SSL_set_ciphersuites>(
          ssl, options == self->options_.end() ? ipc::HostTls() : options->second, error)) {
    // The same options built the host's context: this cannot fail unless libssl does.
    log::error("TLS for %s: %s", name->c_str(), error.c_str());
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// Acknowledges a name we serve (on_client_hello has switched to its context).
int ServerContexts::on_servername(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<ServerContexts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
  auto it = self->hosts_.find(server_name_lowercase(name));
  return it != self->hosts_.end() && it->second.get() == SSL_get_SSL_CTX(ssl) ? SSL_TLSEXT_ERR_OK
                                                                                : SSL_TLSEXT_ERR_NOACK;
}

int ServerContexts::on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                            unsigned int inlen, void* arg) {
  auto* self = static_cast<ServerContexts*>(arg);
  const std::string& ours = self->alpn_;
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == ours.size() && ours.compare(0, len, reinterpret_cast<const char*>(in + i + 1), len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  // RFC 7301 §3.2: a client that offers ALPN without ours gets no_application_protocol.
  // Accepting it anyway is what cross-protocol attacks such as ALPACA need: a browser's
  // HTTPS request sent to this port, answered by a server holding a certificate it trusts.
  // (libssl calls this only when the client offered ALPN at all: without, it is accepted.)
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace xmppd::tls
