// What the parent tells the HTTP process (xmppd-http), the key that ties the router's
// upload slots to the HTTP process's checks of them, and a host's TLS options (told to the
// router and the s2s worker too). Pure functions of the settings but for
// the key, so that a test can check what the HTTP process is told.
#pragma once

#include <string>

#include "config/settings.h"
#include "control.pb.h"

namespace xmppd::parent {

// 32 random bytes, made once per start of the parent (the first call): the router signs
// upload slots with it (RouterSettings.slot_key) and the HTTP process checks them
// (HttpSettings.slot_key). A slot outlives neither a restart of xmppd nor its own expiry.
const std::string& slot_key();

// A host's TLS options as the router, the s2s worker and the HTTP process are told them.
ipc::HostTls host_tls(const std::string& host, const config::TlsSettings& ssl);

// The file sharing service of a Component "name" "http_file_share" section: its options,
// its parent host (the enabled VirtualHost it is the nearest subdomain of) and the base of
// its URLs.
ipc::FileShareService file_share_service(const config::HostSettings& component, const config::Settings& settings);

// Every field of HttpSettings from the configuration; slot_key from slot_key().
ipc::HttpSettings http_settings(const config::Settings& settings);

}  // namespace xmppd::parent
