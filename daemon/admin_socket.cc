#include "daemon/admin_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace xmppd::parent {
namespace {

constexpr ipc::Limits kRequestLimits{16 << 10, 0};
constexpr ipc::Limits kAnswerLimits{AdminSocket::kMaxAnswerRecord, 0};

}  // namespace

AdminSocket::AdminSocket(struct event_base* base, Ask ask, Gone gone)
    : base_(base), ask_(std::move(ask)), gone_notice_(std::move(gone)) {
  reap_.reset(event_new(base_, -1, 0, on_reap, this));
}

void AdminSocket::on_reap(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<AdminSocket*>(arg);
  for (ClientId c : self->gone_) self->clients_.erase(c);
  self->gone_.clear();
}

AdminSocket::~AdminSocket() {
  if (!path_.empty()) unlink(path_.c_str());
}

bool AdminSocket::listen(const std::string& path, std::string& error) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = path + ": path too long for a socket";
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  listener_.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  unlink(path.c_str());
  mode_t old = umask(0177);  // 0600 from the start: no window where others could connect
  bool ok = listener_ && bind(listener_.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0 &&
            ::listen(listener_.get(), 16) == 0;
  umask(old);
  if (!ok) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  path_ = path;
  accept_event_.reset(event_new(base_, listener_.get(), EV_READ | EV_PERSIST, on_accept, this));
  event_add(accept_event_.get(), nullptr);
  return true;
}

void AdminSocket::on_accept(evutil_socket_t, short, void* arg) { static_cast<AdminSocket*>(arg)->accept_one(); }

void AdminSocket::accept_one() {
  UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return;
  struct ucred cred = {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
    log::warning("control socket: refused a connection from uid %u", cred.uid);
    return;
  }
  auto client = std::make_unique<Client>(base_, std::move(fd), kRequestLimits, kAnswerLimits, "xmppctl");
  const ClientId id = next_client_++;
  for (auto kind : {ipc::AdminRequest::kAccount, ipc::AdminRequest::kStatus, ipc::AdminRequest::kShowC2S,
                    ipc::AdminRequest::kShowS2S, ipc::AdminRequest::kCloseS2S, ipc::AdminRequest::kKick,
                    ipc::AdminRequest::kReload, ipc::AdminRequest::kUsers, ipc::AdminRequest::kShowComponents,
                    ipc::AdminRequest::kShowMuc})
    client->on(kind, 0, [this, id](const ipc::AdminRequest& m, auto&) { ask_(id, m); });
  client->start([this, id](ipc::CloseReason reason, std::string_view detail) {
    if (reason == ipc::CloseReason::kViolation)
      log::warning("control socket: %.*s", static_cast<int>(detail.size()), detail.data());
    close(id);
  });
  clients_[id] = std::move(client);
}

bool AdminSocket::respond(ClientId client, const ipc::AdminResponse& response) {
  auto it = clients_.find(client);
  if (it == clients_.end() || std::find(gone_.begin(), gone_.end(), client) != gone_.end()) return false;
  return it->second->send(response);
}

void AdminSocket::close(ClientId client) {
  if (clients_.count(client) == 0 || std::find(gone_.begin(), gone_.end(), client) != gone_.end()) return;
  gone_notice_(client);
  // Destroyed from the loop: this may run inside the channel's own callback.
  gone_.push_back(client);
  event_active(reap_.get(), 0, 0);
}

}  // namespace xmppd::parent
