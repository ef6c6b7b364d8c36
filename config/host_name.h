#ifndef XMPPD_CONFIG_HOST_NAME_H
#define XMPPD_CONFIG_HOST_NAME_H

#include <optional>
#include <string>
#include <string_view>

namespace xmppd::config {

// The lowercased form of a VirtualHost name, or nullopt with the reason in
// *why. Only ASCII DNS names are taken: an internationalised name must be
// written in its xn-- form so that it compares equal to what peers send.
std::optional<std::string> normalize_host_name(std::string_view name, std::string* why);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_HOST_NAME_H
