// What one user may make the router hold (xmppd.conf(5): the max_user_* and max_* options).
// Each is refused with a stanza error when reached, never by dropping what is already kept.
#pragma once

#include <cstddef>

namespace xmppd::router {

struct UserQuotas {
  std::size_t offline_messages = 500;       // max_user_offline_messages
  std::size_t offline_bytes = 4 << 20;      // max_user_offline_bytes
  std::size_t pending_subscriptions = 100;  // max_pending_subscriptions
  std::size_t roster_items = 1000;          // max_roster_items
  std::size_t directed_presences = 100;     // max_directed_presences, per session
  std::size_t sessions = 10;                // max_user_sessions: bound resources per account
};

}  // namespace xmppd::router
