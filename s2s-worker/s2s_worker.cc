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
#include <openssl/ssl.h>

#include <optional>

#include "common/log.h"
#include "runtime/child.h"
#include "stream/sessions.h"
#include "tls/service.h"
#include "tls/trust_store.h"

namespace xmppd::s2s {

class S2sWorker final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kS2s; }
  ipc::Role wire_role() const override { return ipc::ROLE_S2S; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER || peer == ipc::ROLE_TLS; }

  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    if (!tls::init_remote_keys()) {
      error = "cannot set up OpenSSL's providers";
      return false;
    }
    tls_.emplace(runtime.base(), "s2s", "xmpp-server",
                 [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_TLS, reason); });
    sessions_.emplace(runtime.base(), stream::StreamKind::kServer, tls_->contexts());
    reconfigure(configure);
    return true;
  }

  void reconfigure(const ipc::Configure& configure) override {
    const ipc::S2sSettings& settings = configure.s2s();
    tls_->configure(settings.tls());
    trust_.configure(settings);
    sessions_->configure({settings.hosts().begin(), settings.hosts().end()}, settings.s2s().require_encryption(),
                         settings.s2s().max_stanza_bytes());
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (peer == ipc::ROLE_TLS)
      tls_->link_helper(std::move(fd));
    else
      ChildRole::add_peer_link(peer, std::move(fd));
  }

  void add_listener(const ipc::Listener& listener, UniqueFd fd) override {
    if (listener.kind() == ipc::Listener::KIND_S2S_DIRECT_TLS) {
      log::info("s2s direct TLS on %s port %u", listener.address().c_str(), listener.port());
      tls_->add_direct_tls_listener(std::move(fd), [this](tls::Established e) {
        log::info("s2s TLS from %s: %s", e.peer.c_str(), tls::describe_session(e.ssl.get()).c_str());
        sessions_->adopt(std::move(e));
      });
      return;
    }
    log::info("s2s on %s port %u", listener.address().c_str(), listener.port());
    sessions_->add_listener(std::move(fd));
  }

 private:
  std::optional<tls::Service> tls_;
  tls::TrustStores trust_;  // verifies remote servers' certificates (federation)
  std::optional<stream::Sessions> sessions_;
};

}  // namespace xmppd::s2s

int main() {
  xmppd::s2s::S2sWorker worker;
  return xmppd::runtime::ChildRuntime(worker).run();
}
