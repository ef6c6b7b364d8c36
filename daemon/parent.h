// The parent: the only process that keeps root. It reads the configuration, binds the
// listening sockets, spawns the four children, links them to each other, restarts the one
// that dies, reloads on SIGHUP and stops everything on SIGTERM. It reads no network byte.
#pragma once

#include <event2/event.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/refusal_log.h"
#include "config/settings.h"
#include "daemon/admin_queries.h"
#include "daemon/admin_socket.h"
#include "daemon/child_links.h"
#include "daemon/child_process.h"
#include "daemon/credentials.h"
#include "daemon/dialback_epochs.h"
#include "daemon/listeners.h"
#include "daemon/metrics_gather.h"
#include "daemon/privsep_setup.h"
#include "daemon/trust_anchors.h"

namespace xmppd::parent {

struct Options {
  std::string config_file;
  bool foreground = false;
  int verbosity = 0;
};

class Parent final : public ChildEvents {
 public:
  Parent(Options options, config::Settings settings, S2sTrust trust, RolePrivsep privsep,
         std::vector<ListenSocket> listeners);
  ~Parent() override;
  int run();

 private:
  void child_ready(ChildProcess& child) override;
  void child_reports_violation(ChildProcess& child, int peer, const std::string& reason) override;
  void credentials_loaded(const ipc::CredentialsLoaded& result) override;
  void account_result(const ipc::AccountResult& result) override;
  void admin_answer(ChildProcess& child, const ipc::AdminAnswer& answer) override;
  // /metrics (daemon/parent_metrics.cc, daemon/metrics_gather.h).
  void metrics_request(ChildProcess& child, const ipc::MetricsRequest& request) override;
  void start_metrics_gather();
  // One child's metrics question is settled: `answer` its AdminAnswer, or nullptr when none came.
  void metrics_settled(ipc::Role role, const ipc::AdminAnswer* answer);
  void send_metrics_report(ipc::MetricsReport report);
  ipc::Metrics own_metrics() const;
  void start_tls_helper(ChildProcess& tls);
  std::vector<std::string> reconfigure_tls_helper(ChildProcess& tls);  // the files it could not open
  void send_credentials(ChildProcess& tls, const OpenCredentials& credentials);

  ChildProcess& child(ipc::Role role);
  // Whether `role` runs with this configuration: the storage process only with PostgreSQL,
  // the HTTP process only with an HTTP service (config::Settings::serves_http).
  bool wanted(ipc::Role role) const;
  ipc::Configure configure_for(ipc::Role role) const;
  void start(ChildProcess& child);
  void send_listeners(ChildProcess& child);
  void connect_links(ipc::Role role);
  void reap();
  // SIGHUP and xmppctl reload: the new file taken, or nothing changed and the errors why.
  ipc::ReloadResult reload();
  // xmppctl (admin.proto): status and reload answered here, the rest asked of a child.
  void admin_request(AdminSocket::ClientId client, const ipc::AdminRequest& request);
  // Passes `query` to `role` with a fresh id, remembering who asked; a child that is not
  // running or has too many questions open gets the client an AdminDone error at once.
  void ask_child(AdminSocket::ClientId client, ipc::Role role, ipc::AdminQuery query);
  void ask_account(AdminSocket::ClientId client, ipc::AccountRequest request);
  void admin_reload(AdminSocket::ClientId client);
  // An answer that could not be sent to its client: it is told, or its connection closed.
  void undeliverable(AdminSocket::ClientId client);
  // A child's answer that breaks the control protocol: the child is restarted.
  void broke_protocol(ChildProcess& c, const std::string& why);
  void late_answer(const ChildProcess& c, const std::string& why);
  void admin_error(AdminSocket::ClientId client, const std::string& error);
  void questions_unanswered(const std::vector<AdminSocket::ClientId>& clients, const std::string& error);
  ipc::ServerStatus status() const;
  // xmppctl status: each ready child is asked its own memory (the parent may not read their
  // /proc); the answer goes once all have answered or their questions expired or the child
  // stopped (kMemoryTimeout), each line without an answer keeping what /proc gave, if anything.
  void admin_status(AdminSocket::ClientId client);
  // One child's memory question is settled for `client`: `answer` is its AdminAnswer, or
  // nullptr when none came (expired, child gone, AdminDone).
  void memory_answered(AdminSocket::ClientId client, const ChildProcess* from, const ipc::AdminAnswer* answer);
  static void on_admin_sweep(evutil_socket_t, short, void* arg);
  void stop();
  void schedule_restart(ipc::Role role, std::chrono::milliseconds delay);
  void send_dialback_keys();
  void epoch_began();  // sends the keys and arms the timer of the next daily epoch
  static void on_new_epoch(evutil_socket_t, short, void* arg);

  static void on_signal(evutil_socket_t sig, short, void* arg);
  static void on_restart(evutil_socket_t, short, void* arg);
  static void on_stop_timeout(evutil_socket_t, short, void* arg);

  Options options_;
  config::Settings settings_;
  S2sTrust trust_;
  RolePrivsep privsep_;
  // Whether the HTTP process runs: as at start-up, which bound its listeners and made its
  // directory (a reload that adds or removes the last HTTP service says it needs a restart).
  bool serves_http_ = false;
  std::vector<ListenSocket> listeners_;
  std::uint64_t generation_ = 1;
  bool stopping_ = false;
  bool credentials_accepted_ = false;  // the tls helper loaded a set once: later failures are not fatal
  int exit_code_ = 0;

  struct event_base* base_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
  struct RestartTimer {
    Parent* parent;
    ipc::Role role;
    ipc::EventPtr event;
  };
  std::vector<std::unique_ptr<RestartTimer>> restart_timers_;
  ChildLinks links_;
  std::vector<ipc::EventPtr> signal_events_;
  ipc::EventPtr stop_timer_;
  std::unique_ptr<AdminSocket> admin_;
  AdminQueries admin_queries_;
  struct StatusGather {
    ipc::ServerStatus status;
    std::size_t waiting = 0;  // memory questions not settled yet
  };
  std::map<AdminSocket::ClientId, StatusGather> status_gathers_;
  MetricsGather metrics_;  // the HTTP process's /metrics requests
  RefusalLog late_answers_{"dropped a late answer from"};
  std::uint64_t credentials_asked_ = 0;  // the generation of the last LoadCredentials sent
  ipc::EventPtr admin_sweep_;            // every second: questions past their deadline
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // xmppctl deluser requests at the auth helper, by id: once it confirms one, the router is
  // told to end the account's sessions.
  static constexpr std::size_t kMaxDeletions = 1024;
  std::map<std::uint64_t, ipc::UserRemoved> deletions_;
  // Confirmed while the router was not running: sent when it is ready.
  std::vector<ipc::UserRemoved> removals_for_router_;
  DialbackEpochs dialback_;    // the s2s worker's keys; the secret stays here
  ipc::EventPtr epoch_timer_;  // one-shot: the daily epoch, a day after the last one began
};

// Where the child binaries are: beside the parent in a build tree, else the libexec dir.
std::string child_binary(ipc::Role role);
// RLIMIT_AS in bytes for a child of `role`: child_memory_limit or the role's default; 0 (none)
// in a sanitizer build.
std::uint64_t child_memory_limit(ipc::Role role, const config::Settings& settings);

}  // namespace xmppd::parent
