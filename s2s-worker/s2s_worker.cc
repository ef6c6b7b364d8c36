// xmppd-s2s: the s2s worker.
//
// Holds:      every server-to-server connection, and the dialback keys of the current and the
//             previous epoch (never the long-term dialback secret: the parent derives them).
// Talks to:   the parent (control, listening sockets), the router (stanzas in and out),
//             the tls helper (certificates and handshake signatures).
// Runs as:    xmppd_user, chrooted to empty_path: after start-up it needs no file.
// Syscalls:   sandbox/policy.cc, role "s2s".
//
// It parses hostile bytes (DNS answers, TLS records, XML from remote servers) and so holds
// no private key and no credential: it can ask the tls helper to sign a handshake, no more.

#include <optional>

#include "common/log.h"
#include "runtime/admin_pages.h"
#include "runtime/child.h"
#include "runtime/sigterm.h"
#include "s2s-worker/dialback_key_ring.h"
#include "s2s-worker/federation.h"
#include "s2s-worker/inbound.h"
#include "s2s-worker/s2s_policy.h"
#include "s2s-worker/s2s_xml.h"
#include "stream/service.h"
#include "tls/trust_store.h"

namespace xmppd::s2s {
namespace {

ResolverOptions resolver_options(const ipc::DnsOptions& dns) {
  ResolverOptions options;
  options.resolvconf = dns.resolvconf();
  options.hosts = dns.hosts();
  options.trust_anchor = dns.trust_anchor();
  options.forwarders = {dns.forwarders().begin(), dns.forwarders().end()};
  options.transparent_zones = {dns.transparent_zones().begin(), dns.transparent_zones().end()};
  return options;
}

}  // namespace

class S2sWorker final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kS2s; }
  ipc::Role wire_role() const override { return ipc::ROLE_S2S; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER || peer == ipc::ROLE_TLS; }

  // Everything read from files (resolv.conf, hosts, the DNSSEC anchor) is read here,
  // before the sandbox; changing those needs a restart of the worker.
  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    if (!stream::Service::init(error)) return false;
    const ipc::S2sSettings& settings = configure.s2s();
    auto resolver = Resolver::create(runtime.base(), resolver_options(settings.dns()), error);
    if (!resolver) return false;
    s2s_.emplace(runtime.base(), stream::StreamKind::kServer,
                 [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_TLS, reason); });
    federation_.emplace(runtime.base(), policy_, trust_);
    federation_->set_resolver(std::move(resolver));
    federation_->set_client_contexts(s2s_->client_contexts());
    s2s_->set_handler_factory([this](stream::Session& session) -> std::unique_ptr<stream::StreamHandler> {
      return std::make_unique<InboundStream>(session, *federation_);
    });
    // Prosody's answer to a stream for a host with s2s in modules_disabled.
    s2s_->set_host_refusal([this](const std::string& host) {
      return policy_.enabled(host) ? std::string() : std::string(kS2sDisabledText);
    });
    reconfigure(configure);
    base_ = runtime.base();
    return sigterm_.start(base_, [this] { on_sigterm(); }, error);
  }

  void reconfigure(const ipc::Configure& configure) override {
    const ipc::S2sSettings& settings = configure.s2s();
    s2s_->configure(settings.hosts(), settings.tls(), settings.s2s());
    federation_->set_outbound_rate(
        stream::RateLimit{settings.s2s().outbound_rate().bytes_per_second(), settings.s2s().outbound_rate().burst_seconds()});
    trust_.configure(settings);
    policy_.configure(settings);
    federation_->set_outbound_limits(settings.allow_private_addresses(), settings.max_concurrent_connects());
  }

  // The parent sends the keys before the listeners, and again at each new epoch.
  void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) override {
    control.on(ipc::ParentToChild::kDialbackKeys, 0, [this](const ipc::ParentToChild& m, auto&) {
      const ipc::DialbackKeys& keys = m.dialback_keys();
      federation_->set_dialback_keys(keys.current(), keys.previous());
      log::info("dialback keys of epoch %llu", static_cast<unsigned long long>(keys.epoch()));
    });
    control.on(ipc::ParentToChild::kAdminQuery, 0,
               [this](const ipc::ParentToChild& m, auto&) { answer_admin(m.admin_query()); });
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (peer == ipc::ROLE_TLS)
      s2s_->link_tls_helper(std::move(fd));
    else if (peer == ipc::ROLE_ROUTER)
      federation_->link_router(std::move(fd),
                               [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_ROUTER, reason); });
    else
      ChildRole::add_peer_link(peer, std::move(fd));
  }

  void add_listener(const ipc::Listener& listener, UniqueFd fd) override { s2s_->add_listener(listener, std::move(fd)); }

 private:
  // SIGTERM (the parent stopping the service) ends inbound streams cleanly, each with its
  // final XEP-0198 <a h/>, so that peers do not send again what we received; then the loop
  // ends.
  void on_sigterm() {
    log::info("SIGTERM: ending inbound streams and exiting");
    federation_->end_inbound();
    event_base_loopexit(base_, nullptr);
  }

  void metrics(ipc::Metrics& out) override {
    if (federation_) federation_->metrics(out);
  }

  // xmppctl show s2s and close s2s (stream_report.cc builds the answers); any other question
  // is not ours to answer.
  void answer_admin(const ipc::AdminQuery& query) {
    auto send = [this](const ipc::ChildToParent& m) { runtime_->send_to_parent(m); };
    if (query.has_show_s2s()) {
      runtime::AdminPages pages(
          query.id(), [](ipc::AdminAnswer& a) { a.mutable_s2s(); }, send);
      federation_->report(query.show_s2s(), pages);
      return;
    }
    ipc::ChildToParent message;
    ipc::AdminAnswer& answer = *message.mutable_admin_answer();
    answer.set_id(query.id());
    if (query.has_close_s2s()) {
      const ipc::CloseS2s& close = query.close_s2s();
      ipc::AdminDone& done = *answer.mutable_done();
      if (close.remote().empty()) {
        done.set_error("close s2s needs a remote domain");
      } else {
        done.set_count(federation_->close_remote(close.remote(), close.local()));
        done.set_ok(done.count() > 0);
        if (done.count() == 0) done.set_error("no stream with " + close.remote());
      }
    } else {
      answer.mutable_done()->set_error("the s2s worker does not answer this question");
    }
    runtime_->send_to_parent(message);
  }

  S2sPolicy policy_;
  tls::TrustStores trust_;  // verifies remote servers' certificates (federation)
  // Declared after what they refer to, and the federation before the streams: inbound
  // streams ask it for verifications and go first.
  std::optional<Federation> federation_;
  std::optional<stream::Service> s2s_;
  struct event_base* base_ = nullptr;
  runtime::SigtermWatch sigterm_;
};

}  // namespace xmppd::s2s

int main() {
  xmppd::s2s::S2sWorker worker;
  return xmppd::runtime::ChildRuntime(worker).run();
}
