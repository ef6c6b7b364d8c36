#ifndef XMPPD_CONFIG_QUOTAS_H
#define XMPPD_CONFIG_QUOTAS_H

// Per-user quotas (xmppd.conf(5), "Per-user quotas"): what one user may make the router hold.
// Each is refused with a stanza error when reached, never by dropping what is already kept.
// The one definition: the parent reads them into Settings, the router enforces the copy it is
// sent (daemon/quotas.h); the defaults here are the schema's (config/options.cc), which a
// test compares.

#include <cstddef>

namespace xmppd::config {

struct QuotaSettings {
  std::size_t offline_messages = 500;       // max_user_offline_messages
  std::size_t offline_bytes = 4 << 20;      // max_user_offline_bytes
  std::size_t pending_subscriptions = 100;  // max_pending_subscriptions
  std::size_t roster_items = 1000;          // max_roster_items
  std::size_t directed_presences = 100;     // max_directed_presences, per session
  std::size_t sessions = 10;                // max_user_sessions: bound resources per account

  bool operator==(const QuotaSettings&) const = default;
};

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_QUOTAS_H
