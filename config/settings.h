#ifndef XMPPD_CONFIG_SETTINGS_H
#define XMPPD_CONFIG_SETTINGS_H

// xmppd's configuration, read from a file in the declarative subset of
// Prosody's prosody.cfg.lua syntax (see xmppd.conf(5)). The parent process
// loads it before it drops privileges and hands each child what it needs.

#include <cstddef>
#include <functional>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/http.h"  // HttpSettings, TurnSettings, FileShareSettings: the HTTP services
#include "config/muc.h"  // MucSettings, a Component "name" "muc" section's options
#include "config/sql_option.h"  // SqlSettings: storage = "sql" and the sql table
#include "config/quotas.h"  // QuotaSettings, the per-user quotas the router enforces
#include "config/smacks.h"  // SmacksSettings, stream management (XEP-0198)

namespace xmppd::config {

struct TlsSettings {
  std::string certificate, key, protocol = "tlsv1_2+", ciphers, ciphersuites, cafile, capath;

  bool operator==(const TlsSettings&) const = default;
};

struct HostSettings {
  std::string name;  // empty for Settings::global
  std::string file;  // where the VirtualHost or Component first appears
  int line = 0;
  bool enabled = true;
  // A Component section (Settings::components): its module ("muc"), or empty for an
  // external component (XEP-0114), which must have a component_secret.
  bool component = false;
  std::string component_module;
  std::string component_secret;
  MucSettings muc;
  FileShareSettings file_share;  // a Component "name" "http_file_share" section's options
  TurnSettings turn;             // turn_external (XEP-0215), when the module is enabled
  TlsSettings ssl, c2s_ssl, s2s_ssl;  // c2s_ssl and s2s_ssl already overlaid on ssl
  std::string authentication = "internal_hashed";
  bool allow_registration = false;
  std::set<std::string> modules;  // effective set after the global/host merge
  bool c2s_require_encryption = true;
  std::size_t c2s_stanza_size_limit = 256 * 1024;
  bool s2s_require_encryption = true, s2s_secure_auth = false, allow_anonymous_s2s = false;
  bool use_dane = false;
  std::vector<std::string> s2s_secure_domains, s2s_insecure_domains;
  std::vector<std::string> admins;  // bare JIDs, prepared (xmpp/jid.h)
  // contact_info (XEP-0157): field ("abuse", "admin", ...) to its addresses, each a URI.
  std::map<std::string, std::vector<std::string>> contact_info;
  std::size_t s2s_stanza_size_limit = 512 * 1024;
  int s2s_timeout = 90;
  bool dialback_without_dialback = false;
  bool smacks_enabled_s2s = true;  // XEP-0198 acknowledgements on s2s streams (Prosody's default)
  // Remote domains refused both ways; when s2s_whitelist is not empty, the only ones allowed.
  std::vector<std::string> s2s_blacklist, s2s_whitelist;
  // Largest stanza sent to a server that advertises no limit of its own (XEP-0478), and
  // that size raised or lowered per remote domain.
  std::size_t s2s_peer_stanza_size_limit = 65535;
  std::map<std::string, std::size_t> s2s_peer_stanza_size_limits;
  // cloud_notify (XEP-0357), Prosody's mod_cloud_notify options and defaults: what a push
  // notification may tell the app server, and how many registrations an account keeps.
  bool push_notification_with_body = false, push_notification_with_sender = false;
  std::size_t push_max_errors = 16, push_max_devices = 5;

