#include "common/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace xmppd::net {

UniqueFd accept_connection(int listener, std::string& peer) {
  struct sockaddr_storage ss = {};
  socklen_t len = sizeof ss;
  UniqueFd fd(accept4(listener, reinterpret_cast<struct sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!fd) return fd;
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const struct sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  peer = std::string(host) + " port " + std::to_string(port);
  return fd;
}

}  // namespace xmppd::net
