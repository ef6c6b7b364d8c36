#ifndef XMPPD_CONFIG_SETTINGS_BUILDER_H
#define XMPPD_CONFIG_SETTINGS_BUILDER_H

// Turns the loader's events into typed Settings: checks each option against
// the schema as it comes (so messages stay in file order), keeps the last
// value per scope, then lays defaults, global values and host values over
// each other.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/settings.h"

namespace xmppd::config {

class SettingsBuilder {
 public:
  // source_file: absolute path of the main file; relative paths in options
  // are taken from its directory.
  SettingsBuilder(const std::string& source_file, std::vector<Diagnostic>& diags);

  void add(const Event& event);

  // nullopt when any error was reported, by the builder or before it.
  std::optional<Settings> finish();

 private:
  using Layer = std::map<std::string, Value, std::less<>>;
  struct HostLayer {
    std::string name, file;
    int line = 0;
    Layer values;
    bool component = false;
    std::string component_module;
  };

  void add_option(const OptionEvent& event);
  void add_host(const HostEvent& event);
  Layer* layer_for(const std::string& host);
  void load_defaults();
  static void apply(const Layer& layer, bool globals, Settings& settings, HostSettings& host);
  static void apply_tls(const std::vector<const Layer*>& layers, HostSettings& host);
  // The checks a Component section gets once all of it is read.
  void check_component(const HostSettings& component);

  std::string source_file_;
  std::string base_dir_;
  std::vector<Diagnostic>& diags_;
  Layer defaults_, global_;
  std::vector<HostLayer> hosts_;
};

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_SETTINGS_BUILDER_H
