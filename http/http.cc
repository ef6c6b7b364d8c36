// xmppd-http: the HTTP process.
//
// Holds:      the HTTP connections (evhttp), and, below its chroot, the files of the file
//             sharing services (XEP-0363); no private key (TLS signatures come from the tls
//             helper) and no credential (an upload carries a slot the router signed).
// Talks to:   the parent (control, listening sockets, metrics), the tls helper (certificates
//             and handshake signatures for https), the router (WebSocket client streams).
// Runs as:    http_user, chrooted to DATA_PATH/http (the upload store).
// Syscalls:   sandbox/policy.cc, role "http": IPC, the event loop, accepted sockets and
//             file I/O inside its chroot.
//
// It parses hostile bytes (HTTP, through libevent's evhttp), like the router, and so is kept
// apart from everything an attacker wants; the services are handlers by path prefix
// (http/handler.h), each registered in register_handlers() below.
#include <algorithm>
#include <memory>

#include "common/log.h"
#include "http/file_share.h"
#include "http/host_meta.h"
#include "http/http_metrics.h"
#include "http/http_server.h"
#include "http/metrics.h"
#include "http/websocket.h"
#include "runtime/child.h"
#include "tls/remote_key.h"
#include "tls/service.h"

namespace xmppd::http {

class HttpProcess final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kHttp; }
  ipc::Role wire_role() const override { return ipc::ROLE_HTTP; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_TLS || peer == ipc::ROLE_ROUTER; }

  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    // The provider that signs through the tls helper, before any SSL_CTX.
    if (!tls::init_remote_keys()) {
      error = "cannot set up OpenSSL";
      return false;
    }
    settings_ = configure.http();
    runtime_base_ = runtime.base();
    default_cap_ = stream::default_connection_cap();  // getrlimit: not on the sandbox's list
    tls_ = std::make_unique<tls::Service>(runtime.base(), "https", "http/1.1", [this](std::string_view reason) {
      runtime_->report_peer_violation(ipc::ROLE_TLS, reason);
    });
    tls_->configure(settings_.tls());
    server_ = std::make_unique<HttpServer>(runtime.base());
    server_->set_tls([this]() { return tls_->contexts().new_ssl().release(); });
    apply_limits();
    register_handlers();
    configure_metrics();
    return true;
  }

  // The upload store is below the chroot (DATA_PATH/http/file_share): made and swept there.
  bool prepare_in_chroot(std::string& error) override { return file_share_->start(error); }

  void reconfigure(const ipc::Configure& configure) override {
    settings_ = configure.http();
    tls_->configure(settings_.tls());
    apply_limits();
    host_meta_->configure(settings_);
    file_share_->configure(settings_);
    configure_metrics();
    websocket_->configure(settings_);
  }

  void add_listener(const ipc::Listener& listener, UniqueFd fd) override {
    const bool tls = listener.kind() == ipc::Listener::KIND_HTTPS;
    if (!tls && listener.kind() != ipc::Listener::KIND_HTTP) return ChildRole::add_listener(listener, std::move(fd));
    std::string error;
    if (!server_->add_listener(std::move(fd), tls, error))
      log::fatal("http: %s port %u: %s", listener.address().c_str(), listener.port(), error.c_str());
    log::info("%s on %s port %u", tls ? "https" : "http", listener.address().c_str(), listener.port());
  }

  void metrics(ipc::Metrics& out) override {
    add_server_metrics(out, *server_);
    const FileShareStore& store = file_share_->store();
    add_file_share_metrics(out, {store.bytes(), store.files(), store.uploads(), store.uploaded_bytes()});
  }

  // /metrics: the parent's reports (http/metrics.h).
  void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) override { metrics_->attach(control); }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (peer == ipc::ROLE_TLS) return tls_->link_helper(std::move(fd));
    if (peer == ipc::ROLE_ROUTER) return websocket_->link_router(std::move(fd));
    ChildRole::add_peer_link(peer, std::move(fd));
  }

 private:
  // One line per service: its path prefix and its handler.
  void register_handlers() {
    host_meta_ = std::make_unique<HostMeta>(settings_);
    server_->add("/.well-known/host-meta", *host_meta_);
    file_share_ = std::make_unique<FileShareHandler>(runtime_base_, "file_share", settings_);
    server_->add(std::string(FileShareHandler::kPrefix), *file_share_);
    server_->add("/xmpp-websocket", *(websocket_ = std::make_unique<WebSocketHandler>(runtime_base_, settings_)));
    metrics_ = std::make_unique<MetricsHandler>(runtime_->base(),
                                                [this](const ipc::ChildToParent& m) { runtime_->send_to_parent(m); });
    server_->add("/metrics", *metrics_);
  }

  // Addresses that do not parse leave /metrics to nobody (the configuration was checked).
  void configure_metrics() {
    std::string error;
    if (!metrics_->configure(settings_, error)) log::error("%s; /metrics answers nobody", error.c_str());
  }

  void apply_limits() {
    ServerLimits limits;
    limits.max_body = limits.max_read = settings_.max_content_size();
    for (const ipc::FileShareService& s : settings_.file_share()) limits.max_read = std::max(limits.max_read, s.size_limit());
    const ipc::StreamLimits& l = settings_.limits();
    limits.connections.per_address = l.max_connections_per_address();
    limits.connections.unauthenticated_per_address = 0;
    limits.connections.total = l.max_connections() != 0 ? l.max_connections() : default_cap_;
    server_->set_limits(limits);
    // An entry that does not parse (the parent checked them) trusts nobody: X-Forwarded-For is
    // then ignored, which is safe, rather than believed from the wrong peer.
    TrustedProxies trusted;
    std::string error;
    std::vector<std::string> proxies(settings_.trusted_proxies().begin(), settings_.trusted_proxies().end());
    if (!trusted.configure(proxies, error)) log::error("%s; no proxy is trusted", error.c_str());
    server_->set_trusted_proxies(trusted);
  }

  ipc::HttpSettings settings_;
  std::size_t default_cap_ = 0;  // connections in all when max_connections is 0
  std::unique_ptr<tls::Service> tls_;  // https: the tls helper's chains, and its signatures
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HostMeta> host_meta_;
  std::unique_ptr<FileShareHandler> file_share_;
  struct event_base* runtime_base_ = nullptr;
  std::unique_ptr<MetricsHandler> metrics_;
  // After server_, so destroyed before it: its connections are freed before evhttp is.
  std::unique_ptr<WebSocketHandler> websocket_;
};

}  // namespace xmppd::http

int main() {
  xmppd::http::HttpProcess process;
  return xmppd::runtime::ChildRuntime(process).run();
}
