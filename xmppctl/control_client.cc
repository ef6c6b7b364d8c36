#include "xmppctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/unique_fd.h"
#include "proto/channel.h"
#include "proto/frame.h"

namespace xmppd::ctl {
namespace {

constexpr int kAnswerTimeoutMs = 30000;
constexpr std::size_t kMaxAnswerBytes = 16 << 10;

std::string socket_path(const Context& context) { return context.settings.data_path + "/control.sock"; }

UniqueFd connect_to(const std::string& path, std::string& error) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = path + ": path too long";
    return {};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (!fd || connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    error = "cannot reach the server at " + path + ": " + std::strerror(errno) + " (is xmppd running?)";
    return {};
  }
  return fd;
}

}  // namespace

bool server_running(const Context& context) {
  std::string error;
  return static_cast<bool>(connect_to(socket_path(context), error));
}

ipc::AdminResponse ask(const Context& context, const ipc::AdminRequest& request) {
  std::string error;
  UniqueFd fd = connect_to(socket_path(context), error);
  if (!fd) fail(kExitUnreachable, error);
  std::string bytes = request.SerializeAsString();
  if (ipc::send_record(fd.get(), std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), {}) !=
      ipc::SendStatus::kSent)
    fail(kExitUnreachable, "cannot send the request");
  struct pollfd p = {fd.get(), POLLIN, 0};
  if (poll(&p, 1, kAnswerTimeoutMs) != 1) fail(kExitUnreachable, "no answer from the server");
  std::vector<std::uint8_t> buffer(kMaxAnswerBytes + 1);
  std::vector<UniqueFd> fds;
  std::size_t length = 0;
  ipc::AdminResponse response;
  std::string why;
  if (ipc::recv_record(fd.get(), buffer, 0, length, fds) != ipc::RecvStatus::kRecord ||
      !ipc::decode_envelope(response, std::span(buffer.data(), length), why))
    fail(kExitFailed, "the server's answer is not understood");
  return response;
}

}  // namespace xmppd::ctl
