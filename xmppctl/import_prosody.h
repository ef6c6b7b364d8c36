// xmppctl import prosody: moves the users of a stopped Prosody 0.12 (its `internal` file
// storage) into a stopped xmppd. See xmppctl/import_prosody.cc and xmppctl(8).
#pragma once

#include <string>
#include <vector>

#include "config/settings.h"

namespace xmppd::ctl {

// `args`: [-F] DATA_DIR [HOST...]. Returns the exit code: 0 when every user was imported or
// skipped as already present, 1 when any failed, 2 for a bad command line.
int import_prosody(const config::Settings& settings, const std::vector<std::string>& args);

}  // namespace xmppd::ctl
