// Server-side TLS contexts, one per host, built from the certificate chains the tls helper
// sends and the TLS options of the configuration. SNI picks the host's context, with its
// protocol versions and ciphers; ALPN
// answers the service's protocol name (XEP-0368), and a client that offers only others is refused.
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control.pb.h"
#include "tls_signer.pb.h"

namespace xmppd::tls {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

// Applies `ssl = { protocol; ciphers; ciphersuites }` to a context. False names the problem.
bool apply_tls_options(SSL_CTX* ctx, const ipc::HostTls& options, std::string& error);
// A server context that issues no session ticket and caches no session (server_contexts.cc
// says why).
void disable_resumption(SSL_CTX* ctx);
// Puts a host's chain and its key (held by the tls helper) on a context.
bool use_host_certificate(SSL_CTX* ctx, const ipc::HostCertificate& certificate, std::string& error);

class ServerContexts {
 public:
  explicit ServerContexts(std::string alpn) : alpn_(std::move(alpn)) {}
  ServerContexts(const ServerContexts&) = delete;
  ServerContexts& operator=(const ServerContexts&) = delete;

  void set_options(const google::protobuf::RepeatedPtrField<ipc::HostTls>& options);
  // Replaces every context; an entry that cannot be used is logged and left out.
  void set_certificates(const ipc::CertificateSet& set);
  // A server SSL for an accepted connection; null while no certificate is known.
  SslPtr new_ssl() const;
  // The same, starting from `host`'s certificate (STARTTLS knows the host from the stream
  // header; SNI, if the client sends it, still decides).
  SslPtr new_ssl_for(const std::string& host) const;
  std::size_t size() const { return hosts_.size(); }

 private:
  SslCtxPtr make_context(const ipc::HostCertificate& certificate, std::string& error) const;
  static int on_client_hello(SSL* ssl, int* alert, void* arg);
  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                     unsigned int inlen, void* arg);

  std::string alpn_;
  std::map<std::string, ipc::HostTls> options_;
  std::map<std::string, SslCtxPtr> hosts_;
  SSL_CTX* default_ = nullptr;  // the first host's: for clients that send no SNI
};

}  // namespace xmppd::tls
