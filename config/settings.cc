#include "config/settings.h"

#include <filesystem>

#include "config/host_name.h"
#include "config/loader.h"
#include "config/settings_builder.h"

namespace xmppd::config {
namespace {

std::optional<Settings> build(const std::vector<Event>& events, const std::string& name,
                              std::vector<Diagnostic>& diags) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(name, ec);
  if (ec) absolute = name;
  // Only this load's findings decide whether it failed, not what the caller
  // had in diags already.
  std::vector<Diagnostic> found;
  SettingsBuilder builder(absolute.lexically_normal().string(), found);
  for (const Event& e : events) builder.add(e);
  std::optional<Settings> settings = builder.finish();
  diags.insert(diags.end(), found.begin(), found.end());
  return settings;
}

}  // namespace

bool HostSettings::module_enabled(std::string_view module) const {
  return modules.find(std::string(module)) != modules.end();
}

std::map<std::string, std::vector<std::string>> HostSettings::contact_addresses() const {
  if (!contact_info.empty() || admins.empty()) return contact_info;
  std::vector<std::string> addresses;
  for (const std::string& jid : admins) addresses.push_back("xmpp:" + jid);
  return {{"admin", std::move(addresses)}};
}

const HostSettings* Settings::find_host(std::string_view name) const {
  std::string wanted = normalize_host_name(name, nullptr).value_or(std::string(name));
  for (const HostSettings& h : hosts)
    if (h.name == wanted) return &h;
  return nullptr;
}

std::vector<std::reference_wrapper<const HostSettings>> Settings::federating() const {
  std::vector<std::reference_wrapper<const HostSettings>> out(hosts.begin(), hosts.end());
  out.insert(out.end(), components.begin(), components.end());
  return out;
}

bool Settings::has_external_components() const {
  for (const HostSettings& component : components)
    if (component.enabled && component.component_module.empty()) return true;
  return false;
}

bool Settings::serves_http() const {
  if (global.module_enabled("http_openmetrics")) return true;
  for (const HostSettings& host : hosts)
    if (host.enabled && host.module_enabled("websocket")) return true;
  for (const HostSettings& component : components)
    if (component.enabled && component.component_module == "http_file_share") return true;
  return false;
}

const HostSettings* Settings::find_component(std::string_view name) const {
  std::string wanted = normalize_host_name(name, nullptr).value_or(std::string(name));
  for (const HostSettings& c : components)
    if (c.name == wanted) return &c;
  return nullptr;
}

std::optional<Settings> load_file(const std::string& path, std::vector<Diagnostic>& diags) {
  return build(load_events_from_file(path), path, diags);
}

std::optional<Settings> load_string(std::string_view text, const std::string& name,
                                    std::vector<Diagnostic>& diags) {
  return build(load_events_from_string(text, name), name, diags);
}

}  // namespace xmppd::config
