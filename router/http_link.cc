#include "router/http_link.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

#include <algorithm>

#include "common/address_prefix.h"
#include "common/log.h"

namespace xmppd::router {
namespace {

// A handover record is small: an address and two TLS names.
constexpr ipc::Limits kFromHttp{4 << 10, 1};
constexpr ipc::Limits kToHttp{4 << 10, 0};
constexpr std::size_t kMaxFact = 64;

bool printable(std::string_view text) {
  return text.size() <= kMaxFact && std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

const char* refused_websocket_client(const ipc::WebSocketClient& client, int fd) {
  // "ADDRESS port N", as accept_connection writes peers: anything else would share the
  // "?" key of the connection limits and slip past the per-address count.
  if (client.peer().empty() || client.peer().size() > 80 || net::prefix_key(client.peer()).starts_with("?"))
    return "its peer is not an address";
  if (!printable(client.tls_version()) || !printable(client.cipher())) return "its TLS facts are not short names";
  if (!client.secure() && !client.tls_version().empty()) return "it names TLS but is not secure";
  // fstat(2), which the router's sandbox allows (getsockopt(2) it does not): a socket, not a
  // file the HTTP process could have opened.
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return "its descriptor is not a socket";
  // A connected one: recvmsg(2) peeking at nothing (it allows that, and getsockname(2) not)
  // fails with something other than "no data yet" on a listening or unconnected socket, e.g.
  // one of the HTTP process's listeners. Its type and family are not checked.
  char byte;
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    return "its descriptor is not a connected socket";
  return nullptr;
}

bool HandoverRate::take(std::chrono::steady_clock::time_point now) {
  if (last_ != std::chrono::steady_clock::time_point{}) {
    double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(kBurst, tokens_ + seconds * kPerSecond);
  }
  last_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

HttpLink::HttpLink(struct event_base* base, Adopt adopt, std::function<void(std::string_view)> on_violation)
    : base_(base), adopt_(std::move(adopt)), on_violation_(std::move(on_violation)) {}

void HttpLink::link(UniqueFd sock) {
  channel_ = std::make_unique<Channel>(base_, std::move(sock), kFromHttp, kToHttp, "http");
  channel_->on(ipc::HttpToRouter::kWebsocketClient, 1, [this](const ipc::HttpToRouter& m, std::vector<UniqueFd>& fds) {
    websocket_client(m.websocket_client(), std::move(fds[0]));
  });
  channel_->start([this](ipc::CloseReason reason, std::string_view detail) {
    if (reason == ipc::CloseReason::kViolation) on_violation_(detail);
    log::info("link to the HTTP process closed; WebSocket clients wait until it is back");
  });
}

void HttpLink::websocket_client(const ipc::WebSocketClient& client, UniqueFd fd) {
  if (const char* why = refused_websocket_client(client, fd.get())) {
    // A malformed handover is the HTTP process's fault, not the client's: report it (the
    // parent restarts it) and drop the descriptor.
    on_violation_(std::string("WebSocketClient refused: ") + why);
    return;
  }
  // Over the rate the record is refused, not a violation: a restarted HTTP process may
  // bring all its clients back at once. The client's stream just ends (its fd closes).
  std::string refused;
  if (!rate_.take(std::chrono::steady_clock::now())) {
    refused = "too many WebSocket clients at once";
  } else {
    stream::RelayedClient facts{client.secure(), client.tls_version(), client.cipher()};
    refused = adopt_(std::move(fd), client.peer(), std::move(facts));
  }
  if (refused.empty()) return;
  ipc::RouterToHttp answer;
  answer.mutable_websocket_refused()->set_peer(client.peer());
  answer.mutable_websocket_refused()->set_reason(refused);
  channel_->send(answer);
}

}  // namespace xmppd::router
