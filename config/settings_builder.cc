#include "config/settings_builder.h"

#include <filesystem>

#include "config/option_types.h"
#include "config/options.h"
#include "config/parser.h"

namespace xmppd::config {
namespace {

std::string* tls_field(TlsSettings& tls, std::string_view key) {
  if (key == "certificate") return &tls.certificate;
  if (key == "key") return &tls.key;
  if (key == "protocol") return &tls.protocol;
  if (key == "ciphers") return &tls.ciphers;
  if (key == "ciphersuites") return &tls.ciphersuites;
  if (key == "cafile") return &tls.cafile;
  if (key == "capath") return &tls.capath;
  return nullptr;
}

// Each layer sets only the keys it names, so a host that gives just its
// own certificate and key keeps the global protocol and cafile.
TlsSettings overlay_tls(TlsSettings base, const std::vector<const Value*>& tables) {
  for (const Value* t : tables) {
    for (const TableEntry& e : t->as_table().entries)
      if (std::string* field = tls_field(base, *e.key)) *field = e.value.as_string();
  }
  return base;
}

}  // namespace

SettingsBuilder::SettingsBuilder(const std::string& source_file, std::vector<Diagnostic>& diags)
    : source_file_(source_file),
      base_dir_(std::filesystem::path(source_file).parent_path().string()),
      diags_(diags) {
  load_defaults();
}

// The defaults are written in configuration syntax in the schema and go
// through the same parser and checks as the file, so the man page, the
// schema and the result cannot drift apart.
void SettingsBuilder::load_defaults() {
  for (const OptionSpec& spec : option_specs()) {
    if (spec.default_value.empty()) continue;
    std::string origin = "default of " + std::string(spec.name);
    std::optional<Value> raw = parse_value(spec.default_value, origin, diags_);
    std::optional<Value> v;
    if (raw) v = convert_option(spec, *raw, ConvertContext{base_dir_, origin, 1, &diags_});
    if (v) defaults_[std::string(spec.name)] = std::move(*v);
  }
}

void SettingsBuilder::add(const Event& event) {
  if (const auto* d = std::get_if<Diagnostic>(&event))
    diags_.push_back(*d);
  else if (const auto* h = std::get_if<HostEvent>(&event))
    add_host(*h);
  else
    add_option(std::get<OptionEvent>(event));
}

// A name is a VirtualHost or a Component, not both: the stanzas for it go to one place.
void SettingsBuilder::add_host(const HostEvent& event) {
  for (const HostLayer& h : hosts_) {
    if (h.name != event.name) continue;
    if (h.component != event.component)
      diags_.push_back({Diagnostic::Severity::kError, event.file, event.line,
                        "'" + event.name + "' is both a VirtualHost and a Component (" + h.file + ":" +
                            std::to_string(h.line) + ")"});
    else if (h.component_module != event.component_module)
      diags_.push_back({Diagnostic::Severity::kError, event.file, event.line,
                        "Component '" + event.name + "' is declared again with another module"});
    return;
  }
  hosts_.push_back({event.name, event.file, event.line, {}, event.component, event.component_module});
}

SettingsBuilder::Layer* SettingsBuilder::layer_for(const std::string& host) {
  if (host.empty()) return &global_;
  for (HostLayer& h : hosts_)
    if (h.name == host) return &h.values;
  return nullptr;
}

void SettingsBuilder::add_option(const OptionEvent& event) {
  auto report = [&](Diagnostic::Severity severity, std::string message) {
    diags_.push_back({severity, event.file, event.line, std::move(message)});
  };
  const OptionSpec* spec = find_option(event.key);
  if (!spec) {
    if (const IgnoredOption* ignored = find_ignored_option(event.key)) {
      if (ignored->warn)
        report(Diagnostic::Severity::kWarning,
               "option '" + event.key + "' is ignored by xmppd: " + std::string(ignored->why));
    } else
      report(Diagnostic::Severity::kWarning, "unknown option '" + event.key + "'");
    return;
  }
  if (!event.host.empty() && spec->scope == OptionScope::kGlobal)
    return report(Diagnostic::Severity::kError, event.key + " can only be set globally");
  std::optional<Value> v = convert_option(
      *spec, event.value, ConvertContext{base_dir_, event.file, event.line, &diags_});
  // The loader sends a host's HostEvent before any of its options.
  if (v) (*layer_for(event.host))[event.key] = std::move(*v);
}

// Layers are applied whole, one after the other, so that a host's
// modules_enabled can bring back what the global modules_disabled removed.
void SettingsBuilder::apply(const Layer& layer, bool globals, Settings& settings,
                            HostSettings& host) {
  for (const OptionSpec& spec : option_specs()) {
    if (!spec.store || (spec.scope == OptionScope::kGlobal && !globals)) continue;
    auto it = layer.find(spec.name);
    if (it != layer.end()) spec.store(it->second, settings, host);
  }
}

void SettingsBuilder::apply_tls(const std::vector<const Layer*>& layers, HostSettings& host) {
  auto tables = [&](std::string_view key) {
    std::vector<const Value*> found;
    for (const Layer* layer : layers) {
      auto it = layer->find(key);
      if (it != layer->end()) found.push_back(&it->second);
    }
    return found;
  };
  host.ssl = overlay_tls(TlsSettings{}, tables("ssl"));
  host.c2s_ssl = overlay_tls(host.ssl, tables("c2s_ssl"));
  host.s2s_ssl = overlay_tls(host.ssl, tables("s2s_ssl"));
}

std::optional<Settings> SettingsBuilder::finish() {
  Settings s;
  s.source_file = source_file_;
  HostSettings& g = s.global;
  g.modules = default_modules();
  apply(defaults_, true, s, g);
  apply(global_, true, s, g);
  apply_tls({&defaults_, &global_}, g);
  // `limits` is global, and so is the module that applies it: a host cannot turn it off.
  if (!g.module_enabled("limits")) s.limits_c2s = s.limits_s2sin = s.limits_s2sout = ByteRate{};
  for (const HostLayer& layer : hosts_) {
    HostSettings h = g;
    h.name = layer.name;
    h.file = layer.file;
    h.line = layer.line;
    h.component = layer.component;
    h.component_module = layer.component_module;
    apply(layer.values, false, s, h);
    apply_tls({&defaults_, &global_, &layer.values}, h);
    if (h.component) {
      check_component(h);
      s.components.push_back(std::move(h));
    } else {
      s.hosts.push_back(std::move(h));
    }
  }
  if (has_error(diags_)) return std::nullopt;
  return s;
}

// XEP-0114: a component without a secret could never connect; one with it set in the global
// section would share it with every other component, which the admin did not mean.
void SettingsBuilder::check_component(const HostSettings& component) {
  if (component.component_module.empty() && component.component_secret.empty())
    diags_.push_back({Diagnostic::Severity::kError, component.file, component.line,
                      "external Component '" + component.name + "' has no component_secret"});
}

}  // namespace xmppd::config
