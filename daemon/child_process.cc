#include "daemon/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "runtime/child.h"

namespace xmppd::parent {
namespace {

using namespace std::chrono_literals;

constexpr auto kFirstBackoff = 250ms;
constexpr auto kMaxBackoff = std::chrono::milliseconds(60s);
// A child that ran this long before dying is restarted at once: it was not crash-looping.
constexpr auto kStableAfter = 30s;

// Between fork and exec only async-signal-safe calls: put `from` at `to`, without the
// close-on-exec flag that every descriptor of the parent carries.
bool place_fd(int from, int to) {
  if (from == to) return fcntl(to, F_SETFD, 0) == 0;
  return dup2(from, to) == to;
}

// Sanitizer settings pass through; nothing else of the parent's environment does.
std::vector<std::string> child_environment() {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"})
    if (const char* value = getenv(name)) env.push_back(std::string(name) + "=" + value);
  return env;
}

}  // namespace

ChildProcess::ChildProcess(struct event_base* base, ipc::Role role, std::string binary, ChildEvents& events)
    : base_(base), role_(role), binary_(std::move(binary)), events_(events) {}

ChildProcess::~ChildProcess() = default;

const char* ChildProcess::name() const { return runtime::wire_role_name(role_); }

bool ChildProcess::spawn(const ipc::Configure& configure, std::uint64_t memory_limit) {
  UniqueFd parent_end, child_end;
  if (!ipc::make_seqpacket_pair(runtime::kParentToChild.max_record, parent_end, child_end)) {
    log::error("%s: socketpair: %s", name(), std::strerror(errno));
    return false;
  }
  int log_fds[2];
  if (pipe2(log_fds, O_CLOEXEC) != 0) {
    log::error("%s: pipe: %s", name(), std::strerror(errno));
    return false;
  }
  UniqueFd log_read(log_fds[0]), log_write(log_fds[1]);
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) {
    log::error("/dev/null: %s", std::strerror(errno));
    return false;
  }
  std::vector<std::string> env_strings = child_environment();
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string argv0 = binary_.substr(binary_.rfind('/') + 1);
  char* argv[] = {argv0.data(), nullptr};

