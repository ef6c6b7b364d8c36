#include "daemon/parent.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "build_config.h"
#include "common/log.h"
#include "daemon/component_tags.h"
#include "daemon/credentials.h"
#include "daemon/http_settings.h"
#include "daemon/log_outputs.h"
#include "daemon/process_status.h"
#include "daemon/router_settings.h"
#include "daemon/service_notify.h"

namespace xmppd::parent {
namespace {

using namespace std::chrono_literals;

// The storage process comes before the router, which needs its link for every stanza that
// touches the store; it is started only when the router's data is in PostgreSQL (wanted()).
// The HTTP process comes last (its links are to the tls helper and the router), and only when
// an HTTP service is configured.
constexpr std::array kRoles = {ipc::ROLE_TLS,     ipc::ROLE_AUTH,   ipc::ROLE_S2S,
                               ipc::ROLE_STORAGE, ipc::ROLE_ROUTER, ipc::ROLE_HTTP};
// As xmppctl status lists them.
constexpr std::array kStatusOrder = {ipc::ROLE_ROUTER, ipc::ROLE_S2S,     ipc::ROLE_TLS,
                                     ipc::ROLE_AUTH,   ipc::ROLE_STORAGE, ipc::ROLE_HTTP};
constexpr auto kStopGrace = 5s;
// PBKDF2 rounds for new SCRAM credentials: Prosody's count, over RFC 7677's minimum of 4096.
constexpr unsigned kScramIterations = 10000;

struct RoleBinary {
  ipc::Role role;
  const char* build_subdir;
  const char* name;
};
constexpr RoleBinary kBinaries[] = {
    {ipc::ROLE_ROUTER, "router", "xmppd-router"},
    {ipc::ROLE_S2S, "s2s-worker", "xmppd-s2s"},
    {ipc::ROLE_TLS, "tls-helper", "xmppd-tls"},
    {ipc::ROLE_AUTH, "auth-helper", "xmppd-auth"},
    {ipc::ROLE_STORAGE, "storage", "xmppd-storage"},
    {ipc::ROLE_HTTP, "http", "xmppd-http"},
};

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// The connection limits and Prosody's `limits` entry of one service (stream/sessions.cc).
void set_connection_limits(const config::Settings& settings, const config::ByteRate& rate, ipc::StreamLimits& out) {
  out.set_max_connections_per_address(static_cast<unsigned>(settings.max_connections_per_address));
  out.set_max_unauthenticated_per_address(static_cast<unsigned>(settings.max_unauthenticated_per_address));
  out.set_max_connections(static_cast<unsigned>(settings.max_connections));
  out.mutable_rate()->set_bytes_per_second(rate.bytes_per_second);
  out.mutable_rate()->set_burst_seconds(rate.burst_seconds);
}

ipc::S2sHostPolicy s2s_policy(const config::HostSettings& host) {
  ipc::S2sHostPolicy policy;
  // An anonymous host without allow_anonymous_s2s is closed to other servers both ways,
  // as the router sees it (RouterSettings.s2s_hosts).
  policy.set_enabled(host.module_enabled("s2s") && (host.authentication != "anonymous" || host.allow_anonymous_s2s));
  policy.set_secure_auth(host.s2s_secure_auth);
  for (const std::string& d : host.s2s_secure_domains) policy.add_secure_domains(d);
  for (const std::string& d : host.s2s_insecure_domains) policy.add_insecure_domains(d);
  policy.set_timeout_seconds(static_cast<std::uint32_t>(host.s2s_timeout));
  policy.set_dialback_without_dialback(host.dialback_without_dialback);
  for (const std::string& d : host.s2s_blacklist) policy.add_blacklist(d);
  for (const std::string& d : host.s2s_whitelist) policy.add_whitelist(d);
  policy.set_peer_stanza_size_limit(static_cast<std::uint32_t>(host.s2s_peer_stanza_size_limit));
  for (const auto& [domain, bytes] : host.s2s_peer_stanza_size_limits)
    (*policy.mutable_peer_stanza_size_limits())[domain] = static_cast<std::uint32_t>(bytes);
  policy.set_use_dane(host.use_dane);
  policy.set_bidi(host.module_enabled("s2s_bidi"));
  policy.set_stream_management(host.smacks_enabled_s2s);
  return policy;
}

ipc::DnsOptions dns_options(const config::DnsSettings& dns) {
  ipc::DnsOptions options;
  options.set_resolvconf(dns.resolvconf);
  options.set_hosts(dns.hosts);
  options.set_trust_anchor(dns.trust_anchor);
  for (const std::string& f : dns.forwarders) options.add_forwarders(f);
  for (const std::string& z : dns.transparent_zones) options.add_transparent_zones(z);
  return options;
}

// As the log names a request: "xmppctl: adding account alice@b.test".
const char* account_verb(ipc::AccountRequest::Operation operation) {
  switch (operation) {
    case ipc::AccountRequest::OPERATION_ADD:
      return "adding account";
    case ipc::AccountRequest::OPERATION_PASSWD:
      return "changing the password of";
    case ipc::AccountRequest::OPERATION_DELETE:
      return "deleting account";
    default:
      return "unknown operation on account";
  }
}

std::uint64_t seconds_since(std::chrono::steady_clock::time_point then) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - then).count());
}

// The log sinks of `settings`, opened anew (a file logrotate moved away is made again) and put
// in force; when one cannot be opened, the sinks in force are kept and the reason is logged and
// returned ("reload: log: PATH: not a regular file; the log sinks in force stay").
std::optional<std::string> reopen_log(const config::Settings& settings, const Options& options) {
  std::vector<log::Output> outputs;
  std::string error;
  if (!open_log_outputs(settings, options.foreground, options.verbosity, outputs, error)) {
    std::string refused = "reload: log: " + error + "; the log sinks in force stay";
    log::error("%s", refused.c_str());
    return refused;
  }
  log::set_outputs(std::move(outputs));
  log::set_verbosity(log_verbosity(settings, options.verbosity));
  return std::nullopt;
}

