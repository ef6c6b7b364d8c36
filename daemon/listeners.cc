#include "daemon/listeners.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace xmppd::parent {
namespace {

constexpr int kBacklog = 511;

// Prosody's interface names: "*" is every IPv4 address, "::" every IPv6 address.
std::string numeric_address(const std::string& interface) { return interface == "*" ? "0.0.0.0" : interface; }

bool bind_one(const std::string& interface, int port, ipc::Listener::Kind kind, std::vector<ListenSocket>& out,
              std::string& error) {
  std::string where = interface + " port " + std::to_string(port);
  struct addrinfo hints = {};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* ai = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(numeric_address(interface).c_str(), service.c_str(), &hints, &ai); rc != 0) {
    error = "cannot listen on " + where + ": interfaces must be IP addresses (" + gai_strerror(rc) + ")";
    return false;
  }
  UniqueFd fd(socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int on = 1;
  // Accepted connections inherit SO_KEEPALIVE: a peer that vanished without a word (a phone
  // off the network) is found out by the kernel and its session ends, with no timer here.
  // They inherit TCP_NODELAY too (Linux and the BSDs): a stream writes what one turn of the
  // event loop produced in one go (stream/transport.cc), which Nagle's algorithm would hold
  // back for the peer's acknowledgement.
  bool ok = fd && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
            setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == 0 &&
            setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0 &&
            (ai->ai_family != AF_INET6 || setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0) &&
            bind(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd.get(), kBacklog) == 0;
  freeaddrinfo(ai);
  if (!ok) {
    error = "cannot listen on " + where + ": " + std::strerror(errno);
    return false;
  }
  ListenSocket socket;
  socket.description.set_kind(kind);
  socket.description.set_address(interface);
  socket.description.set_port(static_cast<unsigned>(port));
  socket.fd = std::move(fd);
  out.push_back(std::move(socket));
  return true;
}

bool bind_all(const std::vector<std::string>& interfaces, const std::vector<int>& ports, ipc::Listener::Kind kind,
              std::vector<ListenSocket>& out, std::string& error) {
  for (const std::string& interface : interfaces)
    for (int port : ports)
      if (!bind_one(interface, port, kind, out, error)) return false;
  return true;
}

}  // namespace

ipc::Role ListenSocket::owner() const {
  switch (description.kind()) {
    case ipc::Listener::KIND_S2S:
    case ipc::Listener::KIND_S2S_DIRECT_TLS:
      return ipc::ROLE_S2S;
    case ipc::Listener::KIND_HTTP:
    case ipc::Listener::KIND_HTTPS:
      return ipc::ROLE_HTTP;
    default:
      return ipc::ROLE_ROUTER;
  }
}

bool open_listeners(const config::Settings& settings, std::vector<ListenSocket>& out, std::string& error) {
  if (!bind_all(settings.c2s_interfaces, settings.c2s_ports, ipc::Listener::KIND_C2S, out, error) ||
      !bind_all(settings.c2s_interfaces, settings.c2s_direct_tls_ports, ipc::Listener::KIND_C2S_DIRECT_TLS, out,
                error))
    return false;
  // The component port is opened only when a component may connect to it, as Prosody's
  // mod_component does; the router reads its streams (plain TCP: XEP-0114 has no TLS).
  if (settings.has_external_components() &&
      !bind_all(settings.component_interfaces, settings.component_ports, ipc::Listener::KIND_COMPONENT, out, error))
    return false;
  // The HTTP process's ports only when it runs (an HTTP service is configured), as Prosody
  // opens them only when a module wants HTTP.
  if (settings.serves_http() &&
      (!bind_all(settings.http.http_interfaces, settings.http.http_ports, ipc::Listener::KIND_HTTP, out, error) ||
       !bind_all(settings.http.https_interfaces, settings.http.https_ports, ipc::Listener::KIND_HTTPS, out, error)))
    return false;
  // modules_disabled = { "s2s" } globally: nothing listens for servers.
  if (!settings.global.module_enabled("s2s")) return true;
  return bind_all(settings.s2s_interfaces, settings.s2s_ports, ipc::Listener::KIND_S2S, out, error) &&
         bind_all(settings.s2s_interfaces, settings.s2s_direct_tls_ports, ipc::Listener::KIND_S2S_DIRECT_TLS, out,
                  error);
}

}  // namespace xmppd::parent
