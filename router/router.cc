// xmppd-router: the router.
//
// Holds:      client sessions, rosters and offline messages (SQLite under DATA_PATH/router,
//             or PostgreSQL through the storage process, which holds the password).
// Talks to:   the parent (control, listening sockets), the tls helper (certificates and
//             handshake signatures), the auth helper (SASL steps), the s2s worker (stanzas),
//             the storage process (catalog statements) with storage = "sql" PostgreSQL,
//             the HTTP process (WebSocket clients as client streams, router/http_link.h).
// Runs as:    xmppd_user, chrooted to DATA_PATH/router.
// Syscalls:   sandbox/policy.cc, role "router".
//
// It parses hostile bytes (client TLS and XML, external components' streams) and so holds no
// private key, no password verifier and no component secret; it relays SASL and component
// handshakes to the auth helper and asks the tls helper to sign.
#include <algorithm>
#include <ctime>
#include <optional>
#include <set>

#include "common/log.h"
#include "router/admin_report.h"
#include "router/router_metrics.h"
#include "router/archive_store.h"
#include "router/auth_link.h"
#include "router/c2s_stream.h"
#include "router/component_stream.h"
#include "router/file_share/file_share_service.h"
#include "router/http_link.h"
#include "router/muc/muc_service.h"
#include "router/routing.h"
#include "router/s2s_link.h"
#include "router/user_store.h"
#include "runtime/child.h"
#include "runtime/metric_samples.h"
#include "runtime/sigterm.h"
#include "store/remote_database.h"
#include "stream/service.h"
#include "xmpp/jid.h"

