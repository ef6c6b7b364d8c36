// The parent's log outputs, made from the `log` option (config/log_option.h): the parent alone
// opens and writes the files; children keep writing to their pipe, which the parent relays.
// Reads only the configuration's settings.
#pragma once

#include <string>
#include <vector>

#include "common/log.h"
#include "config/settings.h"

namespace xmppd::parent {

// The log option's sinks, or with none syslog(3); -d (`foreground`) adds standard error with the
// levels -v asks for (`verbosity`: notice and up, info with -v, debug with -vv), and takes the
// place of the default syslog. Each file is opened once for appending, without blocking and
// without following a symbolic link anywhere in its path, and made mode 0640. Root writes it,
// so it must be a regular file with one link, owned by the parent's user, in a directory owned
// by root (or that user) and writable by no one else. False with `error`
// ("/var/log/xmppd/xmppd.log: not a regular file") when a file cannot be opened or is refused:
// then `out` is left as it was.
bool open_log_outputs(const config::Settings& settings, bool foreground, int verbosity, std::vector<log::Output>& out,
                      std::string& error);

// The verbosity every process must log at (log.h) for each sink to get its levels: -v's, or
// more when a sink takes info or debug.
int log_verbosity(const config::Settings& settings, int command_line);

}  // namespace xmppd::parent
