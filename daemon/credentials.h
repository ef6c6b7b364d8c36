// Which certificate and key files serve each host, found the way Prosody finds them, and
// opened by the parent (as root) for the tls helper, which opens no path itself.
#pragma once

#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "config/settings.h"
#include "control.pb.h"

namespace xmppd::parent {

struct OpenCredentials {
  ipc::TlsSettings settings;  // one Credential per host and service
  std::vector<std::pair<std::string, UniqueFd>> files;  // each distinct path once
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  // each names its file
};

// For each enabled host, for c2s and (unless s2s is disabled for it) s2s: the `ssl`
// certificate and key if both are set (c2s_ssl / s2s_ssl overlaid), else in the
// `certificates` folder HOST.crt + HOST.key, then HOST/fullchain.pem + HOST/privkey.pem
// (Let's Encrypt's layout), then the same for the parent domain (a wildcard certificate).
// A host with none is a warning; a named file that cannot be opened is an error. With an HTTP
// service (Settings::serves_http), also SERVICE_HTTPS for each enabled host and each
// http_file_share component (whose parent domain's certificate serves when it has none).
OpenCredentials open_credentials(const config::Settings& settings);

}  // namespace xmppd::parent
