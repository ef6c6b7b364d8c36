#include "runtime/child.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include "common/log.h"
#include "runtime/metric_samples.h"

namespace xmppd::runtime {
namespace {

// Past RLIMIT_AS, operator new would throw std::bad_alloc through the C callbacks the
// process runs in, and end in abort(), whose tgkill is on no syscall list: the parent would
// report SIGSYS, a sandbox violation that never happened. Instead the child says what
// happened, with no allocation, and exits.
[[noreturn]] void out_of_memory() {
  static constexpr char kLine[] =
      "<3>out of memory: the address space limit (child_memory_limit) is reached; exiting\n";
  (void)!::write(STDERR_FILENO, kLine, sizeof kLine - 1);
  _exit(kExitOutOfMemory);
}

}  // namespace

void install_out_of_memory_exit() { std::set_new_handler(out_of_memory); }

const char* wire_role_name(ipc::Role role) {
  switch (role) {
    case ipc::ROLE_ROUTER: return "router";
    case ipc::ROLE_S2S: return "s2s";
    case ipc::ROLE_TLS: return "tls";
    case ipc::ROLE_AUTH: return "auth";
    case ipc::ROLE_STORAGE: return "storage";
    case ipc::ROLE_HTTP: return "http";
    default: return "unknown";
  }
}

void ChildRole::add_listener(const ipc::Listener& listener, UniqueFd) {
  log::warning("listener %s:%u is not for this role; closed", listener.address().c_str(), listener.port());
}

void ChildRole::add_peer_link(ipc::Role peer, UniqueFd fd) {
  auto channel = std::make_unique<ipc::Channel>(runtime_->base(), std::move(fd), ipc::Limits{64 << 10, 0},
                                                ipc::Limits{64 << 10, 0}, wire_role_name(peer));
  ipc::Channel* raw = channel.get();
  raw->start(
      [](auto, auto&, std::string& why) {
        why = "no message is defined on this link";
        return false;
      },
      [this, peer, raw](ipc::CloseReason reason, std::string_view detail) {
        if (reason == ipc::CloseReason::kViolation) runtime_->report_peer_violation(peer, detail);
        auto it = idle_links_.find(peer);
        if (it != idle_links_.end() && it->second.get() == raw) idle_links_.erase(it);
      });
  idle_links_[peer] = std::move(channel);
}

bool ChildRuntime::read_first_configure(ipc::Configure& configure) {
  std::vector<std::uint8_t> buffer(kParentToChild.max_record + 1);
  std::vector<UniqueFd> fds;
  std::size_t length = 0;
  ipc::RecvStatus status;
  do {
    status = ipc::recv_record(kControlFd, buffer, 0, length, fds);
  } while (status == ipc::RecvStatus::kWouldBlock);
  if (status != ipc::RecvStatus::kRecord) {
    log::error("no configuration from the parent: %s", ipc::describe(status));
    return false;
  }
  ipc::ParentToChild envelope;
  std::string why;
  if (!ipc::decode_envelope(envelope, std::span(buffer.data(), length), why) || !envelope.has_configure()) {
    log::error("first message from the parent is not a configuration: %s", why.c_str());
    return false;
  }
  configure = envelope.configure();
  if (configure.role() != role_.wire_role()) {
    log::error("configuration is for role %s, not %s", wire_role_name(configure.role()),
               wire_role_name(role_.wire_role()));
    return false;
  }
  return true;
}

bool ChildRuntime::start_sandboxed(const ipc::Configure& configure) {
  const ipc::Privsep& p = configure.privsep();
  sandbox::Privsep privsep{p.switch_user(), p.uid(), p.gid(), p.directory()};
  const uid_t uid = getuid();  // asked now: getuid is on no role's list
  std::string error;
  // Kept for xmppctl status: after the chroot there is no /proc, and the parent may not
  // read ours (ProtectProc=invisible; we are not dumpable). Without it, status falls back.
  if (!memory_.open(error)) log::warning("xmppctl status will not show this process's memory: %s", error.c_str());
  if (!sandbox::drop_privileges(privsep, error)) {
    log::error("cannot drop privileges: %s", error.c_str());
    return false;
  }
  if (!role_.prepare_in_chroot(error)) {
    log::error("%s", error.c_str());
    return false;
  }
  if (!sandbox::enter(role_.role(), sandbox::build_mode(), error)) {
    log::error("cannot enter the sandbox: %s", error.c_str());
    return false;
  }
  if (privsep.switch_user)
    log::info("running as %s (uid %u), chrooted to %s", p.user().c_str(), p.uid(), p.directory().c_str());
  else
    log::info("not started as root: running as uid %u in %s without chroot", uid, p.directory().c_str());
  return true;
}

void ChildRuntime::report_peer_violation(ipc::Role peer, std::string_view reason) {
  log::error("link to %s broke the protocol: %.*s", wire_role_name(peer), static_cast<int>(reason.size()),
             reason.data());
  ipc::ChildToParent message;
  message.mutable_peer_violation()->set_peer(peer);
  message.mutable_peer_violation()->set_reason(std::string(reason));
  control_->send(message);
}

void ChildRuntime::send_to_parent(const ipc::ChildToParent& message) {
  if (!message.has_admin_answer()) {
    control_->send(message);
    return;
  }
  admin_answers_.push_back(message);
  send_admin_answers();
}

// Pages go while nothing waits in the channel's queue: into the socket, not into our memory
// twice; once one has to wait, the rest follow when the queue has drained.
void ChildRuntime::send_admin_answers() {
  while (!admin_answers_.empty() && control_->raw().queued() == 0) {
    control_->send(admin_answers_.front());
    admin_answers_.pop_front();
  }
}

void ChildRuntime::answer_memory(std::uint64_t id) {
  ipc::ChildToParent message;
  ipc::AdminAnswer& answer = *message.mutable_admin_answer();
  answer.set_id(id);
  if (std::optional<MemoryUsage> usage = memory_.read()) {
    answer.mutable_memory()->set_resident_bytes(usage->resident_bytes);
    answer.mutable_memory()->set_address_space_bytes(usage->address_space_bytes);
  } else {
    answer.mutable_done()->set_error("cannot read /proc/self/statm");
  }
  send_to_parent(message);
}

void ChildRuntime::answer_metrics(std::uint64_t id) {
  ipc::ChildToParent message;
  ipc::AdminAnswer& answer = *message.mutable_admin_answer();
  answer.set_id(id);
  ipc::Metrics& metrics = *answer.mutable_metrics();
  if (std::optional<MemoryUsage> usage = memory_.read()) {
    add_gauge(metrics, "xmppd_process_resident_memory_bytes", "Resident memory of the process",
              static_cast<double>(usage->resident_bytes), {}, "bytes");
    add_gauge(metrics, "xmppd_process_virtual_memory_bytes", "Address space of the process",
              static_cast<double>(usage->address_space_bytes), {}, "bytes");
  }
  add_cpu_time(metrics);
  role_.metrics(metrics);
  send_to_parent(message);
}

void ChildRuntime::serve(const ipc::Configure& configure) {
  using Envelope = ipc::ParentToChild;
  control_ = std::make_unique<ipc::TypedChannel<Envelope>>(base_, UniqueFd(kControlFd), kParentToChild,
                                                           kChildToParent, "parent");
  control_->on(Envelope::kConfigure, 0, [this](const Envelope& e, auto&) {
    const ipc::Configure& next = e.configure();
    if (next.role() != role_.wire_role() || next.generation() <= generation_) {
      log::fatal("parent sent a configuration for role %s generation %llu", wire_role_name(next.role()),
                 static_cast<unsigned long long>(next.generation()));
    }
    generation_ = next.generation();
    log::set_verbosity(static_cast<int>(next.verbosity()));
    role_.reconfigure(next);
    ipc::ChildToParent ready;
    ready.mutable_ready()->set_generation(generation_);
    control_->send(ready);
  });
  control_->on(Envelope::kPeerLink, 1, [this](const Envelope& e, std::vector<UniqueFd>& fds) {
    ipc::Role peer = e.peer_link().peer();
    if (!role_.links_to(peer)) log::fatal("parent sent a link to %s, which this role never talks to", wire_role_name(peer));
    log::info("new link to %s", wire_role_name(peer));
    role_.add_peer_link(peer, std::move(fds[0]));
  });
  control_->on(Envelope::kListener, 1, [this](const Envelope& e, std::vector<UniqueFd>& fds) {
    role_.add_listener(e.listener(), std::move(fds[0]));
  });
  // xmppctl's questions: a role that answers some registers its own handler, which replaces
  // this one; any other role says it has no answer rather than break the channel.
  control_->on(Envelope::kAdminQuery, 0, [this](const Envelope& e, auto&) {
    ipc::ChildToParent answer;
    answer.mutable_admin_answer()->set_id(e.admin_query().id());
    answer.mutable_admin_answer()->mutable_done()->set_error(std::string("not a question for the ") +
                                                             wire_role_name(role_.wire_role()) + " process");
    send_to_parent(answer);
  });
  control_->raw().set_on_drained([this] { send_admin_answers(); });
  role_.add_control_handlers(*control_);
  // The memory and metrics questions are every role's: answered here, whichever handler the
  // role set.
  control_->on(Envelope::kAdminQuery, 0,
               [this, role_handler = control_->handler(Envelope::kAdminQuery)](const Envelope& e, auto& fds) {
                 if (e.admin_query().has_memory()) return answer_memory(e.admin_query().id());
                 if (e.admin_query().has_metrics()) return answer_metrics(e.admin_query().id());
                 role_handler(e, fds);
               });
  control_->start([this](ipc::CloseReason reason, std::string_view detail) {
    // Without the parent there is nobody to restart us or to route to: end cleanly.
    if (reason == ipc::CloseReason::kPeerClosed)
      log::info("parent closed the control channel; exiting");
    else
      log::error("control channel: %.*s; exiting", static_cast<int>(detail.size()), detail.data());
    event_base_loopexit(base_, nullptr);
  });

  generation_ = configure.generation();
  ipc::ChildToParent ready;
  ready.mutable_ready()->set_generation(generation_);
  control_->send(ready);
  event_base_dispatch(base_);
  control_.reset();
}

int ChildRuntime::run() {
  // Children log through the parent (descriptor 2 is a pipe it reads).
  log::init(log::Sink::kParentPipe, 0, sandbox::role_name(role_.role()));
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);  // reloads come from the parent as messages
  install_out_of_memory_exit();

  ipc::Configure configure;
  if (!read_first_configure(configure)) return 1;
  log::set_verbosity(static_cast<int>(configure.verbosity()));

  // glibc reads /etc/localtime on the first local-time conversion (OpenSSL's certificate
  // time checks make one): have it read now, while files can still be opened.
  tzset();

  // Created before the sandbox: epoll_create1 is not on any role's list.
  base_ = event_base_new();
  if (base_ == nullptr) {
    log::error("cannot create the event loop");
    return 1;
  }
  std::string error;
  if (!role_.prepare(*this, configure, error)) {
    log::error("%s", error.c_str());
    return 1;
  }
  if (!start_sandboxed(configure)) return 1;
  serve(configure);
  role_.idle_links_.clear();
  event_base_free(base_);
  return 0;
}

}  // namespace xmppd::runtime
