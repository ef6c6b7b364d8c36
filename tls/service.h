// The TLS side of a network process (router: c2s, s2s worker: s2s): its server contexts,
// its link to the tls helper for certificates and signatures, and its direct TLS listeners.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control.pb.h"
#include "tls/acceptor.h"
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
  void add_direct_tls_listener(UniqueFd listener, Acceptor::Handler on_established);
  const ServerContexts& contexts() const { return contexts_; }
  // Outbound connections (s2s only; null for c2s).
  const ClientContexts* client_contexts() const { return clients_.get(); }

 private:
  struct event_base* base_;
  std::string name_;
  ViolationHandler on_violation_;
  ServerContexts contexts_;
  std::unique_ptr<ClientContexts> clients_;
  std::unique_ptr<HelperLink> helper_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
};

}  // namespace xmppd::tls