size_t role_index(ipc::Role role) {
  for (size_t i = 0; i < kRoles.size(); ++i)
    if (kRoles[i] == role) return i;
  log::fatal("no such role %d", static_cast<int>(role));
}

}  // namespace

std::uint64_t child_memory_limit(ipc::Role role, const config::Settings& settings) {
  // AddressSanitizer and its kin reserve terabytes of address space for their shadow memory.
  if (XMPPD_SANITIZED) return 0;
  constexpr std::uint64_t MiB = 1024 * 1024;
  if (settings.child_memory_limit > 0) return settings.child_memory_limit * MiB;
  // Each several times what it reserves when busy (docs/design.md, "Resource limits"):
  // the router and the s2s worker grow with users and peers; the helpers hold no state per user.
  switch (role) {
    case ipc::ROLE_ROUTER: return 4096 * MiB;
    case ipc::ROLE_S2S: return 2048 * MiB;
    case ipc::ROLE_TLS: return 1024 * MiB;
    case ipc::ROLE_AUTH: return 1024 * MiB;
    case ipc::ROLE_STORAGE: return 1024 * MiB;  // one connection; an answer of rows at a time
    case ipc::ROLE_HTTP: return 2048 * MiB;     // request bodies up to http_max_content_size each
    default: return 0;
  }
}

// A parent running from a build tree (daemon/xmppd) finds its children in the sibling
// folders of that tree; an installed one in the libexec directory.
std::string child_binary(ipc::Role role) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  for (const RoleBinary& b : kBinaries) {
    if (b.role != role) continue;
    if (!ec && self.parent_path().filename() == "daemon") {
      std::filesystem::path built = self.parent_path().parent_path() / b.build_subdir / b.name;
      if (std::filesystem::exists(built, ec)) return built.string();
    }
    return std::string(XMPPD_LIBEXECDIR) + "/" + b.name;
  }
  return {};
}

Parent::Parent(Options options, config::Settings settings, S2sTrust trust, RolePrivsep privsep,
               std::vector<ListenSocket> listeners)
    : options_(std::move(options)), settings_(std::move(settings)), trust_(std::move(trust)),
      privsep_(std::move(privsep)), serves_http_(settings_.serves_http()),
      listeners_(std::move(listeners)), base_(event_base_new()), dialback_(settings_.dialback_secret) {
  if (base_ == nullptr) log::fatal("cannot create the event loop");
  // Armed when an epoch begins (epoch_began), the first time at the worker's first start.
  epoch_timer_.reset(event_new(base_, -1, 0, on_new_epoch, this));
  if (!epoch_timer_) log::fatal("cannot create the dialback epoch timer");
  for (ipc::Role role : kRoles) {
    children_.push_back(std::make_unique<ChildProcess>(base_, role, child_binary(role), *this));
    auto timer = std::make_unique<RestartTimer>(RestartTimer{this, role, nullptr});
    timer->event.reset(event_new(base_, -1, 0, on_restart, timer.get()));
    restart_timers_.push_back(std::move(timer));
  }
}

Parent::~Parent() {
  children_.clear();
  restart_timers_.clear();
  signal_events_.clear();
  stop_timer_.reset();
  epoch_timer_.reset();
  event_base_free(base_);
}

ChildProcess& Parent::child(ipc::Role role) { return *children_[role_index(role)]; }

