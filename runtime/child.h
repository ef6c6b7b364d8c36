// The life of every child process, the same recipe for each role:
//   read the first Configure from the parent (descriptor 3) → let the role load what it
//   needs → drop privileges → enter the role's sandbox → serve on the event loop.
//
// A role supplies a ChildRole. The runtime owns the control channel to the parent: it hands
// the role its listening sockets, its links to peers and later configurations, and it ends
// the process when the parent goes away.
#pragma once

#include <event2/event.h>

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "control.pb.h"
#include "proto/channel.h"
#include "runtime/self_memory.h"
#include "sandbox/sandbox.h"

namespace xmppd::runtime {

// Descriptor layout at exec, set up by the parent.
inline constexpr int kControlFd = 3;

// A child past its address-space limit (child_memory_limit) exits with this status
// (sysexits' EX_OSERR) after saying so; install_out_of_memory_exit() arranges it.
inline constexpr int kExitOutOfMemory = 71;
void install_out_of_memory_exit();

// Record limits on the control channel: configuration can be long, answers are short.
inline constexpr ipc::Limits kParentToChild{1 << 20, 1};
inline constexpr ipc::Limits kChildToParent{64 << 10, 0};

class ChildRuntime;

class ChildRole {
 public:
  virtual ~ChildRole() = default;
  virtual sandbox::Role role() const = 0;
  virtual ipc::Role wire_role() const = 0;
  // Before privileges are dropped: the only time files outside the role's directory can be
  // opened. False ends the process (the parent logs and restarts it with backoff).
  virtual bool prepare(ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) = 0;
  // After the user switch and chroot, before the syscall filter: files inside the role's
  // own directory (a database) can be opened here with their in-chroot names.
  virtual bool prepare_in_chroot(std::string& error) {
    (void)error;
    return true;
  }
  // A later generation of the configuration.
  virtual void reconfigure(const ipc::Configure& configure) = 0;
  virtual void add_listener(const ipc::Listener& listener, UniqueFd fd);
  // Peers this role talks to; links to any other role are refused.
  virtual bool links_to(ipc::Role peer) const = 0;
  // A fresh link to `peer`, replacing any earlier one. The default holds a link on which
  // no message is accepted yet.
  virtual void add_peer_link(ipc::Role peer, UniqueFd fd);
  // Messages from the parent that only this role accepts (the common ones are the runtime's).
  // An AdminQuery handler registered here replaces the runtime's, which answers every
  // question with an AdminDone error; but the runtime answers the memory question (status)
  // itself, for every role, before a role's handler sees the query.
  virtual void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) { (void)control; }
  // What this role counts, for /metrics (runtime/metric_samples.h builds the samples). The
  // runtime adds the process's memory and CPU time to every role's answer itself.
  virtual void metrics(ipc::Metrics& out) { (void)out; }

 protected:
  ChildRuntime* runtime_ = nullptr;
  friend class ChildRuntime;

 private:
  std::map<ipc::Role, std::unique_ptr<ipc::Channel>> idle_links_;
};

class ChildRuntime {
 public:
  explicit ChildRuntime(ChildRole& role) : role_(role) { role_.runtime_ = this; }
  int run();

  struct event_base* base() const { return base_; }
  // A peer broke the protocol on its link: tell the parent, which restarts it.
  void report_peer_violation(ipc::Role peer, std::string_view reason);
  // An AdminAnswer waits its turn (runtime/admin_pages.h): one page at a time goes once the
  // channel has drained. Anything else goes at once.
  void send_to_parent(const ipc::ChildToParent& message);

 private:
  bool read_first_configure(ipc::Configure& configure);
  bool start_sandboxed(const ipc::Configure& configure);
  void serve(const ipc::Configure& configure);
  void send_admin_answers();
  void answer_memory(std::uint64_t id);
  void answer_metrics(std::uint64_t id);

  ChildRole& role_;
  struct event_base* base_ = nullptr;
  std::unique_ptr<ipc::TypedChannel<ipc::ParentToChild>> control_;
  std::uint64_t generation_ = 0;
  std::deque<ipc::ChildToParent> admin_answers_;  // not sent yet, oldest first
  SelfMemory memory_;  // /proc/self/statm, opened before the chroot
};

const char* wire_role_name(ipc::Role role);

}  // namespace xmppd::runtime
