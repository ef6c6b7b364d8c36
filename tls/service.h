// The TLS side of a network process (router: c2s, s2s worker: s2s): its server contexts,
// and its link to the tls helper for certificates and signatures. Direct TLS connections
// are handshaken by their stream (stream/session.cc), after admission.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control.pb.h"
#include "tls/client_contexts.h"
#include "tls/helper_link.h"
#include "tls/server_contexts.h"

namespace xmppd::tls {

class Service {
 public:
  using ViolationHandler = std::function<void(std::string_view reason)>;

  // `name` is "c2s" or "s2s"; `alpn` is "xmpp-client" or "xmpp-server".
  Service(struct event_base* base, std::string name, std::string alpn, ViolationHandler on_violation);

  void configure(const google::protobuf::RepeatedPtrField<ipc::HostTls>& options);
  void link_helper(UniqueFd sock);
  // Called after each certificate set from the helper has been put in force.
  void on_certificates(std::function<void()> handler) { on_certificates_ = std::move(handler); }
  // Whether a certificate set (perhaps with none in it) has arrived since this process started.
  bool has_certificates() const { return has_certificates_; }
  const ServerContexts& contexts() const { return contexts_; }
  // Outbound connections (s2s only; null for c2s).
  const ClientContexts* client_contexts() const { return clients_.get(); }

 private:
  struct event_base* base_;
  std::string name_;
  ViolationHandler on_violation_;
  std::function<void()> on_certificates_;
  bool has_certificates_ = false;
  ServerContexts contexts_;
  std::unique_ptr<ClientContexts> clients_;
  std::unique_ptr<HelperLink> helper_;
};

}  // namespace xmppd::tls