ipc::Configure Parent::configure_for(ipc::Role role) const {
  ipc::Configure c;
  c.set_role(role);
  c.set_generation(generation_);
  c.set_verbosity(static_cast<unsigned>(log_verbosity(settings_, options_.verbosity)));
  *c.mutable_privsep() = privsep_.of(role);
  switch (role) {
    case ipc::ROLE_ROUTER:
      c.mutable_router()->mutable_c2s()->set_require_encryption(settings_.global.c2s_require_encryption);
      c.mutable_router()->mutable_c2s()->set_max_stanza_bytes(settings_.global.c2s_stanza_size_limit);
      c.mutable_router()->mutable_s2s()->set_max_stanza_bytes(settings_.global.s2s_stanza_size_limit);
      set_connection_limits(settings_, settings_.limits_c2s, *c.mutable_router()->mutable_c2s());
      c.mutable_router()->mutable_c2s()->set_negotiation_seconds(static_cast<unsigned>(settings_.c2s_timeout));
      for (const std::string& jid : settings_.unlimited_jids) c.mutable_router()->mutable_c2s()->add_unlimited_jids(jid);
      for (const auto& host : settings_.hosts) {
        if (!host.enabled) continue;
        c.mutable_router()->add_hosts(host.name);
        *c.mutable_router()->add_tls() = host_tls(host.name, host.c2s_ssl);
        ipc::StreamLimits& limits = (*c.mutable_router()->mutable_c2s()->mutable_per_host())[host.name];
        limits.set_require_encryption(host.c2s_require_encryption);
        limits.set_max_stanza_bytes(host.c2s_stanza_size_limit);
        (*c.mutable_router()->mutable_s2s()->mutable_per_host())[host.name].set_max_stanza_bytes(
            host.s2s_stanza_size_limit);
        if (host.authentication == "anonymous") c.mutable_router()->add_anonymous_hosts(host.name);
        if (host.allow_registration && host.authentication != "anonymous")
          c.mutable_router()->add_registration_hosts(host.name);
        *c.mutable_router()->add_host_modules() = host_modules(host);
        if (auto turn = turn_service(host)) *c.mutable_router()->add_turn() = *turn;
        if (host.module_enabled("s2s") && (host.authentication != "anonymous" || host.allow_anonymous_s2s))
          c.mutable_router()->add_s2s_hosts(host.name);
      }
      *c.mutable_router()->mutable_quotas() = user_quotas(settings_.quotas);
      c.mutable_router()->set_remote_storage(settings_.uses_postgres());
      c.mutable_router()->set_sqlite_file(settings_.sqlite_file());
      *c.mutable_router()->mutable_smacks() = smacks_settings(settings_.smacks);
      c.mutable_router()->set_slot_key(slot_key());
      for (const auto& component : settings_.components) {
        if (!component.enabled) continue;
        if (component.component_module == "muc")
          *c.mutable_router()->add_muc() = muc_service(component, settings_);
        else if (component.component_module == "http_file_share")
          *c.mutable_router()->add_file_share() = file_share_service(component, settings_);
        else {
          c.mutable_router()->add_components(component.name);
          (*c.mutable_router()->mutable_component_secret_tags())[component.name] =
              component_secret_tag(component.component_secret);
        }
        if (component.module_enabled("s2s")) c.mutable_router()->add_s2s_hosts(component.name);
      }
      break;
    case ipc::ROLE_S2S:
      c.mutable_s2s()->mutable_s2s()->set_require_encryption(settings_.global.s2s_require_encryption);
      c.mutable_s2s()->mutable_s2s()->set_max_stanza_bytes(settings_.global.s2s_stanza_size_limit);
      set_connection_limits(settings_, settings_.limits_s2sin, *c.mutable_s2s()->mutable_s2s());
      c.mutable_s2s()->mutable_s2s()->mutable_outbound_rate()->set_bytes_per_second(
          settings_.limits_s2sout.bytes_per_second);
      c.mutable_s2s()->mutable_s2s()->mutable_outbound_rate()->set_burst_seconds(settings_.limits_s2sout.burst_seconds);
      for (const config::HostSettings& host : settings_.federating()) {
        if (!host.enabled) continue;
        c.mutable_s2s()->add_hosts(host.name);
        ipc::StreamLimits& limits = (*c.mutable_s2s()->mutable_s2s()->mutable_per_host())[host.name];
        limits.set_require_encryption(host.s2s_require_encryption);
        limits.set_max_stanza_bytes(host.s2s_stanza_size_limit);
        ipc::HostTls* tls = c.mutable_s2s()->add_tls();
        *tls = host_tls(host.name, host.s2s_ssl);
        if (auto it = trust_.store_of_host.find(host.name); it != trust_.store_of_host.end())
          tls->set_trust_store(it->second);
        (*c.mutable_s2s()->mutable_policy())[host.name] = s2s_policy(host);
      }
      for (const ipc::TrustStore& store : trust_.stores) *c.mutable_s2s()->add_trust_stores() = store;
      c.mutable_s2s()->set_allow_private_addresses(settings_.s2s_allow_private_addresses);
      c.mutable_s2s()->set_max_concurrent_connects(static_cast<std::uint32_t>(settings_.s2s_max_concurrent_connects));
      *c.mutable_s2s()->mutable_dns() = dns_options(settings_.dns);
      break;
    case ipc::ROLE_TLS:
      c.mutable_tls();  // the credentials: start_tls_helper and reconfigure_tls_helper
      break;
    case ipc::ROLE_AUTH:
      c.mutable_auth()->set_scram_iterations(kScramIterations);
      for (const auto& host : settings_.hosts)
        if (host.enabled && host.authentication == "anonymous") c.mutable_auth()->add_anonymous_hosts(host.name);
      for (const auto& host : settings_.hosts)
        if (host.enabled && host.allow_registration && host.authentication != "anonymous")
          c.mutable_auth()->add_registration_hosts(host.name);
      // The external components' secrets: to the auth helper alone, which checks handshakes.
      for (const auto& component : settings_.components) {
        if (!component.enabled || !component.component_module.empty()) continue;
        ipc::AuthSettings::ComponentSecret& secret = *c.mutable_auth()->add_components();
        secret.set_domain(component.name);
        secret.set_secret(component.component_secret);
        secret.set_secret_tag(component_secret_tag(component.component_secret));
      }
      break;
    case ipc::ROLE_STORAGE: {
      // The password: to this process alone (no other Configure has a field for it).
      ipc::StorageSettings& s = *c.mutable_storage();
      s.set_host(settings_.sql.host);
      s.set_port(static_cast<std::uint32_t>(settings_.sql.port));
      s.set_database(settings_.sql.database);
      s.set_username(settings_.sql.username);
      s.set_password(settings_.sql.password);
      s.set_manage_tables(settings_.sql.manage_tables);
      break;
    }
    case ipc::ROLE_HTTP:
      *c.mutable_http() = http_settings(settings_);
      break;
    default:
      break;
  }
  return c;
}

bool Parent::wanted(ipc::Role role) const {
  if (role == ipc::ROLE_STORAGE) return settings_.uses_postgres();
  if (role == ipc::ROLE_HTTP) return serves_http_;
  return true;
}

void Parent::start(ChildProcess& c) {
  if (stopping_ || !wanted(c.role())) return;
  if (c.role() == ipc::ROLE_TLS) {
    start_tls_helper(c);
    return;
  }
  if (!c.spawn(configure_for(c.role()), child_memory_limit(c.role(), settings_))) {
    schedule_restart(c.role(), 1s);
    return;
  }
  // A new worker, a new epoch: keys a compromised predecessor read stop working one epoch
  // later. Sent before the listeners, so that no stream comes before the keys.
  if (c.role() == ipc::ROLE_S2S) {
    dialback_.advance();
    epoch_began();
  }
  send_listeners(c);
}

