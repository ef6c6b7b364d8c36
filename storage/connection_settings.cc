#include "storage/connection_settings.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace xmppd::storage {

bool resolve_host(const ipc::StorageSettings& settings, std::string& address, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(settings.host().c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "sql host " + settings.host() + ": " + gai_strerror(rc);
    return false;
  }
  char text[NI_MAXHOST];
  const int n = getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(found);
  if (n != 0) {
    error = "sql host " + settings.host() + ": " + gai_strerror(n);
    return false;
  }
  address = text;
  return true;
}

bool is_loopback(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

std::string quote_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string conninfo(const ipc::StorageSettings& settings, const std::string& address) {
  std::string out = "host=" + quote_value(settings.host()) + " hostaddr=" + quote_value(address) +
                    " port=" + quote_value(std::to_string(settings.port())) +
                    " connect_timeout=" + quote_value(std::to_string(kConnectTimeoutSeconds)) +
                    " keepalives='1' keepalives_idle=" + quote_value(std::to_string(kKeepaliveIdleSeconds)) +
                    " keepalives_interval=" + quote_value(std::to_string(kKeepaliveIntervalSeconds)) +
                    " keepalives_count=" + quote_value(std::to_string(kKeepaliveCount)) +
                    " tcp_user_timeout=" + quote_value(std::to_string(kTcpUserTimeoutMs)) +
                    " sslmode='disable' gssencmode='disable' application_name='xmppd'" +
                    " options=" + quote_value("-c statement_timeout=" + std::to_string(kStatementTimeoutMs));
  if (!settings.database().empty()) out += " dbname=" + quote_value(settings.database());
  if (!settings.username().empty()) out += " user=" + quote_value(settings.username());
  if (!settings.password().empty()) out += " password=" + quote_value(settings.password());
  return out;
}

}  // namespace xmppd::storage
