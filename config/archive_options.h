// The message archive's options (xmppd.conf(5), "Message archive"), as Prosody's mod_mam
// reads them: archive_expires_after ("1w", "2d", "3m", "1y", seconds, or "never") and
// default_archive_policy (true, false or "roster"). Parsed here, for the option table's
// validators and for the settings builder alike.
#ifndef XMPPD_CONFIG_ARCHIVE_OPTIONS_H
#define XMPPD_CONFIG_ARCHIVE_OPTIONS_H

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/value.h"

namespace xmppd::config {

// Seconds; 0 for "never". As Prosody: a number and an optional unit d, w, m (31 days) or y
// (365 days); nullopt for anything else.
std::optional<std::int64_t> parse_archive_expiry(const Value& value);

// 0 never, 1 always, 2 roster (config::QuotaSettings::archive_policy).
std::optional<int> parse_archive_policy(const Value& value);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_ARCHIVE_OPTIONS_H
