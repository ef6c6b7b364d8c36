#include "config/options.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "config/archive_options.h"
#include "config/host_name.h"
#include "config/log_option.h"
#include "config/rate_limits.h"
#include "config/settings.h"
#include "config/sql_option.h"
#include "xmpp/jid.h"

namespace xmppd::config {
namespace {

using enum OptionType;
constexpr OptionScope G = OptionScope::kGlobal;
constexpr OptionScope H = OptionScope::kHost;

// RFC 6120 §13.12: a server must accept stanzas of at least 10000 bytes.
constexpr std::int64_t kMinStanzaLimit = 10000;
constexpr std::int64_t kMaxStanzaLimit = 1000000;
constexpr std::int64_t kMaxTimeout = 3600;

void assign(std::string& out, const Value& v) { out = v.as_string(); }
void assign(bool& out, const Value& v) { out = v.as_bool(); }
void assign(int& out, const Value& v) { out = static_cast<int>(v.as_integer()); }
void assign(std::size_t& out, const Value& v) { out = static_cast<std::size_t>(v.as_integer()); }
void assign(double& out, const Value& v) { out = v.as_number(); }
void assign(std::vector<std::string>& out, const Value& v) {
  out.clear();
  for (const TableEntry& e : v.as_table().entries) out.push_back(e.value.as_string());
}
void assign(std::vector<int>& out, const Value& v) {
  out.clear();
  for (const TableEntry& e : v.as_table().entries)
    out.push_back(static_cast<int>(e.value.as_integer()));
}

template <auto Field>
void global(const Value& v, Settings& s, HostSettings&) {
  assign(s.*Field, v);
}
template <auto Field>
void dns(const Value& v, Settings& s, HostSettings&) {
  assign(s.dns.*Field, v);
}
template <auto Field>
void quota(const Value& v, Settings& s, HostSettings&) {
  assign(s.quotas.*Field, v);
}
template <auto Field>
void smacks(const Value& v, Settings& s, HostSettings&) {
  assign(s.smacks.*Field, v);
}
template <auto Field>
void host(const Value& v, Settings&, HostSettings& h) {
  assign(h.*Field, v);
}
template <auto Field>
void muc(const Value& v, Settings&, HostSettings& h) {
  assign(h.muc.*Field, v);
}
template <auto Field>
void http(const Value& v, Settings& s, HostSettings&) {
  assign(s.http.*Field, v);
}
template <auto Field>
void turn(const Value& v, Settings&, HostSettings& h) {
  assign(h.turn.*Field, v);
}
template <auto Field>
void file_share(const Value& v, Settings&, HostSettings& h) {
  assign(h.file_share.*Field, v);
}

void store_upload_expiry(const Value& v, Settings&, HostSettings& h) {
  h.file_share.expires_after = static_cast<std::size_t>(std::max<std::int64_t>(0, v.as_integer()));
}

void store_manage_tables(const Value& v, Settings& s, HostSettings&) { s.sql.manage_tables = v.as_bool(); }
void store_archive_expiry(const Value& v, Settings& s, HostSettings&) {
  s.quotas.archive_expires_after = static_cast<std::size_t>(parse_archive_expiry(v).value_or(0));
}
void store_archive_policy(const Value& v, Settings& s, HostSettings&) {
  s.quotas.archive_policy = parse_archive_policy(v).value_or(1);
}

// Prosody's restrict_room_creation: true is "admin", false "none" (muc_room_creation below).
std::optional<std::string> room_creation(const Value& v) {
  if (v.is_bool()) return v.as_bool() ? "admin" : "none";
  if (v.is_string() && (v.as_string() == "admin" || v.as_string() == "local" || v.as_string() == "none"))
    return v.as_string();
  return std::nullopt;
}
void store_room_creation(const Value& v, Settings&, HostSettings& h) {
  h.muc.restrict_room_creation = room_creation(v).value_or("none");
}
void store_muc_log_expiry(const Value& v, Settings&, HostSettings& h) {
  h.muc.log_expires_after = static_cast<std::size_t>(parse_archive_expiry(v).value_or(0));
}

void store_interfaces(const Value& v, Settings& s, HostSettings&) {
  assign(s.c2s_interfaces, v);
  assign(s.s2s_interfaces, v);
  assign(s.http.http_interfaces, v);
  assign(s.http.https_interfaces, v);
}

// Peers' names arrive lowercased from the stream layer; so are these.
void store_domains(std::vector<std::string>& out, const Value& v) {
  assign(out, v);
  for (std::string& d : out) d = normalize_host_name(d, nullptr).value_or(d);
}
void store_secure_domains(const Value& v, Settings&, HostSettings& h) {
  store_domains(h.s2s_secure_domains, v);
}
void store_insecure_domains(const Value& v, Settings&, HostSettings& h) {
  store_domains(h.s2s_insecure_domains, v);
}

void store_blacklist(const Value& v, Settings&, HostSettings& h) { store_domains(h.s2s_blacklist, v); }
void store_whitelist(const Value& v, Settings&, HostSettings& h) { store_domains(h.s2s_whitelist, v); }
void store_peer_stanza_sizes(const Value& v, Settings&, HostSettings& h) {
  h.s2s_peer_stanza_size_limits.clear();
  for (const TableEntry& e : v.as_table().entries)
    h.s2s_peer_stanza_size_limits[normalize_host_name(*e.key, nullptr).value_or(*e.key)] =
        static_cast<std::size_t>(e.value.as_integer());
}

void store_admins(const Value& v, Settings&, HostSettings& h) {
  h.admins.clear();
  for (const TableEntry& e : v.as_table().entries) h.admins.push_back(xmpp::Jid::parse(e.value.as_string())->bare());
}

// Fields outside XEP-0157 were warned about and are left out; so are empty lists.
void store_contact_info(const Value& v, Settings&, HostSettings& h) {
  h.contact_info.clear();
  const std::vector<std::string_view>& fields = contact_info_fields();
  for (const TableEntry& e : v.as_table().entries) {
    if (std::find(fields.begin(), fields.end(), *e.key) == fields.end() || e.value.as_table().entries.empty())
      continue;
    assign(h.contact_info[*e.key], e.value);
  }
}

void store_authentication(const Value& v, Settings&, HostSettings& h) {
  h.authentication = v.as_string() == "internal_plain" ? "internal_hashed" : v.as_string();
}

// The builder applies the global layer before the host's, so enabling then
// disabling here gives Prosody's merge.
void store_enabled_modules(const Value& v, Settings&, HostSettings& h) {
  for (const TableEntry& e : v.as_table().entries)
    if (known_modules().count(e.value.as_string())) h.modules.insert(e.value.as_string());
}
void store_disabled_modules(const Value& v, Settings&, HostSettings& h) {
  for (const TableEntry& e : v.as_table().entries) h.modules.erase(e.value.as_string());
}

std::optional<Problem> stanza_limit(const Value& v) {
  if (v.as_integer() < kMinStanzaLimit)
    return Problem{false, "must be at least 10000 bytes (RFC 6120 §13.12), got " + std::to_string(v.as_integer())};
  if (v.as_integer() > kMaxStanzaLimit)
    return Problem{false, "must be at most 1000000 bytes (a stanza must fit in one record between the router and "
                          "the s2s worker), got " + std::to_string(v.as_integer())};
  return std::nullopt;
}

// { ["domain"] = bytes, ... }: each key a domain, each value a stanza limit.
std::optional<Problem> stanza_limits_by_domain(const Value& v) {
  if (!v.is_table()) return Problem{false, "expects a table such as { [\"example.org\"] = 262144 }"};
  for (const TableEntry& e : v.as_table().entries) {
    std::string why;
    if (!e.key || !normalize_host_name(*e.key, &why))
      return Problem{false, "expects domain names as keys, got " + (e.key ? "\"" + *e.key + "\" (" + why + ")"
                                                                          : std::string("a list entry"))};
    if (!e.value.is_integer())
      return Problem{false, "expects a number of bytes for \"" + *e.key + "\", got " + std::string(type_name(e.value))};
    if (auto problem = stanza_limit(e.value)) {
      problem->message = "[\"" + *e.key + "\"] " + problem->message;
      return problem;
    }
  }
  return std::nullopt;
}

// Read by the s2s worker before its sandbox: a trust anchor it cannot read would leave it
// unable to start. (A missing resolv.conf or hosts file is only a warning, given by the
// worker: those options have defaults that minimal systems may lack.)
std::optional<Problem> trust_anchor(const Value& v) {
  const std::string& path = v.as_string();
  if (path.empty() || ::access(path.c_str(), R_OK) == 0) return std::nullopt;
  return Problem{false, "cannot read " + path + ": " + std::strerror(errno)};
}

std::optional<Problem> non_negative_count(const Value& v) {
  if (v.as_integer() >= 0) return std::nullopt;
  return Problem{false, "must not be negative, got " + std::to_string(v.as_integer())};
}

// A day: longer than any phone stays off the network, short enough that the sessions of a
// client that never comes back do not pile up.
std::optional<Problem> hibernation_time(const Value& v) {
  if (v.as_integer() >= 1 && v.as_integer() <= 86400) return std::nullopt;
  return Problem{false, "must be from 1 to 86400 seconds, got " + std::to_string(v.as_integer())};
}

std::optional<Problem> positive_count(const Value& v) {
  if (v.as_integer() >= 1) return std::nullopt;
  return Problem{false, "must be at least 1, got " + std::to_string(v.as_integer())};
}

std::optional<Problem> archive_expiry(const Value& v) {
  if (parse_archive_expiry(v)) return std::nullopt;
  return Problem{false, "must be \"never\", a number of seconds, or a number with d, w, m or y (\"1w\")"};
}

std::optional<Problem> muc_room_creation(const Value& v) {
  if (room_creation(v)) return std::nullopt;
  return Problem{false, "must be true (admins only), false (anyone), \"local\" (users of the parent host), "
                        "\"admin\" or \"none\""};
}

// The MUC limits travel to the router as 32-bit numbers (proto/control.proto MucService).
constexpr std::int64_t kMaxMucCount = 1'000'000'000;
std::optional<Problem> muc_count(const Value& v, std::int64_t min) {
  if (v.as_integer() >= min && v.as_integer() <= kMaxMucCount) return std::nullopt;
  return Problem{false, "must be from " + std::to_string(min) + " to " + std::to_string(kMaxMucCount) + ", got " +
                            std::to_string(v.as_integer())};
}
std::optional<Problem> muc_count_from_0(const Value& v) { return muc_count(v, 0); }
std::optional<Problem> muc_count_from_1(const Value& v) { return muc_count(v, 1); }

std::optional<Problem> muc_event_rate(const Value& v) {
  if (v.as_number() >= 0 && v.as_number() <= 1000) return std::nullopt;
  return Problem{false, "must be from 0 (no limit) to 1000 stanzas per second, got " + to_lua(v)};
}
std::optional<Problem> muc_burst_factor(const Value& v) {
  if (v.as_number() >= 1 && v.as_number() <= 1000) return std::nullopt;
  return Problem{false, "must be from 1 to 1000, got " + to_lua(v)};
}

std::optional<Problem> archive_policy(const Value& v) {
  if (parse_archive_policy(v)) return std::nullopt;
  return Problem{false, "must be true, false or \"roster\""};
}

// In MiB; below 64 no child can even start (each maps its libraries and a malloc arena).
std::optional<Problem> memory_limit(const Value& v) {
  if (v.as_integer() == 0 || (v.as_integer() >= 64 && v.as_integer() <= 1024 * 1024)) return std::nullopt;
  return Problem{false, "must be 0 (the defaults of each process) or from 64 to 1048576 MiB, got " +
                            std::to_string(v.as_integer())};
}

std::optional<Problem> timeout(const Value& v) {
  if (v.as_integer() >= 1 && v.as_integer() <= kMaxTimeout) return std::nullopt;
  return Problem{false, "must be from 1 to 3600 seconds, got " + std::to_string(v.as_integer())};
}

std::optional<Problem> connect_limit(const Value& v) {
  if (v.as_integer() >= 1 && v.as_integer() <= 10000) return std::nullopt;
  return Problem{false, "must be from 1 to 10000, got " + std::to_string(v.as_integer())};
}

std::optional<Problem> authentication(const Value& v) {
  const std::string& s = v.as_string();
  if (s == "internal_hashed" || s == "anonymous") return std::nullopt;
  if (s == "internal_plain")
    return Problem{true,
                   "\"internal_plain\" is read as \"internal_hashed\": xmppd always stores "
                   "salted SCRAM hashes, never plain passwords"};
  return Problem{false, "must be \"internal_hashed\" or \"anonymous\", got \"" + s + "\""};
}

// The helpers run under their own users so that one broken process cannot
// read another's files; root would undo that.
std::optional<Problem> user_name(const Value& v) {
  if (v.as_string().empty()) return Problem{false, "must name a user, got \"\""};
  if (v.as_string() == "root") return Problem{false, "must name an unprivileged user, not root"};
  return std::nullopt;
}

std::optional<Problem> domain_list(const Value& v) {
  for (const TableEntry& e : v.as_table().entries) {
    std::string why;
    if (!normalize_host_name(e.value.as_string(), &why))
      return Problem{false,
                     "expects domain names, got \"" + e.value.as_string() + "\" (" + why + ")"};
  }
  return std::nullopt;
}

// Bare JIDs of users, prepared as the router prepares the addresses it compares them with.
std::optional<Problem> admin_jids(const Value& v) {
  for (const TableEntry& e : v.as_table().entries) {
    const std::string& text = e.value.as_string();
    std::optional<xmpp::Jid> jid = xmpp::Jid::parse(text);
    const char* why = !jid ? "not a valid JID" : !jid->has_local() ? "no user part" : jid->has_resource() ? "a resource"
                                                                                                          : nullptr;
    if (why)
      return Problem{false, "expects bare JIDs such as \"admin@example.com\", got \"" + text + "\" (" + why + ")",
                     e.value.line};
  }
  return std::nullopt;
}

// RFC 3986 §3.1: a letter, then letters, digits, "+", "-" or "."; then ":" and the rest, here
// without spaces or control characters, as the address is shown to clients as it is.
bool is_uri(std::string_view s) {
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size() ||
      !std::isalpha(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s.substr(0, colon))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  return true;
}

std::string joined_contact_fields() {
  std::string out;
  for (std::string_view f : contact_info_fields()) out += (out.empty() ? "" : ", ") + std::string(f);
  return out;
}

// { abuse = { "mailto:abuse@example.com" }; admin = { "xmpp:admin@example.com" } }, as Prosody's
// mod_server_contact_info. A field XEP-0157 does not have is only a warning (Prosody ignores it
// too); an address clients could not use is an error.
std::optional<Problem> contact_info(const Value& v) {
  const std::vector<std::string_view>& fields = contact_info_fields();
  std::vector<std::string> unknown;
  int unknown_line = 0;
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.key)
      return Problem{false, "expects fields such as abuse = { \"mailto:abuse@example.com\" }, got a list entry",
                     e.value.line};
    const std::string field = "field '" + *e.key + "'";
    if (std::find(fields.begin(), fields.end(), *e.key) == fields.end()) {
      if (unknown.empty()) unknown_line = e.value.line;
      unknown.push_back("'" + *e.key + "'");
      continue;
    }
    if (!e.value.is_table() || !is_list(e.value.as_table()))
      return Problem{false, field + " expects a list of addresses such as { \"mailto:abuse@example.com\" }, got " +
                                (e.value.is_table() ? std::string("a table with named entries")
                                                    : std::string(type_name(e.value))),
                     e.value.line};
    for (const TableEntry& address : e.value.as_table().entries) {
      if (!address.value.is_string())
        return Problem{false, field + " expects addresses in quotes, got " + std::string(type_name(address.value)),
                       address.value.line};
      if (!is_uri(address.value.as_string()))
        return Problem{false, field + " expects addresses with a scheme, such as \"mailto:abuse@example.com\" or "
                                      "\"xmpp:admin@example.com\", got \"" + address.value.as_string() + "\"",
                       address.value.line};
    }
  }
  if (unknown.empty()) return std::nullopt;
  std::string names;
  for (const std::string& u : unknown) names += (names.empty() ? "" : ", ") + u;
  bool one = unknown.size() == 1;
  return Problem{true, std::string(one ? "field " : "fields ") + names + (one ? " is" : " are") +
                           " not one of XEP-0157's (" + joined_contact_fields() + ") and " + (one ? "is" : "are") +
                           " ignored",
                 unknown_line};
}

