#include "xmppctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/unique_fd.h"
#include "proto/channel.h"
#include "proto/frame.h"

namespace xmppd::ctl {
namespace {

constexpr int kAnswerTimeoutMs = 30000;
// The parent's records: a page of a child's answer with its envelope (daemon/admin_socket.h).
constexpr std::size_t kMaxAnswerBytes = (64 << 10) + 1024;

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

UniqueFd send_request(const Context& context, const ipc::AdminRequest& request) {
  std::string error;
  UniqueFd fd = connect_to(socket_path(context), error);
  if (!fd) fail(kExitUnreachable, error);
  std::string bytes = request.SerializeAsString();
  if (ipc::send_record(fd.get(), std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), {}) !=
      ipc::SendStatus::kSent)
    fail(kExitUnreachable, "cannot send the request");
  return fd;
}

ipc::AdminResponse read_response(const UniqueFd& fd) {
  struct pollfd p = {fd.get(), POLLIN, 0};
  if (poll(&p, 1, kAnswerTimeoutMs) != 1) fail(kExitUnreachable, "no answer from the server");
  std::vector<std::uint8_t> buffer(kMaxAnswerBytes + 1);
  std::vector<UniqueFd> fds;
  std::size_t length = 0;
  ipc::AdminResponse response;
  std::string why;
  const ipc::RecvStatus status = ipc::recv_record(fd.get(), buffer, 0, length, fds);
  if (status == ipc::RecvStatus::kClosed || status == ipc::RecvStatus::kError)
    fail(kExitUnreachable, "the server closed the connection before it answered");
  if (status != ipc::RecvStatus::kRecord || !ipc::decode_envelope(response, std::span(buffer.data(), length), why))
    fail(kExitFailed, "the server's answer is not understood");
  return response;
}

}  // namespace

void expect_no_error(const ipc::AdminResponse& response) {
  if (response.has_done() && !response.done().ok())
    fail(kExitFailed, response.done().error().empty() ? "the server refused" : response.done().error());
}

void warn_if_cut(const ipc::AdminResponse& page) {
  if (page.truncated())
    std::fprintf(stderr, "xmppctl: the server cut the list at its limit of 50000 entries (see xmppctl(8))\n");
}

bool server_running(const Context& context) {
  std::string error;
  return static_cast<bool>(connect_to(socket_path(context), error));
}

ipc::AdminResponse ask(const Context& context, const ipc::AdminRequest& request) {
  return read_response(send_request(context, request));
}

void ask_pages(const Context& context, const ipc::AdminRequest& request,
               const std::function<void(const ipc::AdminResponse&)>& page) {
  UniqueFd fd = send_request(context, request);
  for (;;) {
    ipc::AdminResponse response = read_response(fd);
    page(response);
    if (!response.more()) return;
  }
}

}  // namespace xmppd::ctl
