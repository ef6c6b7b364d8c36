#include "router/module_table.h"

#include <algorithm>

#include "router/modules/modules.h"

namespace xmppd::router {
namespace {

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

ModuleTable::ModuleTable(Server& server) {
  for (const ModuleFactory& factory : module_factories()) {
    ModuleContext context{server, *this, modules_.size()};
    modules_.push_back(factory(context));
  }
}

ModuleTable::~ModuleTable() = default;

Module* ModuleTable::find(std::string_view name) const {
  for (const auto& module : modules_)
    if (module->name() == name) return module.get();
  return nullptr;
}

ModuleSet ModuleTable::set_of(const std::vector<std::string>& names) const {
  ModuleSet set;
  for (const auto& module : modules_)
    if (std::find(names.begin(), names.end(), module->name()) != names.end()) set.set(module->index());
  return set;
}

void ModuleTable::on_iq(IqScope scope, std::string_view ns, std::string_view name, const Module& module,
                        IqHandler handler) {
  iq_.insert_or_assign(Key{scope, std::string(ns), std::string(name)}, std::make_pair(&module, std::move(handler)));
}

bool ModuleTable::handle_iq(IqScope scope, const IqRequest& request, const ModuleSet& enabled) const {
  auto it = iq_.find(std::make_tuple(scope, std::string_view(request.payload.ns()),
                                     std::string_view(request.payload.name())));
  if (it == iq_.end() || !it->second.first->enabled(enabled)) return false;
  it->second.second(request);
  return true;
}

std::vector<std::string> ModuleTable::server_features(const ModuleSet& enabled) const {
  std::vector<std::string> out;
  for (const auto& module : modules_)
    if (module->enabled(enabled)) module->server_features(out);
  sort_unique(out);
  return out;
}

std::vector<std::string> ModuleTable::account_features(const ModuleSet& enabled) const {
  std::vector<std::string> out;
  for (const auto& module : modules_)
    if (module->enabled(enabled)) module->account_features(out);
  sort_unique(out);
  return out;
}

std::vector<std::pair<std::string, std::string>> ModuleTable::account_identities(const ModuleSet& enabled) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& module : modules_)
    if (module->enabled(enabled)) module->account_identities(out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<xml::Element> ModuleTable::server_forms(const HostConfig& host) const {
  std::vector<xml::Element> out;
  for (const auto& module : modules_)
    if (module->enabled(host.modules)) module->server_forms(host, out);
  return out;
}

void ModuleTable::stream_features(const HostConfig& host, std::string& out) const {
  for (const auto& module : modules_)
    if (module->enabled(host.modules)) module->stream_features(host, out);
}

void ModuleTable::account_items(const ModuleSet& enabled, const std::string& bare, const xmpp::Jid& from,
                                xml::Element& query) const {
  for (const auto& module : modules_)
    if (module->enabled(enabled)) module->account_items(bare, from, query);
}

}  // namespace xmppd::router
