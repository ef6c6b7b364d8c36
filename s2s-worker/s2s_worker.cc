// xmppd-s2s: the s2s worker.
//
// Holds:      the dialback secret and every server-to-server connection.
// Talks to:   the parent (control, listening sockets), the router (stanzas in and out),
//             the tls helper (handshake signatures).
// Runs as:    xmppd_user, chrooted to empty_path: after start-up it needs no file.
// Syscalls:   sandbox/policy.cc, role "s2s".
//
// It parses hostile bytes (DNS answers, TLS records, XML from remote servers) and so holds
// no private key and no credential: it can ask the tls helper to sign a handshake, no more.
#include "common/log.h"
#include "runtime/child.h"

namespace xmppd::s2s {

class S2sWorker final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kS2s; }
  ipc::Role wire_role() const override { return ipc::ROLE_S2S; }
  bool prepare(runtime::ChildRuntime&, const ipc::Configure&, std::string&) override { return true; }
  void reconfigure(const ipc::Configure&) override {}
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER || peer == ipc::ROLE_TLS; }
  void add_listener(const ipc::Listener& listener, UniqueFd fd) override {
    // Held, not yet accepted on: inbound federation is not built yet (see README, status).
    log::info("holding s2s listener %s:%u", listener.address().c_str(), listener.port());
    listeners_.push_back(std::move(fd));
  }

 private:
  std::vector<UniqueFd> listeners_;
};

}  // namespace xmppd::s2s

int main() {
  xmppd::s2s::S2sWorker worker;
  return xmppd::runtime::ChildRuntime(worker).run();
}