void Parent::send_dialback_keys() {
  ChildProcess& s2s = child(ipc::ROLE_S2S);
  if (!s2s.running()) return;
  ipc::ParentToChild message;
  *message.mutable_dialback_keys() = dialback_.keys();
  s2s.send(message);
}

// Whatever began the epoch, the daily one is due a day from now (DialbackEpochs::next_epoch_in):
// a fixed daily time would follow a worker's restart within seconds now and then, and retire
// the keys handed out just before the restart.
void Parent::epoch_began() {
  send_dialback_keys();
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(dialback_.next_epoch_in(std::chrono::steady_clock::now()));
  const timeval tv = to_timeval(wait);
  if (event_add(epoch_timer_.get(), &tv) != 0) log::fatal("cannot arm the dialback epoch timer");
  log::info("dialback: epoch %llu begins", static_cast<unsigned long long>(dialback_.epoch()));
}

// A worker that is not running gets a new epoch when it starts: advancing now as well would
// retire the keys its predecessor handed out one epoch early. Its start arms the timer again.
void Parent::on_new_epoch(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Parent*>(arg);
  if (!self->child(ipc::ROLE_S2S).running()) return;
  self->dialback_.advance();
  self->epoch_began();
}

// The tls helper's Configure names the credential files; the files follow as descriptors,
// then the order to load them.
void Parent::start_tls_helper(ChildProcess& tls) {
  OpenCredentials credentials = open_credentials(settings_);
  ipc::Configure configure = configure_for(ipc::ROLE_TLS);
  *configure.mutable_tls() = credentials.settings;
  if (!tls.spawn(configure, child_memory_limit(ipc::ROLE_TLS, settings_))) {
    schedule_restart(ipc::ROLE_TLS, 1s);
    return;
  }
  send_credentials(tls, credentials);
}

std::vector<std::string> Parent::reconfigure_tls_helper(ChildProcess& tls) {
  OpenCredentials credentials = open_credentials(settings_);
  ipc::ParentToChild message;
  *message.mutable_configure() = configure_for(ipc::ROLE_TLS);
  *message.mutable_configure()->mutable_tls() = credentials.settings;
  tls.send(message);
  send_credentials(tls, credentials);
  return credentials.errors;
}

void Parent::send_credentials(ChildProcess& tls, const OpenCredentials& credentials) {
  for (const auto& w : credentials.warnings) log::warning("%s", w.c_str());
  for (const auto& e : credentials.errors) log::error("%s", e.c_str());
  for (const auto& [path, fd] : credentials.files) {
    ipc::ParentToChild message;
    message.mutable_credential_file()->set_path(path);
    int raw = fd.get();
    tls.send(message, std::span(&raw, 1));
  }
  ipc::ParentToChild load;
  load.mutable_load_credentials()->set_generation(generation_);
  if (tls.send(load)) credentials_asked_ = generation_;
}

void Parent::account_result(const ipc::AccountResult& result) {
  ChildProcess& auth = child(ipc::ROLE_AUTH);
  AdminQueries::Refusal refusal;
  std::optional<AdminQueries::Delivery> delivery = admin_queries_.check_account(auth.role(), result, refusal);
  if (!delivery && refusal.violation) return broke_protocol(auth, refusal.why);
  if (!delivery) {
    late_answer(auth, refusal.why);  // the account was changed all the same: on to the router
  } else if (delivery->client != AdminQueries::kNobody && admin_) {
    ipc::AdminResponse response;
    *response.mutable_account() = result;
    if (!admin_->respond(delivery->client, response)) undeliverable(delivery->client);
  }
  auto it = deletions_.find(result.id());
  if (it == deletions_.end()) return;
  ipc::UserRemoved removed = std::move(it->second);
  deletions_.erase(it);
  if (!result.ok()) return;
  // The router ends the account's sessions and forgets its data; a router that is not
  // running now is told once it is back, so that a new account of the name starts empty.
  ipc::ParentToChild message;
  *message.mutable_user_removed() = removed;
  ChildProcess& router = child(ipc::ROLE_ROUTER);
  if (router.ready() && router.send(message)) return;
  if (removals_for_router_.size() >= kMaxDeletions) {
    log::error("too many account removals wait for the router; the data of %s@%s stays",
               removed.username().c_str(), removed.host().c_str());
    return;
  }
  log::notice("account %s@%s removed; the router is told when it is back", removed.username().c_str(),
              removed.host().c_str());
  removals_for_router_.push_back(std::move(removed));
}

void Parent::credentials_loaded(const ipc::CredentialsLoaded& result) {
  for (auto& [client, reload] : admin_queries_.credentials_loaded(result.generation())) {
    for (const auto& w : result.warnings()) reload.add_warnings(w);
    for (const auto& e : result.errors()) reload.add_certificate_errors(e);
    reload.set_certificates_loaded(reload.certificate_errors().empty());
    ipc::AdminResponse response;
    *response.mutable_reload() = std::move(reload);
    if (client != AdminQueries::kNobody && admin_ && !admin_->respond(client, response)) undeliverable(client);
  }
  for (const auto& w : result.warnings()) log::warning("tls: %s", w.c_str());
  if (result.errors().empty()) {
    credentials_accepted_ = true;
    return;
  }
  for (const auto& e : result.errors()) log::error("tls: %s", e.c_str());
  if (credentials_accepted_) {
    log::error("certificates and keys of generation %llu refused; the ones in force stay",
               static_cast<unsigned long long>(result.generation()));
    return;
  }
  log::error("cannot start without usable certificates and keys");
  exit_code_ = 1;
  stop();
}

