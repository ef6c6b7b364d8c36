#ifndef XMPPD_CONFIG_RATE_LIMITS_H
#define XMPPD_CONFIG_RATE_LIMITS_H

// Prosody's `limits` option (mod_limits), read with Prosody's syntax:
//   limits = { c2s = { rate = "10kb/s", burst = "2s" }, s2sin = { rate = "30kb/s" } }
// A rate is digits, an optional space, a unit whose first letter (any case) is b, k, m, g
// or t (bytes, or 10^3, 10^6, 10^9, 10^12 bytes: decimal, as Prosody reads it), and "/s".
// Like Prosody, only the unit's first letter is read ("10kbit/s" is 10 kilobytes a second);
// a unit other than that letter alone or with "b" is taken so, with a warning.
// A burst is seconds: digits with an optional space and "s", or a number. Only the
// configuration file is trusted here; every malformed value is an error.

#include <optional>
#include <string_view>

#include "config/options.h"
#include "config/value.h"

namespace xmppd::config {

// Bytes per second, or nullopt when `text` is not a rate in Prosody's syntax.
std::optional<double> parse_rate(std::string_view text);
// Seconds, or nullopt when `value` is not a burst in Prosody's syntax.
std::optional<double> parse_burst(const Value& value);

std::optional<Problem> check_limits(const Value& value);
// max_connections_per_address and its kind: 0 (no limit, or derived) to 1,000,000.
std::optional<Problem> connection_count(const Value& value);
void store_limits(const Value& value, Settings& settings, HostSettings& host);
// unlimited_jids, lowercased as the router's bare JIDs are (nodeprep and nameprep fold case).
void store_unlimited_jids(const Value& value, Settings& settings, HostSettings& host);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_RATE_LIMITS_H
