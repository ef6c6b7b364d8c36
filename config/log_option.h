#ifndef XMPPD_CONFIG_LOG_OPTION_H
#define XMPPD_CONFIG_LOG_OPTION_H

// Prosody's `log` option, read in the declarative forms Prosody documents
// (https://prosody.im/doc/logging and /doc/advanced_logging; core/loggingmanager.lua):
//   log = "/var/log/xmppd/xmppd.log"         -- a file: info and up
//   log = "*syslog"                          -- syslog(3), or "*console": every level
//   log = { info = "/var/log/xmppd/xmppd.log"; error = "/var/log/xmppd/xmppd.err"; "*syslog" }
//   log = { { levels = { min = "info" }, to = "file", filename = "/var/log/xmppd/xmppd.log" },
//           { levels = { "error" }, to = "syslog", syslog_facility = "local0" } }
// Levels are Prosody's four: debug, info (xmppd's notice and info), warn and error; a level
// key means that level and up, `levels` a level, a list, or a { min, max } range. File names
// are absolute. What Prosody offers beyond these (other sink types such as ringbuffer or
// json, unknown keys or levels, a file name without a level) is an error at its line, never
// silently ignored. `{}`, the default, is xmppd's own logging: syslog, or stderr with -d.
// Only the configuration file is read here; the parent opens the files (daemon/log_outputs.cc).

#include <optional>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "config/value.h"

namespace xmppd::config {

std::optional<Problem> check_log(const Value& value);
void store_log(const Value& value, Settings& settings, HostSettings& host);

// syslog(3)'s facility names, as syslog_facility and a sink's syslog_facility take them.
const std::vector<std::string_view>& syslog_facilities();
std::optional<Problem> check_syslog_facility(const Value& value);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_LOG_OPTION_H