  pid_t pid = fork();
  if (pid < 0) {
    log::error("%s: fork: %s", name(), std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    // child_end and log_write may already sit at 0-3; move them above first.
    int control = fcntl(child_end.get(), F_DUPFD_CLOEXEC, 10);
    int logw = fcntl(log_write.get(), F_DUPFD_CLOEXEC, 10);
    if (control < 0 || logw < 0 || !place_fd(null.get(), 0) || !place_fd(null.get(), 1) || !place_fd(logw, 2) ||
        !place_fd(control, runtime::kControlFd))
      _exit(126);
    close_range(runtime::kControlFd + 1, ~0U, 0);
    // Soft and hard alike, so that the child cannot raise it: past it mmap and brk fail, the
    // child aborts on the failed allocation, and the parent restarts it alone.
    if (memory_limit > 0) {
      struct rlimit as = {static_cast<rlim_t>(memory_limit), static_cast<rlim_t>(memory_limit)};
      if (setrlimit(RLIMIT_AS, &as) != 0) _exit(126);
    }
    execve(binary_.c_str(), argv, envp.data());
    // Heard by the parent through the log pipe, like any line of the child's.
    const char* why = strerror(errno);
    const char* parts[] = {"<3>cannot execute ", binary_.c_str(), ": ", why, "\n"};
    for (const char* part : parts)
      if (write(2, part, strlen(part)) < 0) break;
    _exit(127);
  }

  pid_ = pid;
  ready_ = false;
  stop_sent_ = false;
  ++incarnation_;
  started_ = std::chrono::steady_clock::now();
  if (memory_limit > 0)
    log::info("started %s (pid %d, address space limit %llu MiB)", name(), pid,
              static_cast<unsigned long long>(memory_limit >> 20));
  else
    log::info("started %s (pid %d)", name(), pid);

  log_pipe_ = std::move(log_read);
  ipc::set_nonblocking(log_pipe_.get());
  log_line_.clear();
  log_event_.reset(event_new(base_, log_pipe_.get(), EV_READ | EV_PERSIST, on_log, this));
  event_add(log_event_.get(), nullptr);
  open_control(std::move(parent_end), configure);
  return true;
}

void ChildProcess::open_control(UniqueFd sock, const ipc::Configure& configure) {
  using Envelope = ipc::ChildToParent;
  control_ = std::make_unique<ipc::TypedChannel<Envelope>>(base_, std::move(sock), runtime::kChildToParent,
                                                           runtime::kParentToChild, name());
  control_->on(Envelope::kReady, 0, [this](const Envelope& e, auto&) {
    log::debug("%s ready at configuration generation %llu", name(),
               static_cast<unsigned long long>(e.ready().generation()));
    bool first = !ready_;
    ready_ = true;
    if (first) events_.child_ready(*this);
  });
  control_->on(Envelope::kPeerViolation, 0, [this](const Envelope& e, auto&) {
    events_.child_reports_violation(*this, static_cast<int>(e.peer_violation().peer()), e.peer_violation().reason());
  });
  if (role_ == ipc::ROLE_TLS)
    control_->on(Envelope::kCredentialsLoaded, 0,
                 [this](const Envelope& e, auto&) { events_.credentials_loaded(e.credentials_loaded()); });
  if (role_ == ipc::ROLE_AUTH)
    control_->on(Envelope::kAccountResult, 0,
                 [this](const Envelope& e, auto&) { events_.account_result(e.account_result()); });
  if (role_ == ipc::ROLE_HTTP)
    control_->on(Envelope::kMetricsRequest, 0,
                 [this](const Envelope& e, auto&) { events_.metrics_request(*this, e.metrics_request()); });
  // Every role may answer; what the parent asked whom is checked by the parent, so that an
  // answer from a child that was never asked is dropped rather than a protocol violation.
  control_->on(Envelope::kAdminAnswer, 0,
               [this](const Envelope& e, auto&) { events_.admin_answer(*this, e.admin_answer()); });
  control_->start([this](ipc::CloseReason reason, std::string_view detail) {
    ready_ = false;
    if (reason == ipc::CloseReason::kViolation) {
      log::error("%s (pid %d) broke the control protocol: %.*s; killing it", name(), pid_,
                 static_cast<int>(detail.size()), detail.data());
      signal(SIGKILL);
    }
  });
  ipc::ParentToChild first;
  *first.mutable_configure() = configure;
  control_->send(first);
}

std::chrono::milliseconds ChildProcess::reaped(int status, bool stopping) {
  auto report = stopping ? log::info : log::error;
  // The end the parent asked for reads as a stop, named as the child's own lines are; any
  // other end (a crash, a kill by someone else) is reported with its signal or status.
  const bool asked = stop_sent_ && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) ||
                                    (WIFEXITED(status) && WEXITSTATUS(status) == 0));
  if (asked)
    log::notice("%s[%d] stopped", name(), pid_);
  else if (WIFSIGNALED(status))
    report("%s (pid %d) killed by signal %d (%s)", name(), pid_, WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    report("%s (pid %d) exited with status %d", name(), pid_, WEXITSTATUS(status));
  read_log();  // what it said last
  pid_ = -1;
  ready_ = false;
  control_.reset();
  log_event_.reset();
  log_pipe_.reset();

  if (std::chrono::steady_clock::now() - started_ >= kStableAfter)
    backoff_ = kFirstBackoff;
  else
    backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  return backoff_;
}

void ChildProcess::signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

void ChildProcess::stop() {
  if (pid_ <= 0) return;
  stop_sent_ = true;
  kill(pid_, SIGTERM);
}

bool ChildProcess::send(const ipc::ParentToChild& message, std::span<const int> fds) {
  return control_ && control_->send(message, fds);
}

void ChildProcess::on_log(evutil_socket_t, short, void* arg) { static_cast<ChildProcess*>(arg)->read_log(); }

void ChildProcess::read_log() {
  if (!log_pipe_) return;
  char buf[4096];
  std::string tag = std::string(name()) + "[" + std::to_string(pid_) + "]";
  for (;;) {
    ssize_t n = read(log_pipe_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) log_event_.reset();  // end of pipe
      break;
    }
    log_line_.append(buf, static_cast<size_t>(n));
    std::size_t eol;
    while ((eol = log_line_.find('\n')) != std::string::npos) {
      log::relay(tag, std::string_view(log_line_).substr(0, eol));
      log_line_.erase(0, eol + 1);
    }
    if (log_line_.size() > 8192) {  // a child that never ends its line still gets heard
      log::relay(tag, log_line_);
      log_line_.clear();
    }
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
}

}  // namespace xmppd::parent
