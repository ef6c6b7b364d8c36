// One child of the parent: spawned with fork+exec so it starts from a fresh address space
// with only descriptors 0-3 (null, null, log pipe, control socket), watched, and restarted.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "control.pb.h"
#include "proto/channel.h"

namespace xmppd::parent {

class ChildProcess;

class ChildEvents {
 public:
  virtual ~ChildEvents() = default;
  virtual void child_ready(ChildProcess& child) = 0;
  // `peer` is the raw value the child sent: not necessarily a role at all.
  virtual void child_reports_violation(ChildProcess& child, int peer, const std::string& reason) = 0;
  virtual void credentials_loaded(const ipc::CredentialsLoaded& result) = 0;  // from the tls helper only
  virtual void account_result(const ipc::AccountResult& result) = 0;          // from the auth helper only
  // From any child: checked by the parent against what it asked that child (AdminQueries).
  virtual void admin_answer(ChildProcess& child, const ipc::AdminAnswer& answer) = 0;
  // From the HTTP process only (a /metrics request); any other role sending it breaks the
  // control protocol.
  virtual void metrics_request(ChildProcess& child, const ipc::MetricsRequest& request) = 0;
};

class ChildProcess {
 public:
  ChildProcess(struct event_base* base, ipc::Role role, std::string binary, ChildEvents& events);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // `memory_limit`: RLIMIT_AS of the new process in bytes, set between fork and exec; 0 for none.
  bool spawn(const ipc::Configure& configure, std::uint64_t memory_limit = 0);
  // After waitpid(2) reported this child's end; returns the delay before it may restart.
  // `stopping`: the parent asked for this end, so it is no error.
  std::chrono::milliseconds reaped(int status, bool stopping);
  void signal(int sig) const;
  // SIGTERM, remembered: the end it brings is logged as a stop, not as a death by signal.
  void stop();
  bool send(const ipc::ParentToChild& message, std::span<const int> fds = {});

  ipc::Role role() const { return role_; }
  const char* name() const;
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  bool ready() const { return ready_; }
  // Counts spawns, so that links to a restarted child are known to be stale.
  unsigned incarnation() const { return incarnation_; }
  // Spawns after the first (xmppctl status).
  unsigned restarts() const { return incarnation_ > 0 ? incarnation_ - 1 : 0; }
  // When this incarnation was spawned.
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  static void on_log(evutil_socket_t fd, short what, void* arg);
  void read_log();
  void open_control(UniqueFd sock, const ipc::Configure& configure);

  struct event_base* base_;
  ipc::Role role_;
  std::string binary_;
  ChildEvents& events_;
  pid_t pid_ = -1;
  bool ready_ = false;
  bool stop_sent_ = false;
  unsigned incarnation_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::chrono::milliseconds backoff_{0};
  std::unique_ptr<ipc::TypedChannel<ipc::ChildToParent>> control_;
  UniqueFd log_pipe_;
  ipc::EventPtr log_event_;
  std::string log_line_;
};

}  // namespace xmppd::parent