void Parent::send_listeners(ChildProcess& c) {
  for (const ListenSocket& l : listeners_) {
    if (l.owner() != c.role()) continue;
    ipc::ParentToChild message;
    *message.mutable_listener() = l.description;
    int fd = l.fd.get();
    c.send(message, std::span(&fd, 1));
  }
}

void Parent::child_ready(ChildProcess& c) {
  log::info("%s (pid %d) is ready", c.name(), c.pid());
  connect_links(c.role());
  if (std::all_of(children_.begin(), children_.end(),
                  [this](const auto& child) { return child->ready() || !wanted(child->role()); }))
    service_notify::ready();
  if (c.role() != ipc::ROLE_ROUTER) return;
  std::size_t sent = 0;
  for (; sent < removals_for_router_.size(); ++sent) {
    ipc::ParentToChild message;
    *message.mutable_user_removed() = removals_for_router_[sent];
    if (!c.send(message)) break;  // gone again: the rest wait for its next start
  }
  removals_for_router_.erase(removals_for_router_.begin(), removals_for_router_.begin() + sent);
}

void Parent::connect_links(ipc::Role role) {
  for (ChildLinks::Link& link : links_.all()) {
    if (link.a != role && link.b != role) continue;
    ChildProcess& a = child(link.a);
    ChildProcess& b = child(link.b);
    if (!a.ready() || !b.ready()) continue;
    if (link.incarnation_a == a.incarnation() && link.incarnation_b == b.incarnation()) continue;
    UniqueFd end_a, end_b;
    if (!ipc::make_seqpacket_pair(1 << 20, end_a, end_b)) {
      log::error("socketpair for %s-%s: %s", a.name(), b.name(), std::strerror(errno));
      continue;
    }
    ipc::ParentToChild to_a, to_b;
    to_a.mutable_peer_link()->set_peer(link.b);
    to_b.mutable_peer_link()->set_peer(link.a);
    int fd_a = end_a.get(), fd_b = end_b.get();
    if (a.send(to_a, std::span(&fd_a, 1)) && b.send(to_b, std::span(&fd_b, 1))) {
      link.incarnation_a = a.incarnation();
      link.incarnation_b = b.incarnation();
      log::info("linked %s and %s", a.name(), b.name());
    }
  }
}

// The report is a compromised child's word as much as an honest one's: it may name only a
// peer it is linked with, and a report that names anything else is the reporter's own fault.
void Parent::child_reports_violation(ChildProcess& reporter, int peer, const std::string& reason) {
  std::optional<ipc::Role> accused = links_.accusable(reporter.role(), peer);
  if (!accused) {
    log::error("%s (pid %d) reported a violation by %d, which is not a peer of its; killing it", reporter.name(),
               reporter.pid(), peer);
    reporter.signal(SIGKILL);
    return;
  }
  ChildProcess& offender = child(*accused);
  log::error("%s reports that %s (pid %d) broke their link's protocol: %s; restarting %s", reporter.name(),
             offender.name(), offender.pid(), loggable(reason).c_str(), offender.name());
  offender.signal(SIGKILL);
}

void Parent::schedule_restart(ipc::Role role, std::chrono::milliseconds delay) {
  timeval tv = to_timeval(delay);
  event_add(restart_timers_[role_index(role)]->event.get(), &tv);
}

void Parent::on_restart(evutil_socket_t, short, void* arg) {
  auto* timer = static_cast<RestartTimer*>(arg);
  ChildProcess& c = timer->parent->child(timer->role);
  log::notice("restarting %s", c.name());
  timer->parent->start(c);
}

void Parent::reap() {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (auto& c : children_) {
      if (c->pid() != pid) continue;
      auto delay = c->reaped(status, stopping_);
      questions_unanswered(admin_queries_.child_gone(c->role()),
                           std::string(c->name()) + " stopped before it answered; try again");
      if (!stopping_) schedule_restart(c->role(), delay);
    }
  }
  if (stopping_) {
    for (auto& c : children_)
      if (c->running()) return;
    event_base_loopexit(base_, nullptr);
  }
}