// Sizes of HTTP bodies and uploads: at least a byte, at most 512 MiB. xmppd-http holds a body
// in memory until it is whole, in an address space of 2 GiB by default (child_memory_limit):
// the bodies of a few larger requests would drive it out of memory.
std::optional<Problem> byte_size(const Value& v) {
  if (v.as_integer() >= 1 && v.as_integer() <= (std::int64_t{512} << 20)) return std::nullopt;
  return Problem{false, "must be from 1 to 536870912 bytes (512 MiB: HTTP bodies are held in memory), got " +
                            std::to_string(v.as_integer())};
}
std::optional<Problem> byte_quota(const Value& v) {
  if (v.as_integer() >= 0 && v.as_integer() <= (std::int64_t{1} << 50)) return std::nullopt;
  return Problem{false, "must be 0 (see xmppd.conf(5)) or a number of bytes, got " + std::to_string(v.as_integer())};
}
// http_external_url: an absolute http or https URL, as Prosody parses it.
std::optional<Problem> external_url(const Value& v) {
  const std::string& u = v.as_string();
  if (u.empty() || u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0) {
    if (u.find_first_of(" \t\r\n\"'<>") == std::string::npos) return std::nullopt;
  }
  return Problem{false, "must be an http:// or https:// URL, got \"" + u + "\""};
}
std::optional<Problem> port_number(const Value& v) {
  if (v.as_integer() >= 1 && v.as_integer() <= 65535) return std::nullopt;
  return Problem{false, "must be a port from 1 to 65535, got " + std::to_string(v.as_integer())};
}
// turn_external_tls_port: 0 (its default) is "no turns service".
std::optional<Problem> port_or_none(const Value& v) {
  return v.as_integer() == 0 ? std::nullopt : port_number(v);
}
std::optional<Problem> turn_ttl(const Value& v) {
  if (v.as_integer() >= 60 && v.as_integer() <= 30 * 86400) return std::nullopt;
  return Problem{false, "must be from 60 to 2592000 seconds, got " + std::to_string(v.as_integer())};
}
// Negative is Prosody's "never"; 0 is xmppd's (Prosody prunes such files daily).
std::optional<Problem> upload_expiry(const Value& v) {
  if (v.as_integer() <= 10LL * 365 * 86400) return std::nullopt;
  return Problem{false, "must be negative or 0 (never) or up to 315360000 seconds, got " + std::to_string(v.as_integer())};
}

