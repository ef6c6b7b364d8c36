#include "daemon/child_links.h"

namespace xmppd {

ChildLinks::ChildLinks()
    : links_{{ipc::ROLE_ROUTER, ipc::ROLE_TLS},
             {ipc::ROLE_ROUTER, ipc::ROLE_AUTH},
             {ipc::ROLE_ROUTER, ipc::ROLE_STORAGE},
             {ipc::ROLE_ROUTER, ipc::ROLE_S2S},
             {ipc::ROLE_S2S, ipc::ROLE_TLS},
             {ipc::ROLE_HTTP, ipc::ROLE_TLS}} {}

bool ChildLinks::linked(ipc::Role a, ipc::Role b) const {
  for (const Link& link : links_)
    if ((link.a == a && link.b == b) || (link.a == b && link.b == a)) return true;
  return false;
}

std::optional<ipc::Role> ChildLinks::accusable(ipc::Role reporter, int peer) const {
  if (!ipc::Role_IsValid(peer)) return std::nullopt;
  auto role = static_cast<ipc::Role>(peer);
  if (role == reporter || !linked(reporter, role)) return std::nullopt;
  return role;
}

std::string loggable(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > limit) out += "...";
  return out;
}

}  // namespace xmppd