// An invalid new configuration changes nothing: the old one stays in force. SIGHUP and
// xmppctl reload both come here; the result says which it was and why.
ipc::ReloadResult Parent::reload() {
  service_notify::ReloadScope reloading;
  ipc::ReloadResult result;
  std::vector<config::Diagnostic> diags;
  std::optional<config::Settings> next = config::load_file(options_.config_file, diags);
  for (const auto& d : diags) {
    const bool error = d.severity == config::Diagnostic::Severity::kError;
    (error ? log::error : log::warning)("%s", d.str().c_str());
    (error ? result.add_errors(d.str()) : result.add_warnings(d.str()));
  }
  S2sTrust trust;
  std::vector<std::string> warnings;
  std::string error;
  if (next && !load_s2s_trust(*next, trust, warnings, error)) {
    log::error("%s", error.c_str());
    result.add_errors(error);
    next.reset();
  }
  result.set_generation(generation_);
  if (!next) {
    // logrotate sends SIGHUP whatever the file says
    if (auto refused = reopen_log(settings_, options_)) result.add_warnings(*refused);
    log::error("reload: %s has errors; the new configuration is not taken, keeping the configuration in force",
               options_.config_file.c_str());
    if (result.errors().empty()) result.add_errors(options_.config_file + ": cannot be read");
    return result;
  }
  for (const auto& w : warnings) {
    log::warning("%s", w.c_str());
    result.add_warnings(w);
  }
  if (next->data_path != settings_.data_path || next->xmppd_user != settings_.xmppd_user ||
      next->tls_helper_user != settings_.tls_helper_user || next->auth_helper_user != settings_.auth_helper_user ||
      next->storage_user != settings_.storage_user || next->storage != settings_.storage || next->sql != settings_.sql ||
      next->c2s_ports != settings_.c2s_ports || next->s2s_ports != settings_.s2s_ports ||
      next->c2s_direct_tls_ports != settings_.c2s_direct_tls_ports ||
      next->s2s_direct_tls_ports != settings_.s2s_direct_tls_ports ||
      next->c2s_interfaces != settings_.c2s_interfaces || next->s2s_interfaces != settings_.s2s_interfaces ||
      next->serves_http() != serves_http_ || next->http_user != settings_.http_user ||
      (serves_http_ && (next->http.http_ports != settings_.http.http_ports ||
                        next->http.https_ports != settings_.http.https_ports ||
                        next->http.http_interfaces != settings_.http.http_interfaces ||
                        next->http.https_interfaces != settings_.http.https_interfaces)) ||
      next->has_external_components() != settings_.has_external_components() ||
      (next->has_external_components() && (next->component_ports != settings_.component_ports ||
                                           next->component_interfaces != settings_.component_interfaces))) {
    const char* later =
        "reload: changes to users, data_path, storage, sql, ports and interfaces take effect when xmppd is restarted";
    log::warning("%s", later);
    result.add_warnings(later);
  }
  // Users, directories and sockets stay as resolved and bound at start-up (privsep_,
  // listeners_); everything else is taken from the new file.
  std::vector<config::LogSink> log_in_force = settings_.log;
  std::string facility_in_force = settings_.syslog_facility;
  // The storage backend stays as started (privsep_ and the storage process were made for it).
  std::string storage_in_force = settings_.storage, storage_user_in_force = settings_.storage_user;
  config::SqlSettings sql_in_force = settings_.sql;
  settings_ = std::move(*next);
  settings_.storage = std::move(storage_in_force);
  settings_.storage_user = std::move(storage_user_in_force);
  settings_.sql = std::move(sql_in_force);
  trust_ = std::move(trust);
  // A sink that cannot be opened leaves those in force, opened anew all the same (logrotate
  // moved their files away before this SIGHUP); the rest of the file is still taken, and the
  // answer says which sink was refused.
  if (auto refused = reopen_log(settings_, options_)) {
    result.add_warnings(*refused);
    settings_.log = std::move(log_in_force);
    settings_.syslog_facility = std::move(facility_in_force);
    if (auto again = reopen_log(settings_, options_)) result.add_warnings(*again);
  }
  ++generation_;
  if (dialback_.reconfigure(settings_.dialback_secret)) epoch_began();
  for (auto& c : children_) {
    if (!c->running()) continue;
    if (c->role() == ipc::ROLE_TLS) {
      for (std::string& e : reconfigure_tls_helper(*c)) result.add_certificate_errors(std::move(e));
      continue;
    }
    ipc::ParentToChild message;
    *message.mutable_configure() = configure_for(c->role());
    c->send(message);
  }
  log::notice("reloaded %s: the new configuration is taken (generation %llu)", options_.config_file.c_str(),
              static_cast<unsigned long long>(generation_));
  result.set_taken(true);
  result.set_generation(generation_);
  return result;
}

void Parent::stop() {
  if (stopping_) return;
  stopping_ = true;
  service_notify::stopping();
  log::notice("stopping");
  for (auto& timer : restart_timers_) event_del(timer->event.get());
  bool any = false;
  for (auto& c : children_) {
    if (!c->running()) continue;
    c->stop();
    any = true;
  }
  if (!any) {
    event_base_loopexit(base_, nullptr);
    return;
  }
  stop_timer_.reset(evtimer_new(base_, on_stop_timeout, this));
  timeval tv = to_timeval(std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
  event_add(stop_timer_.get(), &tv);
}

void Parent::on_stop_timeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Parent*>(arg);
  for (auto& c : self->children_) {
    if (!c->running()) continue;
    log::warning("%s (pid %d) did not stop in time; killing it", c->name(), c->pid());
    c->signal(SIGKILL);
  }
}

void Parent::on_signal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Parent*>(arg);
  switch (sig) {
    case SIGCHLD: self->reap(); break;
    case SIGHUP: self->reload(); break;  // the outcome is in the log
    default: self->stop(); break;
  }
}

// ---- xmppctl ------------------------------------------------------------------------------

void Parent::admin_error(AdminSocket::ClientId client, const std::string& error) {
  if (client == AdminQueries::kNobody || !admin_) return;
  ipc::AdminResponse response;
  response.mutable_done()->set_error(error);
  admin_->respond(client, response);
}

void Parent::undeliverable(AdminSocket::ClientId client) {
  log::warning("xmppctl: an answer could not be passed on (too large, or the client stopped reading)");
  admin_queries_.client_gone(client);  // the rest of a paged answer goes to nobody
  ipc::AdminResponse response;
  response.mutable_done()->set_error("the server could not pass its answer on; see its log");
  if (!admin_->respond(client, response)) admin_->close(client);
}

void Parent::broke_protocol(ChildProcess& c, const std::string& why) {
  log::error("%s (pid %d) sent %s; it broke the control protocol: killing it", c.name(), c.pid(), why.c_str());
  c.signal(SIGKILL);  // reap() answers its open questions and restarts it
}

void Parent::late_answer(const ChildProcess& c, const std::string& why) {
  if (auto line = late_answers_.refused(c.name(), why, RefusalLog::Clock::now())) log::warning("%s", line->c_str());
}

