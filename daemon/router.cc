// xmppd-router: the router.
//
// Holds:      client sessions, rosters and offline messages (SQLite under DATA_PATH/router).
// Talks to:   the parent (control, listening sockets), the tls helper (certificates and
//             handshake signatures), the auth helper (SASL steps), the s2s worker (stanzas).
// Runs as:    xmppd_user, chrooted to DATA_PATH/router.
// Syscalls:   sandbox/policy.cc, role "router".
//
// It parses hostile bytes (client TLS and XML) and so holds no private key and no password
// verifier; it relays SASL to the auth helper and asks the tls helper to sign.
#include <openssl/ssl.h>

#include <optional>

#include "common/log.h"
#include "runtime/child.h"
#include "stream/sessions.h"
#include "tls/service.h"

namespace xmppd::router {

class Router final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kRouter; }
  ipc::Role wire_role() const override { return ipc::ROLE_ROUTER; }
  bool links_to(ipc::Role peer) const override {
    return peer == ipc::ROLE_S2S || peer == ipc::ROLE_TLS || peer == ipc::ROLE_AUTH;
  }

  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    if (!tls::init_remote_keys()) {
      error = "cannot set up OpenSSL's providers";
      return false;
    }
    tls_.emplace(runtime.base(), "c2s", "xmpp-client",
                 [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_TLS, reason); });
    sessions_.emplace(runtime.base(), stream::StreamKind::kClient, tls_->contexts());
    reconfigure(configure);
    return true;
  }

  void reconfigure(const ipc::Configure& configure) override {
    const ipc::RouterSettings& settings = configure.router();
    hosts_.assign(settings.hosts().begin(), settings.hosts().end());
    tls_->configure(settings.tls());
    sessions_->configure({hosts_.begin(), hosts_.end()}, settings.c2s().require_encryption(),
                         settings.c2s().max_stanza_bytes());
    log::info("configuration generation %llu: %zu hosts", static_cast<unsigned long long>(configure.generation()),
              hosts_.size());
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (peer == ipc::ROLE_TLS)
      tls_->link_helper(std::move(fd));
    else
      ChildRole::add_peer_link(peer, std::move(fd));
  }

  void add_listener(const ipc::Listener& listener, UniqueFd fd) override {
    if (listener.kind() == ipc::Listener::KIND_C2S_DIRECT_TLS) {
      log::info("c2s direct TLS on %s port %u", listener.address().c_str(), listener.port());
      tls_->add_direct_tls_listener(std::move(fd), [this](tls::Established e) {
        log::info("c2s TLS from %s: %s", e.peer.c_str(), tls::describe_session(e.ssl.get()).c_str());
        sessions_->adopt(std::move(e));
      });
      return;
    }
    log::info("c2s on %s port %u", listener.address().c_str(), listener.port());
    sessions_->add_listener(std::move(fd));
  }

 private:
  std::vector<std::string> hosts_;
  std::optional<tls::Service> tls_;
  std::optional<stream::Sessions> sessions_;
};

}  // namespace xmppd::router

int main() {
  xmppd::router::Router router;
  return xmppd::runtime::ChildRuntime(router).run();
}
