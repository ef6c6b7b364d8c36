// One network service of a process (c2s in the router, s2s in the s2s worker): its TLS
// contexts and link to the tls helper, its listeners (plain for STARTTLS, direct TLS) and
// its streams.
#pragma once

#include <event2/event.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "control.pb.h"
#include "stream/sessions.h"
#include "tls/service.h"

namespace xmppd::stream {

class Service {
 public:
  // Before the sandbox: OpenSSL's providers and configuration.
  static bool init(std::string& error);

  Service(struct event_base* base, StreamKind kind, tls::Service::ViolationHandler on_helper_violation);

  void configure(const google::protobuf::RepeatedPtrField<std::string>& hosts,
                 const google::protobuf::RepeatedPtrField<ipc::HostTls>& tls, const ipc::StreamLimits& limits);
  void link_tls_helper(UniqueFd sock) { tls_.link_helper(std::move(sock)); }
  void add_listener(const ipc::Listener& listener, UniqueFd fd);
  std::string adopt(UniqueFd fd, std::string peer, RelayedClient facts) {
    return sessions_.adopt(std::move(fd), std::move(peer), std::move(facts));
  }
  void set_handler_factory(HandlerFactory factory) { sessions_.set_handler_factory(std::move(factory)); }
  void set_host_refusal(std::function<std::string(const std::string&)> refuse) {
    sessions_.set_host_refusal(std::move(refuse));
  }
  const tls::ClientContexts* client_contexts() const { return tls_.client_contexts(); }

 private:
  struct HeldListener {
    UniqueFd fd;
    bool direct_tls;
  };
  const char* name() const { return kind_ == StreamKind::kClient ? "c2s" : "s2s"; }
  void open_held_listeners();

  StreamKind kind_;
  tls::Service tls_;
  Sessions sessions_;
  // Listeners that arrived before the first certificate set: a connection accepted then
  // would be offered no STARTTLS (a restarted process answering its peers' reconnections),
  // and a server peer would put this domain in backoff. Until the set comes, connections
  // wait in the kernel's backlog.
  std::vector<HeldListener> held_;
};

}  // namespace xmppd::stream