std::optional<Problem> non_empty_strings(const Value& v) {
  for (const TableEntry& e : v.as_table().entries)
    if (e.value.as_string().empty()) return Problem{false, "must not contain an empty string"};
  return std::nullopt;
}

// Built on first use, so that code running during static initialisation
// can already load a configuration.
const std::vector<OptionSpec>& options_table() {
  static const std::vector<OptionSpec> kOptions = {
      // Files and users
      {"pidfile", kPath, G, R"("")", nullptr,
       "File the parent writes its process id to; empty for none.", global<&Settings::pidfile>},
      {"data_path", kPath, G, R"("/var/lib/xmppd")", nullptr,
       "Directory holding the databases; the router and the auth helper are chrooted below it.",
       global<&Settings::data_path>},
      {"empty_path", kPath, G, R"("/var/empty")", nullptr,
       "Root-owned empty directory that the s2s worker and the TLS helper chroot to.",
       global<&Settings::empty_path>},
      {"xmppd_user", kString, G, R"("_xmppd")", user_name,
       "User the router and the s2s worker run as.", global<&Settings::xmppd_user>},
      {"tls_helper_user", kString, G, R"("_xmppd_tls")", user_name,
       "User the TLS helper, which holds the private keys, runs as.",
       global<&Settings::tls_helper_user>},
      {"auth_helper_user", kString, G, R"("_xmppd_auth")", user_name,
       "User the auth helper, which holds the credential store, runs as.",
       global<&Settings::auth_helper_user>},
      {"storage_user", kString, G, R"("_xmppd_storage")", user_name,
       "User the storage process, which holds the PostgreSQL password, runs as (only with storage = \"sql\" and "
       "driver \"PostgreSQL\").",
       global<&Settings::storage_user>},
      // Storage (config/sql_option.h)
      {"storage", kBackend, G, R"("internal")", check_storage,
       "Where the router keeps user data: \"internal\" (the SQLite store in data_path) or \"sql\" (the sql "
       "option's database); a table by store is accepted when all name the same backend.",
       store_storage},
      {"sql", kTable, G, "{}", check_sql,
       "The database of storage = \"sql\", as Prosody's: driver (\"PostgreSQL\" or \"SQLite3\"), database, host, "
       "port, username, password.",
       store_sql},
      {"sql_manage_tables", kBool, G, "true", nullptr,
       "Create and upgrade the tables of the sql database at start; false when an administrator manages them.",
       store_manage_tables},
      // Network
      {"interfaces", kStringList, G, R"({ "*", "::" })", non_empty_strings,
       "Addresses to listen on; \"*\" is every IPv4 address and \"::\" every IPv6 address.",
       store_interfaces},
      {"c2s_interfaces", kStringList, G, "", non_empty_strings,
       "Addresses for client connections; defaults to interfaces.",
       global<&Settings::c2s_interfaces>},
      {"s2s_interfaces", kStringList, G, "", non_empty_strings,
       "Addresses for server connections; defaults to interfaces.",
       global<&Settings::s2s_interfaces>},
      {"component_interfaces", kStringList, G, R"({ "127.0.0.1", "::1" })", non_empty_strings,
       "Addresses external components (XEP-0114) connect to; loopback only by default.",
       global<&Settings::component_interfaces>},
      {"component_ports", kPortList, G, "{ 5347 }", nullptr,
       "Ports external components (XEP-0114) connect to.", global<&Settings::component_ports>},
      {"component_secret", kString, H, R"("")", nullptr,
       "The shared secret an external component (XEP-0114) authenticates with; set it in the "
       "Component section.",
       host<&HostSettings::component_secret>},
      {"c2s_ports", kPortList, G, "{ 5222 }", nullptr, "Ports for client connections (STARTTLS).",
       global<&Settings::c2s_ports>},
      {"c2s_direct_tls_ports", kPortList, G, "{}", nullptr,
       "Ports for client connections that start with TLS (XEP-0368).",
       global<&Settings::c2s_direct_tls_ports>},
      {"s2s_ports", kPortList, G, "{ 5269 }", nullptr, "Ports for server connections (STARTTLS).",
       global<&Settings::s2s_ports>},
      {"s2s_direct_tls_ports", kPortList, G, "{}", nullptr,
       "Ports for server connections that start with TLS (XEP-0368).",
       global<&Settings::s2s_direct_tls_ports>},
      // TLS
      {"certificates", kPath, G, R"("certs")", nullptr,
       "Directory searched for HOST.crt and HOST.key when a host names no certificate.",
       global<&Settings::certificates>},
      {"ssl", kTls, H, R"({ protocol = "tlsv1_2+" })", nullptr,
       "TLS settings for both client and server connections.", nullptr},
      {"c2s_ssl", kTls, H, "{}", nullptr,
       "TLS settings for client connections, laid over ssl key by key.", nullptr},
      {"s2s_ssl", kTls, H, "{}", nullptr,
       "TLS settings for server connections, laid over ssl key by key.", nullptr},
      // Clients
      {"c2s_require_encryption", kBool, H, "true", nullptr,
       "Refuse to authenticate clients before TLS.", host<&HostSettings::c2s_require_encryption>},
      {"c2s_stanza_size_limit", kInteger, H, "256 * 1024", stanza_limit,
       "Largest stanza, in bytes, accepted from a client.",
       host<&HostSettings::c2s_stanza_size_limit>},
      {"authentication", kString, H, R"("internal_hashed")", authentication,
       "How clients log in: \"internal_hashed\" (SCRAM against the credential store) or "
       "\"anonymous\".",
       store_authentication},
      {"allow_registration", kBool, H, "false", nullptr,
       "Let clients create accounts in-band (XEP-0077).", host<&HostSettings::allow_registration>},
      {"admins", kStringList, H, "{}", admin_jids,
       "Bare JIDs of the host's administrators, listed as its admin contacts when contact_info is empty.",
       store_admins},
      {"contact_info", kTable, H, "{}", contact_info,
       "Addresses served in disco (XEP-0157), as { abuse = { \"mailto:abuse@example.com\" } }.",
       store_contact_info},
      // Push notifications (cloud_notify, XEP-0357)
      {"push_notification_with_body", kBool, H, "false", nullptr,
       "Put the message's body in a push notification, which the app server and the phone vendor's service "
       "then see.",
       host<&HostSettings::push_notification_with_body>},
      {"push_notification_with_sender", kBool, H, "false", nullptr,
       "Put the message's sender in a push notification.", host<&HostSettings::push_notification_with_sender>},
      {"push_max_errors", kInteger, H, "16", positive_count,
       "Errors an app server may answer a device's notifications with before the device's registration is "
       "removed.",
       host<&HostSettings::push_max_errors>},
      {"push_max_devices", kInteger, H, "5", positive_count,
       "Push registrations an account keeps; a new one past it replaces the oldest.",
       host<&HostSettings::push_max_devices>},
      {"enabled", kBool, H, "true", nullptr,
       "A disabled VirtualHost is read and checked but not served.", host<&HostSettings::enabled>},
      {"modules_enabled", kModuleList, H, "{}", nullptr, "Modules to load on top of the defaults.",
       store_enabled_modules},
      {"modules_disabled", kModuleList, H, "{}", nullptr, "Modules not to load.",
       store_disabled_modules},
      // Servers
      {"s2s_require_encryption", kBool, H, "true", nullptr,
       "Refuse server connections without TLS.", host<&HostSettings::s2s_require_encryption>},
      {"s2s_secure_auth", kBool, H, "false", nullptr,
       "Require every remote server to present a valid, trusted certificate (no dialback).",
       host<&HostSettings::s2s_secure_auth>},
      {"use_dane", kBool, H, "false", nullptr,
       "Check remote servers' certificates against DNSSEC-validated TLSA records (DANE) where published.",
       host<&HostSettings::use_dane>},
      {"s2s_secure_domains", kStringList, H, "{}", domain_list,
       "Domains that must always present a valid certificate.", store_secure_domains},
      {"s2s_insecure_domains", kStringList, H, "{}", domain_list,
       "Domains allowed to authenticate by dialback even when s2s_secure_auth is true.",
       store_insecure_domains},
      {"allow_anonymous_s2s", kBool, H, "false", nullptr,
       "Let users of an anonymous host send stanzas to other servers.",
       host<&HostSettings::allow_anonymous_s2s>},
      {"s2s_stanza_size_limit", kInteger, H, "512 * 1024", stanza_limit,
       "Largest stanza, in bytes, accepted from a server.",
       host<&HostSettings::s2s_stanza_size_limit>},
      {"s2s_timeout", kInteger, H, "90", timeout,
       "Seconds allowed for a server connection to be authenticated.",
       host<&HostSettings::s2s_timeout>},
      {"dialback_without_dialback", kBool, H, "false", nullptr,
       "Accept a server's dialback without asking its authoritative server when its certificate is trusted and "
       "valid for the domain (XEP-0344); where a certificate is required this is always so.",
       host<&HostSettings::dialback_without_dialback>},
      {"smacks_enabled_s2s", kBool, H, "true", nullptr,
       "Acknowledge stanzas on server-to-server streams (XEP-0198 without resumption), and send again on a new "
       "stream what a broken one did not get acknowledged.",
       host<&HostSettings::smacks_enabled_s2s>},
      {"s2s_blacklist", kStringList, H, "{}", domain_list,
       "Remote domains refused in both directions.", store_blacklist},
      {"s2s_whitelist", kStringList, H, "{}", domain_list,
       "When not empty, the only remote domains allowed in either direction.", store_whitelist},
      {"s2s_peer_stanza_size_limit", kInteger, H, "65535", stanza_limit,
       "Largest stanza, in bytes, sent to a server that advertises no limit of its own (XEP-0478).",
       host<&HostSettings::s2s_peer_stanza_size_limit>},
      {"s2s_peer_stanza_size_limits", kTable, H, "{}", stanza_limits_by_domain,
       "s2s_peer_stanza_size_limit for particular remote domains, as { [\"example.org\"] = 262144 }.",
       store_peer_stanza_sizes},
      {"dialback_secret", kString, G, R"("")", nullptr,
       "Secret from which the parent derives the s2s worker's dialback keys, per epoch; empty for a random one at "
       "each start.",
       global<&Settings::dialback_secret>},
      {"s2s_allow_private_addresses", kBool, G, "false", nullptr,
       "Let the s2s worker connect to loopback, private, link-local and other special-purpose addresses.",
       global<&Settings::s2s_allow_private_addresses>},
      {"s2s_max_concurrent_connects", kInteger, G, "64", connect_limit,
       "Outgoing server connections being set up at once; more wait their turn.",
       global<&Settings::s2s_max_concurrent_connects>},
      // Per-user quotas: each refused with a stanza error, never by dropping what is kept
      {"max_user_offline_messages", kInteger, G, "500", positive_count,
       "Messages kept for a user who is offline; more are refused with resource-constraint.",
       quota<&QuotaSettings::offline_messages>},
      {"max_user_offline_bytes", kInteger, G, "4 * 1024 * 1024", positive_count,
       "Bytes of messages kept for a user who is offline; more are refused with resource-constraint.",
       quota<&QuotaSettings::offline_bytes>},
      {"max_pending_subscriptions", kInteger, G, "100", positive_count,
       "Unanswered subscription requests kept for a user; more are refused with resource-constraint.",
       quota<&QuotaSettings::pending_subscriptions>},
      {"max_roster_items", kInteger, G, "1000", positive_count,
       "Items in a user's roster; more are refused with policy-violation.",
       quota<&QuotaSettings::roster_items>},
      {"max_directed_presences", kInteger, G, "100", positive_count,
       "Addresses one session may send directed presence to; more are refused with resource-constraint.",
       quota<&QuotaSettings::directed_presences>},
      {"max_user_sessions", kInteger, G, "10", positive_count,
       "Resources an account may bind at once; more are refused with resource-constraint.",
       quota<&QuotaSettings::sessions>},
      {"max_user_pep_nodes", kInteger, G, "64", positive_count,
       "PEP nodes (XEP-0163) an account may have; a publish that would create one more is refused with "
       "resource-constraint.",
       quota<&QuotaSettings::pep_nodes>},
      {"pep_max_items", kInteger, G, "256", positive_count,
       "Largest max_items of a PEP node, as in Prosody; a larger one is refused with not-acceptable.",
       quota<&QuotaSettings::pep_items>},
      {"max_user_pep_bytes", kInteger, G, "8 * 1024 * 1024", positive_count,
       "Bytes of all of an account's PEP items; a publish past it is refused with resource-constraint.",
       quota<&QuotaSettings::pep_bytes>},
      {"max_user_private_bytes", kInteger, G, "256 * 1024", positive_count,
       "Bytes of an account's private XML storage (XEP-0049); a store past it is refused with "
       "resource-constraint.",
       quota<&QuotaSettings::private_bytes>},
      {"max_user_vcard_bytes", kInteger, G, "256 * 1024", positive_count,
       "Bytes of an account's vCard, each of vcard-temp (XEP-0054) and vCard4 (XEP-0292); a larger one is "
       "refused with not-acceptable.",
       quota<&QuotaSettings::vcard_bytes>},
      {"max_blocklist_items", kInteger, G, "1000", positive_count,
       "JIDs an account may block (XEP-0191); a block past it is refused with policy-violation.",
       quota<&QuotaSettings::blocklist_items>},
      // Stream management (XEP-0198), Prosody's mod_smacks options
      {"smacks_hibernation_time", kInteger, G, "600", hibernation_time,
       "Seconds a session whose connection was cut waits to be resumed (1 to 86400).",
       smacks<&SmacksSettings::hibernation_time>},
      {"smacks_max_unacked_stanzas", kInteger, G, "0", non_negative_count,
       "Unacknowledged stanzas past which the server asks the client for an acknowledgement.",
       smacks<&SmacksSettings::max_unacked_stanzas>},
      {"smacks_max_ack_delay", kInteger, G, "30", timeout,
       "Seconds a client may take to answer the server's request for an acknowledgement before its "
       "connection is taken as lost.",
       smacks<&SmacksSettings::max_ack_delay>},
      {"smacks_max_hibernated_sessions", kInteger, G, "10", positive_count,
       "Sessions of one account waiting to be resumed; past it the oldest ends.",
       smacks<&SmacksSettings::max_hibernated_sessions>},
      {"smacks_max_queue_size", kInteger, G, "500", positive_count,
       "Unacknowledged stanzas kept for a session; past it the session ends.",
       smacks<&SmacksSettings::max_queue_size>},
      // The message archive (XEP-0313), with Prosody's mod_mam names and defaults
      {"archive_expires_after", kScalar, G, R"("1w")", archive_expiry,
       "How long archived messages are kept: \"never\", seconds, or a number with d, w, m or y.",
       store_archive_expiry},
      {"default_archive_policy", kScalar, G, "true", archive_policy,
       "Which messages are archived for a user who set no preference: true (all), false (none) or "
       "\"roster\" (those with contacts in the roster).",
       store_archive_policy},
      {"max_archive_query_results", kInteger, G, "50", positive_count,
       "Largest page of an archive query; a larger <max/> is clamped to it.",
       quota<&QuotaSettings::archive_query_results>},
      {"archive_cleanup_interval", kInteger, G, "4 * 60 * 60", positive_count,
       "Seconds between the background deletions of expired archived messages.",
       quota<&QuotaSettings::archive_cleanup_interval>},
      {"storage_archive_item_limit", kInteger, G, "10000", positive_count,
       "Messages kept in one user's archive; past it the oldest are deleted.",
       quota<&QuotaSettings::archive_items>},
      // Multi-user chat (XEP-0045): a Component "domain" "muc" section's options (config/muc.h),
      // with Prosody's mod_muc names and defaults where it has them.
      {"restrict_room_creation", kScalar, H, "false", muc_room_creation,
       "Who may create rooms: false (anyone), true or \"admin\" (the service's admins), \"local\" (users of the "
       "host the service is a subdomain of).",
       store_room_creation},
      {"muc_room_default_public", kBool, H, "true", nullptr,
       "New rooms are listed in the service's disco#items.", muc<&MucSettings::room_default_public>},
      {"muc_room_default_persistent", kBool, H, "false", nullptr,
       "New rooms outlive their last occupant and restarts.", muc<&MucSettings::room_default_persistent>},
      {"muc_room_default_members_only", kBool, H, "false", nullptr, "New rooms admit members only.",
       muc<&MucSettings::room_default_members_only>},
      {"muc_room_default_moderated", kBool, H, "false", nullptr,
       "New rooms give visitors without an affiliation no voice.", muc<&MucSettings::room_default_moderated>},
      {"muc_room_default_public_jids", kBool, H, "false", nullptr,
       "New rooms show occupants' real JIDs to everyone, not only to moderators.",
       muc<&MucSettings::room_default_public_jids>},
      {"muc_room_default_change_subject", kBool, H, "false", nullptr,
       "In new rooms participants, not only moderators, may change the subject.",
       muc<&MucSettings::room_default_change_subject>},
      {"muc_room_default_allow_member_invites", kBool, H, "false", nullptr,
       "In new members-only rooms members, not only admins, may invite.",
       muc<&MucSettings::room_default_allow_member_invites>},
      {"muc_room_default_history_length", kInteger, H, "20", muc_count_from_0,
       "Messages a new room keeps for history on entering.", muc<&MucSettings::room_default_history_length>},
      {"max_history_messages", kInteger, H, "20", muc_count_from_0,
       "The most messages a room may keep for history.", muc<&MucSettings::max_history_messages>},
      {"muc_room_locking", kBool, H, "true", nullptr,
       "A new room is locked until its owner configures it (XEP-0045 §10.1).", muc<&MucSettings::room_locking>},
      {"enforce_registered_nickname", kBool, H, "false", nullptr,
       "A user who registered a nickname in a room (XEP-0045 §7.10) enters it under that nickname only.",
       muc<&MucSettings::enforce_registered_nickname>},
      {"muc_room_lock_timeout", kInteger, H, "300", muc_count_from_1,
       "Seconds a locked room waits for its configuration; then it is destroyed.",
       muc<&MucSettings::room_lock_timeout>},
      {"muc_tombstones", kBool, H, "true", nullptr,
       "A destroyed persistent room leaves a tombstone that answers with the alternate venue.",
       muc<&MucSettings::tombstones>},
      {"muc_tombstone_expiry", kInteger, H, "31 * 86400", muc_count_from_1,
       "Seconds a tombstone is kept.", muc<&MucSettings::tombstone_expiry>},
      {"muc_max_occupants", kInteger, H, "200", muc_count_from_1,
       "The most occupants a room may admit, and a new room's limit.", muc<&MucSettings::max_occupants>},
      {"muc_max_rooms_per_user", kInteger, H, "50", muc_count_from_0,
       "Rooms one user may own; creating more is refused with resource-constraint.",
       muc<&MucSettings::max_rooms_per_user>},
      {"muc_max_rooms", kInteger, H, "10000", muc_count_from_0,
       "Rooms the service holds; creating more is refused with resource-constraint.",
       muc<&MucSettings::max_rooms>},
      {"muc_max_rooms_per_domain", kInteger, H, "500", muc_count_from_0,
       "Rooms the users of one other server may have created; more is refused with resource-constraint. "
       "This server's hosts are exempt.",
       muc<&MucSettings::max_rooms_per_domain>},
      {"muc_max_nick_length", kInteger, H, "64", muc_count_from_1, "Characters of a nickname.",
       muc<&MucSettings::max_nick_length>},
      {"muc_max_subject_length", kInteger, H, "1024", muc_count_from_1, "Characters of a room's subject.",
       muc<&MucSettings::max_subject_length>},
      {"muc_max_char_count", kInteger, H, "5664", muc_count_from_1, "Characters of a groupchat message's body.",
       muc<&MucSettings::max_char_count>},
      {"muc_max_line_count", kInteger, H, "23", muc_count_from_1, "Lines of a groupchat message's body.",
       muc<&MucSettings::max_line_count>},
      {"muc_event_rate", kNumber, H, "0.5", muc_event_rate,
       "Messages and presence changes per second one occupant may send; 0 for no limit.",
       muc<&MucSettings::event_rate>},
      {"muc_burst_factor", kNumber, H, "6", muc_burst_factor,
       "How many times muc_event_rate an occupant may send in a burst.", muc<&MucSettings::burst_factor>},
      {"muc_max_form_bytes", kInteger, H, "64 * 1024", muc_count_from_1,
       "Bytes of a room configuration form.", muc<&MucSettings::max_form_bytes>},
      {"muc_log_by_default", kBool, H, "true", nullptr,
       "With muc_mam, rooms are archived unless their owners turn it off.", muc<&MucSettings::log_by_default>},
      {"muc_log_all_rooms", kBool, H, "false", nullptr,
       "With muc_mam, every room is archived, whatever its configuration.", muc<&MucSettings::log_all_rooms>},
      {"muc_log_expires_after", kScalar, H, R"("1w")", archive_expiry,
       "How long rooms' archived messages are kept, as archive_expires_after.", store_muc_log_expiry},
      // DNS
      {"dns_resolvconf", kPath, G, R"("/etc/resolv.conf")", nullptr,
       "resolv.conf(5) naming the DNS servers to ask.", dns<&DnsSettings::resolvconf>},
      {"dns_hosts", kPath, G, R"("/etc/hosts")", nullptr, "hosts(5) file consulted before DNS.",
       dns<&DnsSettings::hosts>},
      {"dns_forwarders", kStringList, G, "{}", non_empty_strings,
       "DNS servers to ask instead of those in dns_resolvconf.", dns<&DnsSettings::forwarders>},
      {"dns_trust_anchor", kPath, G, R"("")", trust_anchor,
       "DNSSEC trust anchor file; empty to resolve without validation.",
       dns<&DnsSettings::trust_anchor>},
      {"dns_transparent_zones", kStringList, G, "{}", domain_list,
       "Special-use zones such as \"test\" to forward instead of answering locally.",
       dns<&DnsSettings::transparent_zones>},
      // Connection limits (c2s and inbound s2s; stream/connection_limits.h)
      {"max_connections_per_address", kInteger, G, "256", connection_count,
       "Open connections one address (IPv4) or /64 (IPv6) may hold, per service; 0 for no limit.",
       global<&Settings::max_connections_per_address>},
      {"max_unauthenticated_per_address", kInteger, G, "32", connection_count,
       "Of those, connections not yet authenticated; 0 for no limit.",
       global<&Settings::max_unauthenticated_per_address>},
      {"max_connections", kInteger, G, "0", connection_count,
       "Connections a service accepts in all; 0 for the descriptor limit less a quarter (at least 128).",
       global<&Settings::max_connections>},
      {"child_memory_limit", kInteger, G, "0", memory_limit,
       "Address space, in MiB, each child process may reserve (RLIMIT_AS); past it the child dies alone and is "
       "restarted. 0 for each process's default.",
       global<&Settings::child_memory_limit>},
      {"c2s_timeout", kInteger, G, "60", timeout,
       "Seconds allowed for a client connection to authenticate and bind a resource.",
       global<&Settings::c2s_timeout>},
      {"limits", kTable, G, "{}", check_limits,
       "Byte rates for c2s, s2sin and s2sout connections, as Prosody's mod_limits.", store_limits},
      {"unlimited_jids", kStringList, G, "{}", non_empty_strings,
       "Bare JIDs whose client connections the c2s limits do not slow.", store_unlimited_jids},
      // Logging (config/log_option.h; the parent writes the files: daemon/log_outputs.cc)
      {"log", kLog, G, "{}", check_log,
       "Where log lines go, in Prosody's syntax: a file, \"*syslog\", or a table of sinks by level.", store_log},
      {"syslog_facility", kString, G, R"("daemon")", check_syslog_facility,
       "The syslog(3) facility of lines sent to syslog.", global<&Settings::syslog_facility>},
      // HTTP (config/http.h; the HTTP process xmppd-http serves them)
      {"http_user", kString, G, R"("_xmppd_http")", user_name,
       "The user of the HTTP process, which owns the uploaded files.", global<&Settings::http_user>},
      {"http_ports", kPortList, G, "{ 5280 }", nullptr, "Ports for plain HTTP.", http<&HttpSettings::http_ports>},
      {"https_ports", kPortList, G, "{ 5281 }", nullptr, "Ports for HTTPS.", http<&HttpSettings::https_ports>},
      {"http_interfaces", kStringList, G, "", non_empty_strings,
       "Addresses for plain HTTP; defaults to interfaces.", http<&HttpSettings::http_interfaces>},
      {"https_interfaces", kStringList, G, "", non_empty_strings,
       "Addresses for HTTPS; defaults to interfaces.", http<&HttpSettings::https_interfaces>},
      {"http_external_url", kString, G, R"("")", external_url,
       "The base URL the HTTP services are reached at from outside, behind a reverse proxy.",
       http<&HttpSettings::external_url>},
      {"http_max_content_size", kInteger, G, "10 * 1024 * 1024", byte_size,
       "Bytes of an HTTP request body.", http<&HttpSettings::max_content_size>},
      {"consider_websocket_secure", kBool, G, "false", nullptr,
       "WebSocket connections over plain HTTP count as encrypted (a TLS proxy is in front).",
       http<&HttpSettings::consider_websocket_secure>},
      {"openmetrics_allow_ips", kStringList, G, R"({ "::1", "127.0.0.1" })", non_empty_strings,
       "Addresses allowed to read /metrics.", http<&HttpSettings::openmetrics_allow_ips>},
      {"openmetrics_allow_cidr", kString, G, R"("")", nullptr,
       "A network (\"192.0.2.0/24\") allowed to read /metrics.", http<&HttpSettings::openmetrics_allow_cidr>},
      {"turn_external_secret", kString, H, R"("")", nullptr,
       "The secret shared with the TURN server (its static-auth-secret); empty: no TURN credentials.",
       turn<&TurnSettings::secret>},
      {"turn_external_host", kString, H, R"("")", nullptr, "The TURN server's name; defaults to the host's.",
       turn<&TurnSettings::host>},
      {"turn_external_port", kInteger, H, "3478", port_number, "The TURN server's port.", turn<&TurnSettings::port>},
      {"turn_external_ttl", kInteger, H, "86400", turn_ttl, "Seconds a TURN credential is valid.",
       turn<&TurnSettings::ttl>},
      {"turn_external_tcp", kBool, H, "false", nullptr, "Also offer TURN over TCP.", turn<&TurnSettings::tcp>},
      {"turn_external_user", kString, H, R"("")", nullptr, "A name after the expiry in TURN user names (EXPIRY:USER).",
       turn<&TurnSettings::user>},
      {"turn_external_tls_port", kInteger, H, "0", port_or_none,
       "The TURN server's TLS port (a turns service); 0: none.", turn<&TurnSettings::tls_port>},
      {"http_file_share_size_limit", kInteger, H, "10 * 1024 * 1024", byte_size, "Bytes of one uploaded file.",
       file_share<&FileShareSettings::size_limit>},
      {"http_file_share_expires_after", kInteger, H, "7 * 86400", upload_expiry,
       "Seconds an uploaded file is kept; 0 or negative for ever.", store_upload_expiry},
      {"http_file_share_daily_quota", kInteger, H, "0", byte_quota,
       "Bytes one user may upload in 24 hours; 0 for ten times http_file_share_size_limit.",
       file_share<&FileShareSettings::daily_quota>},
      {"http_file_share_global_quota", kInteger, H, "0", byte_quota,
       "Bytes all uploads together may take; 0 for no limit.", file_share<&FileShareSettings::global_quota>},
      {"http_file_share_allowed_file_types", kStringList, H, "{}", non_empty_strings,
       "MIME types accepted (\"image/*\" allowed); empty for any.",
       file_share<&FileShareSettings::allowed_file_types>},
      {"http_file_share_safe_file_types", kStringList, H, R"({ "image/*", "video/*", "audio/*", "text/plain" })",
       non_empty_strings, "MIME types shown inline; others are served as attachments.",
       file_share<&FileShareSettings::safe_file_types>},
      {"http_file_share_access", kStringList, H, "{}", non_empty_strings,
       "JIDs and domains besides the parent host's users that may upload.", file_share<&FileShareSettings::access>},
  };
  return kOptions;
}

const std::vector<IgnoredOption>& ignored_table() {
  static const std::vector<IgnoredOption> kIgnored = {
      {"daemonize", "xmppd always runs in the foreground under its service manager", true},
      // Debian's stock file sets it; no module xmppd lacks can be had from a directory.
      {"plugin_paths", "xmppd has no plugins; its modules are built in", false},
      {"use_libevent", "xmppd always uses libevent", true},
      {"network_backend", "xmppd always uses libevent", true},
      {"prosody_user", "use xmppd_user", true},
      {"prosody_group", "each xmppd process runs under its own user and group", true},
  };
  return kIgnored;
}

}  // namespace

const std::vector<OptionSpec>& option_specs() { return options_table(); }

const OptionSpec* find_option(std::string_view name) {
  const std::vector<OptionSpec>& all = options_table();
  auto it =
      std::find_if(all.begin(), all.end(), [name](const OptionSpec& o) { return o.name == name; });
  return it == all.end() ? nullptr : &*it;
}

const std::vector<IgnoredOption>& ignored_options() { return ignored_table(); }

const IgnoredOption* find_ignored_option(std::string_view name) {
  const std::vector<IgnoredOption>& all = ignored_table();
  auto it = std::find_if(all.begin(), all.end(),
                         [name](const IgnoredOption& o) { return o.name == name; });
  return it == all.end() ? nullptr : &*it;
}

// What a client expects of a server today (Prosody's default modules and those of Debian's
// stock prosody.cfg.lua). "limits" (Prosody's mod_limits) applies the `limits` option; only the
// global section's modules_disabled can turn it off, as the option is global.
const std::set<std::string>& default_modules() {
  static const std::set<std::string> kDefault = {
      "saslauth", "tls",      "dialback", "c2s",    "s2s",   "presence",     "message",  "iq",
      "limits",   "roster",   "disco",    "offline", "ping", "register",     "carbons",  "blocklist",
      "private",  "pep",      "bookmarks", "vcard_legacy", "vcard4", "csi_simple", "time", "uptime",
      "server_contact_info", "smacks"};
  return kDefault;
}

const std::set<std::string>& known_modules() {
  static const std::set<std::string> kKnown = [] {
    std::set<std::string> known = default_modules();
    // XEP-0092: off unless enabled, so that the server does not tell whoever asks which
    // software and version it runs (Debian's stock prosody.cfg.lua enables it).
    known.insert("version");
    known.insert("mam");  // XEP-0313, off unless enabled, as Prosody's mod_mam
    known.insert("s2s_bidi");  // XEP-0288, off unless enabled as in Prosody 0.12 (xmppd.conf(5))
    // XEP-0357, a community module in Prosody 0.12: off unless enabled.
    known.insert("cloud_notify");
    // In a Component "domain" "muc" section: the rooms' archive (XEP-0313) and avatars.
    known.insert("muc_mam");
    known.insert("vcard_muc");
    // Served by the HTTP process (config/http.h), off unless enabled as in Prosody.
    known.insert("websocket");       // RFC 7395, and XEP-0156 host-meta for the host
    known.insert("http_openmetrics"); // /metrics
    known.insert("turn_external");    // XEP-0215
    return known;
  }();
  return kKnown;
}

const std::vector<ModuleNote>& builtin_modules() {
  static const std::vector<ModuleNote> kBuiltin = {
      {"posix", "xmppd drops privileges, writes its pidfile and logs to syslog(3) itself"},
      {"admin_shell", "xmppctl(8) administers the server over its admin socket"},
      {"admin_telnet", "xmppctl(8) administers the server over its admin socket"},
      {"http", "the HTTP process (xmppd-http) runs when an HTTP service is enabled"},
  };
  return kBuiltin;
}

const std::vector<ModuleNote>& missing_modules() {
  static const std::vector<ModuleNote> kMissing = {
      {"invites", "accounts are made with xmppctl adduser, or by the user with allow_registration"},
      {"invites_adhoc", "accounts are made with xmppctl adduser"},
      {"invites_register", "accounts are made with xmppctl adduser, or by the user with allow_registration"},
      {"admin_adhoc", "the server is administered with xmppctl(8)"},
      {"vcard", "Prosody's older vCard module; xmppd's vcard_legacy (on by default) serves vcard-temp"},
      {"legacyauth", "clients log in with SASL only (XEP-0078 is obsolete)"},
      {"register_ibr", "xmppd's register module does this, with allow_registration"},
      {"user_account_management", "xmppd's register module does this"},
      {"lastactivity", "uptime answers XEP-0012 for the server; users' last activity is not kept"},
      {"bosh", "web clients connect over WebSocket (module websocket)"},
      {"muc", "multi-user chat is a section of its own: Component \"conference.example.org\" \"muc\""},
  };
  return kMissing;
}

const ModuleNote* find_module_note(const std::vector<ModuleNote>& notes, std::string_view name) {
  auto it = std::find_if(notes.begin(), notes.end(), [name](const ModuleNote& n) { return n.name == name; });
  return it == notes.end() ? nullptr : &*it;
}

const std::vector<std::string_view>& contact_info_fields() {
  static const std::vector<std::string_view> kFields = {"abuse", "admin", "feedback", "sales",
                                                        "security", "status", "support"};
  return kFields;
}

const std::vector<std::string_view>& tls_keys() {
  static const std::vector<std::string_view> kKeys = {
      "certificate", "key", "protocol", "ciphers", "ciphersuites", "cafile", "capath"};
  return kKeys;
}

const std::vector<std::string_view>& tls_protocols() {
  static const std::vector<std::string_view> kProtocols = {"tlsv1_2", "tlsv1_2+", "tlsv1_3",
                                                           "tlsv1_3+"};
  return kProtocols;
}

std::string_view type_name(OptionType type) {
  switch (type) {
    case kBool: return "boolean";
    case kInteger: return "integer";
    case kString: return "string";
    case kPath: return "path";
    case kStringList: return "strings";
    case kPortList: return "ports";
    case kTls: return "table";
    case kModuleList: return "modules";
    case kTable: return "table";
    case kLog: return "sinks";
    case kBackend: return "backend";
    case kScalar: return "value";
    case kNumber: return "number";
  }
  return "value";
}

}  // namespace xmppd::config