namespace xmppd::router {

class Router final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kRouter; }
  ipc::Role wire_role() const override { return ipc::ROLE_ROUTER; }
  void metrics(ipc::Metrics& out) override {
    add_router_metrics(out, router_counters(), routing_.sessions().size());
    if (!archive_) return;
    // The per-owner counts the archive quota keeps: no scan of the archive itself.
    if (auto usage = archive_->usage(static_cast<std::int64_t>(std::time(nullptr)))) {
      runtime::add_gauge(out, "xmppd_archive_messages", "Messages in the archive (XEP-0313), read at most once a minute",
                         static_cast<double>(usage->messages));
      runtime::add_gauge(out, "xmppd_archive_owners", "Accounts and rooms with messages in the archive",
                         static_cast<double>(usage->owners));
    }
  }
  bool links_to(ipc::Role peer) const override {
    return peer == ipc::ROLE_S2S || peer == ipc::ROLE_TLS || peer == ipc::ROLE_AUTH || peer == ipc::ROLE_STORAGE ||
           peer == ipc::ROLE_HTTP;
  }

  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    if (!stream::Service::init(error)) return false;
    base_ = runtime.base();
    c2s_.emplace(runtime.base(), stream::StreamKind::kClient,
                 [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_TLS, reason); });
    auth_.emplace(runtime.base(),
                  [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_AUTH, reason); });
    s2s_.emplace(
        runtime.base(),
        [this](std::string_view domain) { return routing_.is_local(domain) || routing_.is_component(domain); },
        [this](xml::Element stanza, const xmpp::Jid& to) { routing_.from_remote(std::move(stanza), to); },
        [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_S2S, reason); },
        [this] { routing_.s2s_caught_up(); });
    c2s_->set_handler_factory([this](stream::Session& session) -> std::unique_ptr<stream::StreamHandler> {
      HostPolicy policy{anonymous_hosts_.count(session.host()) > 0, registration_hosts_.count(session.host()) > 0};
      return std::make_unique<ClientStream>(session, *auth_, routing_, policy);
    });
    // WebSocket clients (RFC 7395), handed over by the HTTP process as client streams.
    http_.emplace(
        runtime.base(),
        [this](UniqueFd fd, std::string peer, stream::RelayedClient facts) {
          return c2s_->adopt(std::move(fd), std::move(peer), std::move(facts));
        },
        [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_HTTP, reason); });
    // External components (XEP-0114): plain streams, their handshakes checked by the auth helper.
    components_.emplace(runtime.base(), stream::StreamKind::kComponent, no_tls_);
    components_->set_handler_factory([this](stream::Session& session) -> std::unique_ptr<stream::StreamHandler> {
      return std::make_unique<ComponentStream>(session, *auth_, routing_, connected_components_,
                                               component_stanza_bytes_);
    });
    // Where the data is stays as started (a reload does not move it).
    remote_storage_ = configure.router().remote_storage();
    sqlite_file_ = configure.router().sqlite_file().empty() ? "user.sqlite" : configure.router().sqlite_file();
    reconfigure(configure);
    return true;
  }

  bool prepare_in_chroot(std::string& error) override {
    if (remote_storage_) {
      // PostgreSQL: the schema is the storage process's; statements go over its link, which
      // the parent sends once both are up (until then the store answers unavailable).
      auto remote = std::make_unique<store::RemoteDatabase>();
      remote->set_violation_handler(
          [this](std::string_view reason) { runtime_->report_peer_violation(ipc::ROLE_STORAGE, reason); });
      remote_ = remote.get();
      store_ = std::make_unique<UserStore>(std::move(remote), "PostgreSQL");
    } else {
      store_ = UserStore::open(sqlite_file_, error);
    }
    if (store_ == nullptr) return false;
    // The store's writes of one loop turn are committed together, after the turn's events
    // and before the loop waits again.
    commit_event_.reset(event_new(base_, -1, 0, on_commit, this));
    store_->on_batch_opened([this] { event_active(commit_event_.get(), EV_TIMEOUT, 0); });
    if (!sigterm_.start(base_, [this] { on_sigterm(); }, error)) return false;
    if (!open_archive(error)) return false;
    muc_event_.reset(event_new(base_, -1, EV_PERSIST, on_muc_timer, this));
    timeval every = {kMucSweepSeconds, 0};
    event_add(muc_event_.get(), &every);
    return routing_.set_backends(&*auth_, store_.get(), &*s2s_, error);
  }

  void reconfigure(const ipc::Configure& configure) override {
    const ipc::RouterSettings& settings = configure.router();
    c2s_->configure(settings.hosts(), settings.tls(), settings.c2s());
    s2s_->set_limits(settings.s2s());
    std::vector<Routing::HostModules> hosts;
    for (const ipc::RouterSettings::HostModules& h : settings.host_modules()) {
      Routing::HostModules& host = hosts.emplace_back();
      host.name = h.host();
      host.modules.assign(h.modules().begin(), h.modules().end());
      host.admins.assign(h.admins().begin(), h.admins().end());
      for (const auto& contact : h.contact_info())
        host.contact_info.emplace_back(contact.field(),
                                       std::vector<std::string>(contact.addresses().begin(), contact.addresses().end()));
      if (h.has_push())
        host.push = PushOptions{h.push().with_body(), h.push().with_sender(), h.push().max_errors(),
                                h.push().max_devices()};
    }
    for (const ipc::RouterSettings::TurnService& t : settings.turn())
      for (Routing::HostModules& host : hosts)
        if (host.name == t.host()) host.turn = TurnOptions{t.secret(), t.turn_host(), t.port(), t.ttl(), t.tcp(), t.user(), t.tls_port()};
    std::set<std::string> components(settings.components().begin(), settings.components().end());
    for (const auto& muc : settings.muc()) components.insert(muc.domain());
    for (const auto& share : settings.file_share()) components.insert(share.domain());
    list_components(hosts, components);
    routing_.set_hosts(hosts, {settings.s2s_hosts().begin(), settings.s2s_hosts().end()});
    routing_.set_components(std::move(components));
    // Components connect under the clients' connection limits and stanza size limit.
    components_->configure({settings.components().begin(), settings.components().end()}, settings.c2s());
    // Before the MUC services and file shares: a domain made one of them is taken from its
    // external component's stream, which then ends.
    connected_components_.reconfigure(
        {settings.component_secret_tags().begin(), settings.component_secret_tags().end()});
    component_stanza_bytes_ = settings.c2s().max_stanza_bytes() != 0 ? settings.c2s().max_stanza_bytes() : 256 << 10;
    configure_muc(settings);
    configure_file_share(settings);
    anonymous_hosts_ = {settings.anonymous_hosts().begin(), settings.anonymous_hosts().end()};
    registration_hosts_ = {settings.registration_hosts().begin(), settings.registration_hosts().end()};
    if (settings.has_quotas()) {
      const auto& q = settings.quotas();
      routing_.set_quotas(UserQuotas{q.offline_messages(), q.offline_bytes(), q.pending_subscriptions(),
                                     q.roster_items(), q.directed_presences(), q.sessions(), q.pep_nodes(),
                                     q.pep_items(), q.pep_bytes(), q.private_bytes(), q.vcard_bytes(),
                                     q.blocklist_items(), q.archive_items(), q.archive_expires_after(),
                                     static_cast<int>(q.archive_policy()), q.archive_query_results(),
                                     q.archive_cleanup_interval()});
      if (archive_) archive_->set_max_per_user(q.archive_items());
      schedule_expiry();
    }
    if (settings.has_smacks()) {
      const auto& m = settings.smacks();
      routing_.smacks().configure(SmacksLimits{m.hibernation_time(), m.max_unacked_stanzas(), m.max_ack_delay(),
                                               m.max_hibernated_sessions(), m.max_queue_size()});
    }
    log::info("configuration generation %llu: %d hosts", static_cast<unsigned long long>(configure.generation()),
              settings.hosts_size());
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    if (peer == ipc::ROLE_TLS)
      c2s_->link_tls_helper(std::move(fd));
    else if (peer == ipc::ROLE_AUTH)
      auth_->link(std::move(fd));
    else if (peer == ipc::ROLE_S2S)
      s2s_->link(std::move(fd));
    else if (peer == ipc::ROLE_HTTP)
      http_->link(std::move(fd));
    else if (peer == ipc::ROLE_STORAGE && remote_ != nullptr)
      remote_->attach(std::move(fd));
    else
      ChildRole::add_peer_link(peer, std::move(fd));
  }

  void add_listener(const ipc::Listener& listener, UniqueFd fd) override {
    if (listener.kind() != ipc::Listener::KIND_COMPONENT) {
      c2s_->add_listener(listener, std::move(fd));
      return;
    }
    log::info("component on %s port %u", listener.address().c_str(), listener.port());
    components_->add_listener(std::move(fd));
  }

  void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) override {
    // xmppctl deluser, once the auth helper removed the credentials.
    control.on(ipc::ParentToChild::kUserRemoved, 0, [this](const ipc::ParentToChild& m, auto&) {
      const ipc::UserRemoved& removed = m.user_removed();
      auto username = xmpp::prepare_localpart(removed.username());
      if (!routing_.is_local(removed.host()) || !username || *username != removed.username()) {
        log::warning("the parent's UserRemoved names no local account: %s@%s", removed.username().c_str(),
                     removed.host().c_str());
        return;
      }
      log::notice("account %s@%s removed: its sessions end", removed.username().c_str(), removed.host().c_str());
      routing_.user_removed(removed.username() + "@" + removed.host());
    });
    // xmppctl show c2s, show components, show muc and kick (router/admin_report.h).
    control.on(ipc::ParentToChild::kAdminQuery, 0, [this](const ipc::ParentToChild& m, auto&) {
      timeval now;
      event_base_gettimeofday_cached(base_, &now);
      answer_admin_query(m.admin_query(), {routing_.sessions(), connected_components_, muc_, file_share_}, now.tv_sec,
                         [this](const ipc::ChildToParent& answer) { runtime_->send_to_parent(answer); });
    });
  }

 private:
  static constexpr time_t kMucSweepSeconds = 60;

  // Each component is listed in the disco#items of the host it is a subdomain of (the
  // longest such host), as Prosody lists a host's components.
  static void list_components(std::vector<Routing::HostModules>& hosts, const std::set<std::string>& components) {
    for (const std::string& domain : components) {
      Routing::HostModules* parent = nullptr;
      for (Routing::HostModules& h : hosts)
        if (domain.size() > h.name.size() && domain.ends_with("." + h.name) &&
            (parent == nullptr || h.name.size() > parent->name.size()))
          parent = &h;
      if (parent != nullptr) parent->components.push_back(domain);
    }
  }

  // Now and then: upload slots past every quota's window are deleted; rooms whose lock timed
  // out are destroyed, tombstones expire, and each MUC service's archived messages past its
  // muc_log_expires_after are deleted, a chunk a turn.
  static void on_muc_timer(evutil_socket_t, short, void* arg) {
    constexpr std::size_t kChunk = 500;
    auto* self = static_cast<Router*>(arg);
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (auto& [domain, service] : self->file_share_) service->sweep(now);
    for (auto& [domain, service] : self->muc_) {
      service->sweep();
      const muc::MucOptions& o = service->muc_options();
      if (!self->archive_ || !o.mam() || o.log_expires_after() == 0) continue;
      self->archive_->flush();
      std::int64_t deleted =
          self->archive_->expire(now - static_cast<std::int64_t>(o.log_expires_after()), kChunk, domain);
      if (deleted > 0) log::info("archive: %lld expired messages of %s deleted", static_cast<long long>(deleted), domain.c_str());
    }
  }

  // The file sharing services (router/file_share/), as the MUC services below.
  void configure_file_share(const ipc::RouterSettings& settings) {
    std::map<std::string, std::unique_ptr<FileShareService>> kept;
    for (const ipc::FileShareService& options : settings.file_share()) {
      auto it = file_share_.find(options.domain());
      std::unique_ptr<FileShareService> service;
      if (it != file_share_.end()) {
        service = std::move(it->second);
        service->configure(options, settings.slot_key());
      } else {
        service = std::make_unique<FileShareService>(routing_, options, settings.slot_key());
      }
      routing_.attach_component(options.domain(), service.get());
      kept.emplace(options.domain(), std::move(service));
    }
    for (const auto& [domain, service] : file_share_)
      if (service != nullptr && routing_.attached_component(domain) == service.get()) routing_.attach_component(domain, nullptr);
    file_share_ = std::move(kept);
  }

  // The MUC services (router/muc/): new ones made, removed ones dropped with their rooms,
  // the others given their new options.
  void configure_muc(const ipc::RouterSettings& settings) {
    std::map<std::string, std::unique_ptr<MucService>> kept;
    for (const ipc::RouterSettings::MucService& options : settings.muc()) {
      auto it = muc_.find(options.domain());
      std::unique_ptr<MucService> service;
      if (it != muc_.end()) {
        service = std::move(it->second);
        service->configure(options);
      } else {
        service = std::make_unique<MucService>(routing_, options);
      }
      routing_.attach_component(options.domain(), service.get());
      kept.emplace(options.domain(), std::move(service));
    }
    // A service no longer configured is detached before it goes: its domain may still be a
    // component's (an external one now), which must not reach a freed service.
    for (const auto& [domain, service] : muc_)
      if (service != nullptr && routing_.attached_component(domain) == service.get()) routing_.attach_component(domain, nullptr);
    muc_ = std::move(kept);
  }

  // The archive's rows gathered in the turn go into the user store's batch, which is then
  // committed: one commit (one fsync, or one round trip to PostgreSQL) for both.
  static void on_commit(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<Router*>(arg);
    if (self->archive_) self->archive_->flush();
    self->store_->commit();
  }

  // The message archive (router/archive_store.h), on the user store's database: its tables
  // are in the same schema (store/schema.cc), its writes in the same batches.
  bool open_archive(std::string&) {
    archive_.emplace(store_->database(), routing_.quotas().archive_items);
    archive_->run_transactions_with([this](const std::function<bool()>& body) {
      return store_->atomically("cannot archive", [&] {
        return body() ? UserStore::Outcome::kStored : UserStore::Outcome::kFailed;
      }) == UserStore::Outcome::kStored;
    });
    archive_->on_pending([this] { event_active(commit_event_.get(), EV_TIMEOUT, 0); });
    routing_.set_archive(&*archive_);
    expiry_event_.reset(evtimer_new(base_, on_expiry, this));
    schedule_expiry();
    return true;
  }

  // archive_expires_after: a chunk of expired messages per loop turn until none are left,
  // then again after archive_cleanup_interval, so that the router never stalls on a large
  // deletion.
  void schedule_expiry(bool again_soon = false) {
    if (!expiry_event_) return;
    const UserQuotas& q = routing_.quotas();
    if (q.archive_expires_after == 0) {
      evtimer_del(expiry_event_.get());
      return;
    }
    timeval in = {again_soon ? 0 : static_cast<time_t>(std::max<std::size_t>(1, q.archive_cleanup_interval)), 0};
    evtimer_add(expiry_event_.get(), &in);
  }
  static void on_expiry(evutil_socket_t, short, void* arg) {
    constexpr std::size_t kChunk = 500;
    auto* self = static_cast<Router*>(arg);
    self->archive_->flush();
    const auto before = static_cast<std::int64_t>(std::time(nullptr)) -
                        static_cast<std::int64_t>(self->routing_.quotas().archive_expires_after);
    std::int64_t deleted = self->archive_->expire(before, kChunk);
    if (deleted > 0) log::info("archive: %lld expired messages deleted", static_cast<long long>(deleted));
    self->schedule_expiry(deleted == static_cast<std::int64_t>(kChunk));
  }

  // SIGTERM (the parent stopping the service) ends the loop after the turn under way, so that
  // its batch is committed rather than lost.
  void on_sigterm() {
    log::info("SIGTERM: committing the user store and exiting");
    if (archive_) archive_->flush();
    store_->commit();
    event_base_loopexit(base_, nullptr);
  }

  struct event_base* base_ = nullptr;
  ipc::EventPtr commit_event_;
  ipc::EventPtr expiry_event_;
  ipc::EventPtr muc_event_;
  runtime::SigtermWatch sigterm_;
  // Declared before c2s_: streams refer to them and go first.
  std::unique_ptr<UserStore> store_;
  store::RemoteDatabase* remote_ = nullptr;  // store_'s database with PostgreSQL, else null
  bool remote_storage_ = false;
  std::string sqlite_file_ = "user.sqlite";
  std::optional<ArchiveStore> archive_;  // on store_'s database, in its batches
  Routing routing_;
  std::optional<AuthLink> auth_;
  std::optional<S2sLink> s2s_;
  std::map<std::string, std::unique_ptr<MucService>> muc_;  // by domain
  std::map<std::string, std::unique_ptr<FileShareService>> file_share_;  // by domain
  std::set<std::string> anonymous_hosts_;
  std::set<std::string> registration_hosts_;
  std::optional<stream::Service> c2s_;
  std::optional<HttpLink> http_;  // after c2s_, into which it hands clients
  tls::ServerContexts no_tls_{""};  // XEP-0114 streams have no TLS: an empty set of certificates
  std::size_t component_stanza_bytes_ = 256 << 10;  // c2s_stanza_size_limit
  ConnectedComponents connected_components_;  // before components_: its streams refer to it
  std::optional<stream::Sessions> components_;  // after routing_ and auth_, which they use
};

}  // namespace xmppd::router

int main() {
  xmppd::router::Router router;
  return xmppd::runtime::ChildRuntime(router).run();
}
