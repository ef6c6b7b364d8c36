// Client-side TLS for outbound server-to-server connections: one context per local host,
// presenting that host's certificate (for SASL EXTERNAL, XEP-0178) with its key in the tls
// helper. The peer's certificate is judged after the handshake (tls/peer_verify.h).
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <string>

#include "control.pb.h"
#include "tls/server_contexts.h"
#include "tls_signer.pb.h"

namespace xmppd::tls {

class ClientContexts {
 public:
  ClientContexts();
  ClientContexts(const ClientContexts&) = delete;
  ClientContexts& operator=(const ClientContexts&) = delete;

  void set_options(const google::protobuf::RepeatedPtrField<ipc::HostTls>& options);
  void set_certificates(const ipc::CertificateSet& set);
  // An SSL connecting from `local` to `remote`: SNI and the ALPN name xmpp-server
  // (XEP-0368), and local's certificate when there is one. Null only if OpenSSL fails.
  SslPtr new_ssl(const std::string& local, const std::string& remote) const;

 private:
  SslCtxPtr make_context(const ipc::HostTls& options, const ipc::HostCertificate* certificate,
                         std::string& error) const;

  std::map<std::string, ipc::HostTls> options_;
  std::map<std::string, SslCtxPtr> hosts_;
  SslCtxPtr anonymous_;  // for a host without a usable certificate: dialback may still do
};

}  // namespace xmppd::tls
