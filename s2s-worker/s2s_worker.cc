// xmppd-s2s: the s2s worker.
//
// Holds:      the dialback secret and every server-to-server connection.
// Talks to:   the parent (control, listening sockets), the router (stanzas in and out),
//             the tls helper (certificates and handshake signatures).
// Runs as:    xmppd_user, chrooted to empty_path: after start-up it needs no file.
// Syscalls:   sandbox/policy.cc, role "s2s".
//
// It parses hostile bytes (DNS answers, TLS records, XML from remote servers) and so holds
// no private key and no credential: it can ask the tls helper to sign a handshake, no more.
#include <optional>

#include "common/log.h"
#include "runtime/child.h"
#include "stream/service.h"
#include "tls/trust_store.h"

namespace xmppd::s2s {

class S2sWorker final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kS2s; }
  ipc::Role wire_role() const override { return ipc::ROLE_S2S; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER || peer == ipc::ROLE_TLS; }

  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    if (!stream::Service::init(error)) return false;
    s2s_.emplace(runtime.base(), stream::StreamKind::kServer,
                 [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_TLS, reason); });
    reconfigure(configure);
    return true;
  }

  void reconfigure(const ipc::Configure& configure) override {
    const ipc::S2sSettings& settings = configure.s2s();
    s2s_->configure(settings.hosts(), settings.tls(), settings.s2s());
    trust_.configure(settings);
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (peer == ipc::ROLE_TLS)
      s2s_->link_tls_helper(std::move(fd));
    else
      ChildRole::add_peer_link(peer, std::move(fd));
  }

  void add_listener(const ipc::Listener& listener, UniqueFd fd) override { s2s_->add_listener(listener, std::move(fd)); }

 private:
  std::optional<stream::Service> s2s_;
  tls::TrustStores trust_;  // verifies remote servers' certificates (federation)
};

}  // namespace xmppd::s2s

int main() {
  xmppd::s2s::S2sWorker worker;
  return xmppd::runtime::ChildRuntime(worker).run();
}
