// xmppd-router: the router.
//
// Holds:      client sessions, rosters and offline messages (SQLite under DATA_PATH/router).
// Talks to:   the parent (control, listening sockets), the tls helper (handshake
//             signatures), the auth helper (SASL steps), the s2s worker (stanzas out and in).
// Runs as:    xmppd_user, chrooted to DATA_PATH/router.
// Syscalls:   sandbox/policy.cc, role "router".
//
// It parses hostile bytes (client TLS and XML) and so holds no private key and no password
// verifier; it relays SASL to the auth helper and asks the tls helper to sign.
#include "common/log.h"
#include "runtime/child.h"

namespace xmppd::router {

class Router final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kRouter; }
  ipc::Role wire_role() const override { return ipc::ROLE_ROUTER; }
  bool prepare(runtime::ChildRuntime&, const ipc::Configure& configure, std::string&) override {
    hosts_.assign(configure.router().hosts().begin(), configure.router().hosts().end());
    return true;
  }
  void reconfigure(const ipc::Configure& configure) override {
    hosts_.assign(configure.router().hosts().begin(), configure.router().hosts().end());
    log::info("configuration generation %llu: %zu hosts", static_cast<unsigned long long>(configure.generation()),
              hosts_.size());
  }
  bool links_to(ipc::Role peer) const override {
    return peer == ipc::ROLE_S2S || peer == ipc::ROLE_TLS || peer == ipc::ROLE_AUTH;
  }
  void add_listener(const ipc::Listener& listener, UniqueFd fd) override {
    // Held, not yet accepted on: client service is not built yet (see README, status).
    log::info("holding c2s listener %s:%u", listener.address().c_str(), listener.port());
    listeners_.push_back(std::move(fd));
  }

 private:
  std::vector<std::string> hosts_;
  std::vector<UniqueFd> listeners_;
};

}  // namespace xmppd::router

int main() {
  xmppd::router::Router router;
  return xmppd::runtime::ChildRuntime(router).run();
}