// A status waiting for memory answers gets no error: it goes with what it has.
void Parent::questions_unanswered(const std::vector<AdminSocket::ClientId>& clients, const std::string& error) {
  for (AdminSocket::ClientId client : clients) {
    if (MetricsGather::is_gather_client(client))
      metrics_settled(static_cast<ipc::Role>(client - MetricsGather::kClientBase), nullptr);
    else if (status_gathers_.contains(client))
      memory_answered(client, nullptr, nullptr);
    else
      admin_error(client, error);
  }
}

void Parent::on_admin_sweep(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Parent*>(arg);
  self->questions_unanswered(self->admin_queries_.expired(std::chrono::steady_clock::now()),
                             "no answer in time; the server may be overloaded");
  for (const std::string& line : self->late_answers_.flush(RefusalLog::Clock::now())) log::warning("%s", line.c_str());
}

void Parent::admin_request(AdminSocket::ClientId client, const ipc::AdminRequest& request) {
  ipc::AdminQuery query;
  switch (request.msg_case()) {
    case ipc::AdminRequest::kStatus:
      return admin_status(client);
    case ipc::AdminRequest::kReload:
      return admin_reload(client);
    case ipc::AdminRequest::kAccount:
      return ask_account(client, request.account());
    case ipc::AdminRequest::kShowC2S:
      *query.mutable_show_c2s() = request.show_c2s();
      return ask_child(client, ipc::ROLE_ROUTER, std::move(query));
    case ipc::AdminRequest::kShowComponents:
      *query.mutable_show_components() = request.show_components();
      return ask_child(client, ipc::ROLE_ROUTER, std::move(query));
    case ipc::AdminRequest::kShowMuc:
      *query.mutable_show_muc() = request.show_muc();
      return ask_child(client, ipc::ROLE_ROUTER, std::move(query));
    case ipc::AdminRequest::kKick:
      log::notice("xmppctl: kick %s", loggable(request.kick().jid()).c_str());
      *query.mutable_kick() = request.kick();
      return ask_child(client, ipc::ROLE_ROUTER, std::move(query));
    case ipc::AdminRequest::kShowS2S:
      *query.mutable_show_s2s() = request.show_s2s();
      return ask_child(client, ipc::ROLE_S2S, std::move(query));
    case ipc::AdminRequest::kCloseS2S:
      log::notice("xmppctl: close s2s %s", loggable(request.close_s2s().remote()).c_str());
      *query.mutable_close_s2s() = request.close_s2s();
      return ask_child(client, ipc::ROLE_S2S, std::move(query));
    case ipc::AdminRequest::kUsers:
      *query.mutable_users() = request.users();
      return ask_child(client, ipc::ROLE_AUTH, std::move(query));
    default:
      admin_error(client, "not a question this server answers");
  }
}

// The answer waits for the tls helper's outcome for the new generation (credentials_loaded):
// a configuration taken with certificates refused is not a reload that worked.
void Parent::admin_reload(AdminSocket::ClientId client) {
  log::notice("xmppctl: reload");
  ipc::ReloadResult result = reload();
  if (result.taken() && credentials_asked_ == result.generation()) {
    if (admin_queries_.ask_reload(client, result, std::chrono::steady_clock::now())) return;
    result.add_certificate_errors("too many questions are open; the tls helper's outcome is in the log");
  } else if (result.taken()) {
    result.add_certificate_errors("the tls helper is not running; it loads the certificates when it starts");
  }
  ipc::AdminResponse response;
  *response.mutable_reload() = std::move(result);
  if (!admin_->respond(client, response)) admin_->close(client);
}

void Parent::ask_account(AdminSocket::ClientId client, ipc::AccountRequest request) {
  log::notice("xmppctl: %s %s@%s", account_verb(request.operation()), loggable(request.username()).c_str(),
              loggable(request.host()).c_str());
  ChildProcess& auth = child(ipc::ROLE_AUTH);
  if (!auth.ready()) return admin_error(client, std::string(auth.name()) + " is not running; try again");
  if (!admin_queries_.ask_account(client, request, std::chrono::steady_clock::now()))
    return admin_error(client, "too many questions are open; try again");
  ipc::ParentToChild message;
  *message.mutable_account_request() = request;
  if (!auth.send(message))
    return questions_unanswered(admin_queries_.child_gone(auth.role()),
                                std::string(auth.name()) + " is not running; try again");
  if (request.operation() != ipc::AccountRequest::OPERATION_DELETE) return;
  // An answer the helper never gives (it died meanwhile) leaves its entry: the oldest go.
  if (deletions_.size() >= kMaxDeletions) deletions_.erase(deletions_.begin());
  ipc::UserRemoved& removed = deletions_[request.id()];
  removed.set_host(request.host());
  removed.set_username(request.username());
}

void Parent::ask_child(AdminSocket::ClientId client, ipc::Role role, ipc::AdminQuery query) {
  ChildProcess& c = child(role);
  if (!c.ready()) return admin_error(client, std::string(c.name()) + " is not running; try again");
  if (!admin_queries_.ask(client, role, query, std::chrono::steady_clock::now()))
    return admin_error(client, "too many questions are open; try again");
  ipc::ParentToChild message;
  *message.mutable_admin_query() = query;
  if (c.send(message)) return;
  questions_unanswered(admin_queries_.child_gone(role), std::string(c.name()) + " is not running; try again");
}

