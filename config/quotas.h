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
  std::size_t pep_nodes = 64;               // max_user_pep_nodes
  std::size_t pep_items = 256;              // pep_max_items, as Prosody: items kept per node
  std::size_t pep_bytes = 8 << 20;          // max_user_pep_bytes: all of a user's items
  std::size_t private_bytes = 256 << 10;    // max_user_private_bytes (XEP-0049)
  std::size_t vcard_bytes = 256 << 10;      // max_user_vcard_bytes (XEP-0054 and XEP-0292 each)
  std::size_t blocklist_items = 1000;       // max_blocklist_items (XEP-0191)
  // The message archive (XEP-0313, Prosody's mod_mam). Unlike the quotas above, the archive's
  // drops the oldest messages past it, as Prosody truncates an archive.
  std::size_t archive_items = 10000;              // storage_archive_item_limit
  std::size_t archive_expires_after = 7 * 86400;  // archive_expires_after, seconds; 0 never
  int archive_policy = 1;                         // default_archive_policy: 0 never, 1 always, 2 roster
  std::size_t archive_query_results = 50;         // max_archive_query_results
  std::size_t archive_cleanup_interval = 4 * 3600;  // archive_cleanup_interval, seconds

  bool operator==(const QuotaSettings&) const = default;
};

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_QUOTAS_H
