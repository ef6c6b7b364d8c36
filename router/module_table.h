// The router's modules, built once at start, each with its index in a host's ModuleSet; the
// IQ handlers they registered; the hooks; and what the enabled ones add to disco and stream
// features. The list of modules is router/modules/modules.cc.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "router/module.h"

namespace xmppd::router {

class Server;
class ModuleTable;

// What a module's constructor gets: the router, the table to register with, its index.
struct ModuleContext {
  Server& server;
  ModuleTable& table;
  std::size_t index;
};

class ModuleTable {
 public:
  using IqHandler = std::function<void(const IqRequest&)>;

  explicit ModuleTable(Server& server);
  ~ModuleTable();

  Hooks& hooks() { return hooks_; }
  const Hooks& hooks() const { return hooks_; }
  // The set of the named modules; names of no module here are left out (the configuration
  // warned about them).
  ModuleSet set_of(const std::vector<std::string>& names) const;
  const std::vector<std::unique_ptr<Module>>& modules() const { return modules_; }
  // A module built before the caller (the table's order), by name; null if there is none.
  Module* find(std::string_view name) const;

  // One handler per scope, namespace and element name: the payload is the protocol's.
  void on_iq(IqScope scope, std::string_view ns, std::string_view name, const Module& module, IqHandler handler);
  // Runs the handler of an enabled module for the request's payload; false when none has it.
  bool handle_iq(IqScope scope, const IqRequest& request, const ModuleSet& enabled) const;

  // What the enabled modules offer, sorted and without duplicates.
  std::vector<std::string> server_features(const ModuleSet& enabled) const;
  std::vector<std::string> account_features(const ModuleSet& enabled) const;
  std::vector<std::pair<std::string, std::string>> account_identities(const ModuleSet& enabled) const;
  std::vector<xml::Element> server_forms(const HostConfig& host) const;
  void stream_features(const HostConfig& host, std::string& out) const;
  void account_items(const ModuleSet& enabled, const std::string& bare, const xmpp::Jid& from,
                     xml::Element& query) const;

 private:
  using Key = std::tuple<IqScope, std::string, std::string>;
  std::vector<std::unique_ptr<Module>> modules_;
  std::map<Key, std::pair<const Module*, IqHandler>, std::less<>> iq_;
  Hooks hooks_;
};

}  // namespace xmppd::router
