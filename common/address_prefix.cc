#include "common/address_prefix.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace xmppd::net {

std::string prefix_key(std::string_view address) {
  const std::string_view text = address.substr(0, address.find(' '));
  std::string bare(text.substr(0, text.find('%')));
  char out[INET6_ADDRSTRLEN];
  in_addr v4{};
  // Printed back by inet_ntop in every case, so that two spellings of one address (which
  // inet_pton may accept for IPv6) are one key.
  if (inet_pton(AF_INET, bare.c_str(), &v4) == 1) return inet_ntop(AF_INET, &v4, out, sizeof out);
  in6_addr v6{};
  if (inet_pton(AF_INET6, bare.c_str(), &v6) != 1) return "?" + std::string(text);
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, v6.s6_addr + 12, sizeof v4);
    return inet_ntop(AF_INET, &v4, out, sizeof out);
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  return std::string(inet_ntop(AF_INET6, &v6, out, sizeof out)) + "/64";
}

}  // namespace xmppd::net
