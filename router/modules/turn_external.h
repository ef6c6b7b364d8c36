// turn_external's credentials (router/modules/turn_external.cc), apart for the unit test.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xmppd::router {

// The TURN REST scheme (draft-uberti-behave-turn-rest, coturn's use-auth-secret): the user
// name is the expiry as decimal Unix time, followed by ":USER" with turn_external_user (as
// Prosody's mod_external_services), the password base64(HMAC-SHA1(secret, user name)).
struct TurnCredentials {
  std::string username, password;
};
TurnCredentials turn_rest_credentials(std::string_view secret, std::int64_t expiry, std::string_view user = {});

}  // namespace xmppd::router
