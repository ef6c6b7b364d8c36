// The certificates trusted to verify remote servers, read by the parent: `cafile` and
// `capath` of a host's s2s TLS settings, or the system store when neither is set. The
// chrooted s2s worker receives them as DER in its configuration.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/settings.h"
#include "control.pb.h"

namespace xmppd::parent {

// Reads every certificate of `cafile` and of the files in `capath` (each once). Empty
// `cafile` and `capath` mean OpenSSL's default file and directory (the system store).
// A named file or directory that cannot be read, or yields no certificate, is an error;
// an empty system store only a warning.
bool load_trust_anchors(const std::string& cafile, const std::string& capath, ipc::TrustStore& out,
                        std::vector<std::string>& warnings, std::string& error);

// The trust stores of every host's s2s settings, each distinct (cafile, capath) read once.
struct S2sTrust {
  std::vector<ipc::TrustStore> stores;
  std::map<std::string, std::uint32_t> store_of_host;
};
bool load_s2s_trust(const config::Settings& settings, S2sTrust& out, std::vector<std::string>& warnings,
                    std::string& error);

}  // namespace xmppd::parent
