#include "tls/client_contexts.h"

#include <openssl/err.h>

#include "common/log.h"

namespace xmppd::tls {
namespace {

// The tls helper signs a client CertificateVerify only in its TLS 1.3 form, the one it can
// recognise (tls-helper/signing_input.h). Under TLS 1.2 the certificate is withheld, so the
// handshake succeeds and authentication falls back to dialback where policy allows.
int withhold_certificate_before_tls13(SSL* ssl, void*) {
  if (SSL_version(ssl) < TLS1_3_VERSION) SSL_certs_clear(ssl);
  return 1;
}

}  // namespace

ClientContexts::ClientContexts() {
  std::string error;
  anonymous_ = make_context(ipc::HostTls(), nullptr, error);
  if (!anonymous_) log::error("TLS client context: %s", error.c_str());
}

void ClientContexts::set_options(const google::protobuf::RepeatedPtrField<ipc::HostTls>& options) {
  options_.clear();
  for (const ipc::HostTls& o : options) options_[o.host()] = o;
}

SslCtxPtr ClientContexts::make_context(const ipc::HostTls& options, const ipc::HostCertificate* certificate,
                                       std::string& error) const {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    error = "cannot make a TLS context";
    return nullptr;
  }
  if (!apply_tls_options(ctx.get(), options, error)) return nullptr;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  static const unsigned char kAlpn[] = "\x0bxmpp-server";
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn - 1);
  if (certificate != nullptr) {
    if (!use_host_certificate(ctx.get(), *certificate, error)) return nullptr;
    SSL_CTX_set_cert_cb(ctx.get(), withhold_certificate_before_tls13, nullptr);
  }
  return ctx;
}

void ClientContexts::set_certificates(const ipc::CertificateSet& set) {
  std::map<std::string, SslCtxPtr> hosts;
  for (const ipc::HostCertificate& certificate : set.certificates()) {
    auto options = options_.find(certificate.host());
    std::string error;
    SslCtxPtr ctx = make_context(options == options_.end() ? ipc::HostTls() : options->second, &certificate, error);
    if (!ctx) {
      log::error("TLS client certificate for %s: %s", certificate.host().c_str(), error.c_str());
      continue;
    }
    hosts[certificate.host()] = std::move(ctx);
  }
  hosts_ = std::move(hosts);
}

SslPtr ClientContexts::new_ssl(const std::string& local, const std::string& remote) const {
  auto it = hosts_.find(local);
  SSL_CTX* ctx = it != hosts_.end() ? it->second.get() : anonymous_.get();
  if (ctx == nullptr) return nullptr;
  SslPtr ssl(SSL_new(ctx));
  if (!ssl || SSL_set_tlsext_host_name(ssl.get(), remote.c_str()) != 1) return nullptr;
  return ssl;
}

}  // namespace xmppd::tls
