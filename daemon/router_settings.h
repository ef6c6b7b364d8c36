// The parts of the router's Configure that carry what its modules need: each host's module
// set and the options those modules read, and the per-user quotas. Pure functions of the
// settings, so that a test can check what the router is told.
#pragma once

#include <optional>

#include "config/settings.h"
#include "control.pb.h"

namespace xmppd::parent {

// One host's effective modules (Prosody's names), admins and contact addresses (contact_info,
// else the admins, as HostSettings::contact_addresses).
ipc::RouterSettings::HostModules host_modules(const config::HostSettings& host);

// turn_external (XEP-0215) of a host that enables it with a secret; the TURN server's name
// defaults to the host's.
std::optional<ipc::RouterSettings::TurnService> turn_service(const config::HostSettings& host);
ipc::RouterSettings::UserQuotas user_quotas(const config::QuotaSettings& quotas);
ipc::RouterSettings::Smacks smacks_settings(const config::SmacksSettings& smacks);
// A MUC service (Component "domain" "muc") and its options; its parent host is the enabled
// VirtualHost its domain is a subdomain of, the nearest one.
ipc::RouterSettings::MucService muc_service(const config::HostSettings& component, const config::Settings& settings);

}  // namespace xmppd::parent
