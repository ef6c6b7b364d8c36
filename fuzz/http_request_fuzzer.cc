// The HTTP process's request path (http/http_server.cc): the input arrives as a client's bytes
// on a loopback TCP connection, evhttp parses them, HttpServer checks the path, method and
// headers and hands the request to the handler of the longest matching prefix.
//
// Invariants: a handler only ever sees a path that is absolute and has no NUL, backslash or
// ".." segment (path_problem), under its own prefix, with a lowercase Host; every answer
// starts with an HTTP/1.x status line and carries X-Content-Type-Options: nosniff.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http/http_server.h"

namespace {

using namespace xmppd;

struct Recording final : http::Handler {
  std::string prefix, longer;  // longer: a prefix below this one that has a handler of its own
  void on_request(evhttp_request* req, const http::RequestInfo& info) override {
    if (!http::path_problem(info.path).empty() || !info.path.starts_with(prefix)) std::abort();
    if (!longer.empty() && info.path.starts_with(longer)) std::abort();
    for (char c : info.host)
      if (std::isupper(static_cast<unsigned char>(c))) std::abort();
    evhttp_send_reply(req, 200, "OK", nullptr);
  }
};

struct World {
  event_base* base = event_base_new();
  http::HttpServer server{base};
  Recording short_prefix, long_prefix;
  int port = 0;

  World() {
    short_prefix.prefix = "/a/";
    long_prefix.prefix = short_prefix.longer = "/a/b/";
    server.add(short_prefix.prefix, short_prefix);
    server.add(long_prefix.prefix, long_prefix);
    http::ServerLimits limits;
    limits.max_body = limits.max_read = 4096;
    server.set_limits(limits);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      std::abort();
    port = ntohs(addr.sin_port);
    std::string error;
    if (!server.add_listener(UniqueFd(fd), false, error)) std::abort();
  }

  void turn() { event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE); }
};

void check_answer(const std::string& answer) {
  if (answer.empty()) return;  // closed unanswered (a connection limit, a malformed request)
  if (!answer.starts_with("HTTP/1.")) std::abort();
  if (answer.find("\r\nX-Content-Type-Options: nosniff\r\n") == std::string::npos &&
      answer.find(" 413 ") == std::string::npos && answer.find(" 400 ") == std::string::npos)
    std::abort();  // evhttp's own refusals (413 headers, 400 a malformed line) come before dispatch
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World;
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(world->port));
  if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  std::size_t sent = 0;
  std::string answer;
  bool eof = false;
  for (int turns = 0; turns < 2000 && !eof; ++turns) {
    world->turn();
    pollfd p{c, static_cast<short>(POLLIN | (sent < size ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 1) <= 0) continue;
    if ((p.revents & POLLOUT) && sent < size) {
      ssize_t n = send(c, data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (sent == size) shutdown(c, SHUT_WR);
      if (n < 0 && errno != EAGAIN) break;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[4096];
      ssize_t n = recv(c, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) answer.append(buffer, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN)) eof = true;
    }
    if (size == 0 && sent == 0) {
      shutdown(c, SHUT_WR);
      sent = 1;  // nothing to send: only the end
    }
  }
  close(c);
  for (int i = 0; i < 4; ++i) world->turn();  // the server sees the close and frees its side
  check_answer(answer);
  return 0;
}