// What a child answers is passed on only as the question allows (AdminQueries::check);
// anything else breaks the protocol and the child is restarted, as for any other control
// record it may not send; an answer that comes too late is only counted in the log.
void Parent::admin_answer(ChildProcess& c, const ipc::AdminAnswer& answer) {
  AdminQueries::Refusal refusal;
  std::optional<AdminQueries::Delivery> delivery = admin_queries_.check(c.role(), answer, refusal);
  if (!delivery && refusal.violation) return broke_protocol(c, refusal.why);
  if (!delivery) return late_answer(c, refusal.why);
  if (delivery->question == ipc::AdminQuery::kMemory)
    return memory_answered(delivery->client, &c, answer.has_memory() ? &answer : nullptr);
  if (delivery->question == ipc::AdminQuery::kMetrics)
    return metrics_settled(c.role(), answer.has_metrics() ? &answer : nullptr);
  if (delivery->client == AdminQueries::kNobody || !admin_) return;  // xmppctl went away
  ipc::AdminResponse response;
  switch (answer.answer_case()) {
    case ipc::AdminAnswer::kC2S: *response.mutable_c2s() = answer.c2s(); break;
    case ipc::AdminAnswer::kS2S: *response.mutable_s2s() = answer.s2s(); break;
    case ipc::AdminAnswer::kUsers: *response.mutable_users() = answer.users(); break;
    case ipc::AdminAnswer::kComponents: *response.mutable_components() = answer.components(); break;
    case ipc::AdminAnswer::kRooms: *response.mutable_rooms() = answer.rooms(); break;
    default: *response.mutable_done() = answer.done(); break;
  }
  response.set_more(!delivery->last);
  response.set_truncated(delivery->last && answer.truncated());
  if (!admin_->respond(delivery->client, response)) undeliverable(delivery->client);
}

ipc::ServerStatus Parent::status() const {
  ipc::ServerStatus status;
  status.set_version(XMPPD_VERSION);
  status.set_uptime_seconds(seconds_since(started_));
  status.set_generation(generation_);
  ipc::ProcessStatus& self = *status.add_processes();
  self.set_role("parent");
  self.set_pid(static_cast<std::uint32_t>(getpid()));
  ProcessMemory memory = process_memory(getpid());
  self.set_resident_bytes(memory.resident_bytes);
  self.set_address_space_bytes(memory.address_space_bytes);
  self.set_uptime_seconds(seconds_since(started_));
  self.set_ready(true);
  for (ipc::Role role : kStatusOrder) {
    if (!wanted(role)) continue;
    const ChildProcess& c = *children_[role_index(role)];
    ipc::ProcessStatus& p = *status.add_processes();
    p.set_role(c.name());
    p.set_restarts(c.restarts());
    p.set_ready(c.ready());
    if (!c.running()) continue;
    p.set_pid(static_cast<std::uint32_t>(c.pid()));
    memory = process_memory(c.pid());
    p.set_resident_bytes(memory.resident_bytes);
    p.set_address_space_bytes(memory.address_space_bytes);
    p.set_uptime_seconds(seconds_since(c.started()));
  }
  return status;
}

void Parent::admin_status(AdminSocket::ClientId client) {
  if (status_gathers_.contains(client)) return admin_error(client, "a status is already being gathered");
  StatusGather& gather = status_gathers_[client];
  gather.status = status();
  const auto now = std::chrono::steady_clock::now();
  for (ipc::Role role : kStatusOrder) {
    ChildProcess& c = child(role);
    ipc::ParentToChild message;
    ipc::AdminQuery& query = *message.mutable_admin_query();
    query.mutable_memory();
    if (!c.ready() || !admin_queries_.ask(client, role, query, now, AdminQueries::kMemoryTimeout)) continue;
    ++gather.waiting;
    c.send(message);  // if it cannot go, the child is stopping: child_gone() settles it
  }
  if (gather.waiting == 0) memory_answered(client, nullptr, nullptr);
}

void Parent::memory_answered(AdminSocket::ClientId client, const ChildProcess* from, const ipc::AdminAnswer* answer) {
  auto it = status_gathers_.find(client);
  if (it == status_gathers_.end()) return;  // xmppctl went away
  StatusGather& gather = it->second;
  if (from != nullptr && answer != nullptr) {
    for (ipc::ProcessStatus& p : *gather.status.mutable_processes()) {
      if (p.role() != from->name() || p.pid() != static_cast<std::uint32_t>(from->pid())) continue;
      p.set_resident_bytes(answer->memory().resident_bytes());
      p.set_address_space_bytes(answer->memory().address_space_bytes());
    }
  }
  if (gather.waiting > 0 && --gather.waiting > 0) return;
  ipc::AdminResponse response;
  *response.mutable_status() = std::move(gather.status);
  status_gathers_.erase(it);
  if (admin_ && !admin_->respond(client, response)) admin_->close(client);
}

int Parent::run() {
  signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) {
    signal_events_.emplace_back(evsignal_new(base_, sig, on_signal, this));
    event_add(signal_events_.back().get(), nullptr);
  }
  admin_ = std::make_unique<AdminSocket>(
      base_, [this](AdminSocket::ClientId client, const ipc::AdminRequest& request) { admin_request(client, request); },
      [this](AdminSocket::ClientId client) {
        admin_queries_.client_gone(client);
        status_gathers_.erase(client);
      });
  admin_sweep_.reset(event_new(base_, -1, EV_PERSIST, on_admin_sweep, this));
  const timeval second = {1, 0};
  event_add(admin_sweep_.get(), &second);
  std::string error;
  if (!admin_->listen(settings_.data_path + "/control.sock", error))
    log::warning("control socket: %s (xmppctl will not work)", error.c_str());
  for (ipc::Role role : kRoles) start(child(role));
  event_base_dispatch(base_);
  admin_sweep_.reset();
  admin_.reset();
  log::notice("stopped");
  return exit_code_;
}

}  // namespace xmppd::parent
