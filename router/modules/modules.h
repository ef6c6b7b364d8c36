// The table of the router's modules: one factory per file of router/modules/.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "router/module.h"
#include "router/module_table.h"

namespace xmppd::router {

using ModuleFactory = std::function<std::unique_ptr<Module>(const ModuleContext&)>;

// In the order their hooks run.
const std::vector<ModuleFactory>& module_factories();

// One per module file.
std::unique_ptr<Module> make_disco(const ModuleContext& context);
std::unique_ptr<Module> make_ping(const ModuleContext& context);
std::unique_ptr<Module> make_version(const ModuleContext& context);
std::unique_ptr<Module> make_time(const ModuleContext& context);
std::unique_ptr<Module> make_uptime(const ModuleContext& context);
std::unique_ptr<Module> make_roster(const ModuleContext& context);
std::unique_ptr<Module> make_offline(const ModuleContext& context);
std::unique_ptr<Module> make_server_contact_info(const ModuleContext& context);
std::unique_ptr<Module> make_csi_simple(const ModuleContext& context);
std::unique_ptr<Module> make_carbons(const ModuleContext& context);
std::unique_ptr<Module> make_blocklist(const ModuleContext& context);
std::unique_ptr<Module> make_private(const ModuleContext& context);
std::unique_ptr<Module> make_pep(const ModuleContext& context);
std::unique_ptr<Module> make_bookmarks(const ModuleContext& context);
// After pep, whose service they use.
std::unique_ptr<Module> make_vcard_legacy(const ModuleContext& context);
std::unique_ptr<Module> make_vcard4(const ModuleContext& context);
std::unique_ptr<Module> make_register(const ModuleContext& context);
std::unique_ptr<Module> make_mam(const ModuleContext& context);
std::unique_ptr<Module> make_cloud_notify(const ModuleContext& context);
std::unique_ptr<Module> make_smacks(const ModuleContext& context);
std::unique_ptr<Module> make_turn_external(const ModuleContext& context);

}  // namespace xmppd::router