  bool module_enabled(std::string_view name) const;
  // What server_contact_info serves: contact_info, or, when that is empty, the admins as
  // xmpp: addresses of the "admin" field, as Prosody's mod_server_contact_info does.
  std::map<std::string, std::vector<std::string>> contact_addresses() const;
};

struct DnsSettings {
  std::string resolvconf, hosts, trust_anchor;
  std::vector<std::string> forwarders, transparent_zones;
};

// One entry of Prosody's `limits` (config/rate_limits.h): 0 bytes per second is no limit.
struct ByteRate {
  double bytes_per_second = 0;
  double burst_seconds = 2;
  bool operator==(const ByteRate&) const = default;
};

// One destination of the `log` option (config/log_option.h), as the parent opens it.
struct LogSink {
  enum class To { kFile, kSyslog, kConsole };  // kConsole: standard error
  To to = To::kFile;
  std::string filename;  // kFile: an absolute path
  // Bit (1 << p) for each syslog(3) priority p taken: LOG_ERR (3) to LOG_DEBUG (7).
  unsigned levels = 0;
  std::string syslog_facility;  // kSyslog; empty: the syslog_facility option's
  bool operator==(const LogSink&) const = default;
};

struct Settings {
  std::string source_file;  // absolute path of the main file
  std::string pidfile, data_path, empty_path, xmppd_user, tls_helper_user, auth_helper_user,
      storage_user = "_xmppd_storage", http_user = "_xmppd_http", certificates, dialback_secret;
  // storage: "internal" or "sql" (config/sql_option.h); sql: its database.
  std::string storage = "internal";
  SqlSettings sql;
  // The storage process (xmppd-storage) holds a PostgreSQL connection for the router.
  bool uses_postgres() const { return storage == "sql" && sql.driver == "PostgreSQL"; }
  // The router's SQLite file in DATA_PATH/router: user.sqlite, or sql's database with SQLite3.
  std::string sqlite_file() const {
    return storage == "sql" && sql.driver == "SQLite3" && !sql.database.empty() ? sql.database : "user.sqlite";
  }
  std::vector<std::string> c2s_interfaces, s2s_interfaces;
  std::vector<int> c2s_ports, c2s_direct_tls_ports, s2s_ports, s2s_direct_tls_ports;
  DnsSettings dns;
  bool s2s_allow_private_addresses = false;
  int s2s_max_concurrent_connects = 64;
  // Connection limits of c2s and inbound s2s (0: none; max_connections 0: derived from
  // the receiving process's RLIMIT_NOFILE), the c2s negotiation deadline, and Prosody's `limits`.
  // The limits' defaults are options.cc's, which the parent sends in every Configure, and
  // these initialisers (settings_unittest.cc keeps them equal); stream/connection_limits.h
  // has its own only as a fallback for limits that were never configured.
  std::size_t max_connections_per_address = 256, max_unauthenticated_per_address = 32, max_connections = 0;
  int c2s_timeout = 60;
  // RLIMIT_AS of every child in MiB; 0 for each role's default (daemon/parent.cc).
  std::size_t child_memory_limit = 0;
  ByteRate limits_c2s, limits_s2sin, limits_s2sout;
  std::vector<std::string> unlimited_jids;  // bare JIDs, lowercased
  QuotaSettings quotas;
  SmacksSettings smacks;
  std::vector<LogSink> log;  // empty: syslog(3), or standard error with -d
  std::string syslog_facility = "daemon";
  HostSettings global;              // the global values of host-scoped options (name empty)
  std::vector<HostSettings> hosts;  // in order of first appearance, disabled ones included
  // Component sections, in order of first appearance: MUC services and external components.
  std::vector<HostSettings> components;
  // Where external components (XEP-0114) connect: Prosody's defaults, loopback only.
  std::vector<int> component_ports{5347};
  std::vector<std::string> component_interfaces{"127.0.0.1", "::1"};
  HttpSettings http;  // the HTTP process's listeners and options (config/http.h)

  // Case-insensitive, as host names are stored lowercased.
  const HostSettings* find_host(std::string_view name) const;
  const HostSettings* find_component(std::string_view name) const;
  // The hosts and then the components: every domain the s2s worker serves (those that
  // enable "s2s"), the hosts' own options first.
  std::vector<std::reference_wrapper<const HostSettings>> federating() const;
  // An enabled Component section has no module: an external component (XEP-0114) may
  // connect, so the component ports are listened on.
  bool has_external_components() const;
  // The HTTP process (xmppd-http) runs: an enabled host enables "websocket", the global
  // section "http_openmetrics", or an enabled Component is an "http_file_share".
  bool serves_http() const;
};

// Returns nullopt when any error was found; warnings and errors are appended
// to diags in file order (an included file's findings where its Include is).
std::optional<Settings> load_file(const std::string& path, std::vector<Diagnostic>& diags);

// As load_file, for text already in memory; name stands for the file in
// messages, and relative paths (Include, certificates, ssl files) are taken
// from its directory.
std::optional<Settings> load_string(std::string_view text, const std::string& name,
                                    std::vector<Diagnostic>& diags);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_SETTINGS_H
