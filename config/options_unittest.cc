// The schema itself: complete, consistent, and each option usable where its
// scope allows and refused where it does not.

#include "config/options.h"

#include <gtest/gtest.h>

#include "config/parser.h"
#include "config/test_util.h"

namespace xmppd::config {
namespace {

using testing::errors;
using testing::load_text;
using testing::Loaded;
using Strings = std::vector<std::string>;

const std::string kFile = "/etc/xmppd/xmppd.conf";

TEST(Options, NamesAreUniqueAndDocumented) {
  std::set<std::string_view> names;
  for (const OptionSpec& spec : option_specs()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_FALSE(spec.doc.empty()) << spec.name;
    EXPECT_EQ(find_option(spec.name), &spec);
    EXPECT_EQ(find_ignored_option(spec.name), nullptr) << spec.name;
    EXPECT_EQ(spec.store == nullptr, spec.type == OptionType::kTls) << spec.name;
  }
  EXPECT_EQ(find_option("no_such_option"), nullptr);
}

TEST(Options, TheBriefsOptionsAreAllThere) {
  for (std::string_view name : {"pidfile",
                                "data_path",
                                "empty_path",
                                "xmppd_user",
                                "tls_helper_user",
                                "auth_helper_user",
                                "storage_user",
                                "storage",
                                "sql",
                                "sql_manage_tables",
                                "interfaces",
                                "c2s_interfaces",
                                "s2s_interfaces",
                                "c2s_ports",
                                "c2s_direct_tls_ports",
                                "s2s_ports",
                                "s2s_direct_tls_ports",
                                "certificates",
                                "ssl",
                                "c2s_ssl",
                                "s2s_ssl",
                                "c2s_require_encryption",
                                "c2s_stanza_size_limit",
                                "s2s_require_encryption",
                                "s2s_secure_auth",
                                "use_dane",
                                "s2s_secure_domains",
                                "s2s_insecure_domains",
                                "allow_anonymous_s2s",
                                "s2s_stanza_size_limit",
                                "s2s_timeout",
                                "dialback_secret",
                                "s2s_allow_private_addresses",
                                "s2s_max_concurrent_connects",
                                "authentication",
                                "allow_registration",
                                "modules_enabled",
                                "modules_disabled",
                                "admins",
                                "enabled",
                                "dns_resolvconf",
                                "dns_hosts",
                                "dns_forwarders",
                                "dns_trust_anchor",
                                "dns_transparent_zones",
                                "max_user_offline_messages",
                                "max_user_offline_bytes",
                                "max_pending_subscriptions",
                                "max_roster_items",
                                "max_directed_presences",
                                "max_user_sessions",
                                "dialback_without_dialback",
                                "smacks_enabled_s2s",
                                "s2s_blacklist",
                                "s2s_whitelist",
                                "s2s_peer_stanza_size_limit",
                                "s2s_peer_stanza_size_limits",
                                "max_user_pep_nodes",
                                "pep_max_items",
                                "max_user_pep_bytes",
                                "max_user_private_bytes",
                                "max_user_vcard_bytes",
                                "max_blocklist_items",
                                "contact_info",
                                "log",
                                "syslog_facility",
                                "archive_expires_after",
                                "default_archive_policy",
                                "max_archive_query_results",
                                "archive_cleanup_interval",
                                "storage_archive_item_limit"})
    EXPECT_NE(find_option(name), nullptr) << name;
  EXPECT_EQ(option_specs().size(), 143u);
}

TEST(Options, Scopes) {
  for (std::string_view name :
       {"ssl", "c2s_ssl", "s2s_ssl", "c2s_require_encryption", "c2s_stanza_size_limit",
        "s2s_require_encryption", "s2s_secure_auth", "use_dane", "s2s_secure_domains", "s2s_insecure_domains",
        "allow_anonymous_s2s", "s2s_stanza_size_limit", "s2s_timeout", "authentication",
        "allow_registration", "modules_enabled", "modules_disabled", "admins", "contact_info", "enabled"})
    EXPECT_EQ(find_option(name)->scope, OptionScope::kHost) << name;
  for (std::string_view name : {"pidfile", "interfaces", "c2s_ports", "certificates",
                                "dialback_secret", "dns_resolvconf", "xmppd_user", "max_user_pep_nodes",
                                "pep_max_items", "max_user_pep_bytes", "max_user_private_bytes",
                                "max_user_vcard_bytes", "max_blocklist_items"})
    EXPECT_EQ(find_option(name)->scope, OptionScope::kGlobal) << name;
}

TEST(Options, DefaultsParseAndPassTheirOwnChecks) {
  for (const OptionSpec& spec : option_specs()) {
    if (spec.default_value.empty()) continue;
    Loaded l = load_text(std::string(spec.name) + " = " + std::string(spec.default_value));
    EXPECT_TRUE(l.settings) << spec.name;
    EXPECT_EQ(l.messages, Strings{}) << spec.name;
  }
}

TEST(Options, DerivedDefaultsAreExplainedInTheDoc) {
  for (const OptionSpec& spec : option_specs()) {
    if (!spec.default_value.empty()) continue;
    EXPECT_NE(spec.doc.find("defaults to"), std::string_view::npos) << spec.name;
  }
}

TEST(Options, HostOptionsAreAcceptedInAVirtualHost) {
  for (const OptionSpec& spec : option_specs()) {
    if (spec.scope != OptionScope::kHost) continue;
    Loaded l = load_text("VirtualHost \"a.example\"\n" + std::string(spec.name) + " = " +
                         std::string(spec.default_value));
    EXPECT_TRUE(l.settings) << spec.name;
    EXPECT_EQ(l.messages, Strings{}) << spec.name;
  }
}

TEST(Options, GlobalOptionsAreRefusedInAVirtualHost) {
  for (const OptionSpec& spec : option_specs()) {
    if (spec.scope != OptionScope::kGlobal) continue;
    Loaded l = load_text("VirtualHost \"a.example\"\n" + std::string(spec.name) + " = \"x\"");
    EXPECT_FALSE(l.settings) << spec.name;
    EXPECT_EQ(l.messages,
              Strings{kFile + ":2: " + std::string(spec.name) + " can only be set globally"});
  }
}

// A value of the wrong kind is refused for every option, with its name.
TEST(Options, EveryOptionRefusesAWrongType) {
  for (const OptionSpec& spec : option_specs()) {
    std::string wrong = spec.type == OptionType::kBool     ? "\"yes\""
                        : spec.type == OptionType::kScalar ? "{ 1 }"
                                                           : "true";
    Loaded l = load_text(std::string(spec.name) + " = " + wrong);
    EXPECT_FALSE(l.settings) << spec.name;
    ASSERT_EQ(errors(l).size(), 1u) << spec.name;
    EXPECT_EQ(errors(l)[0].rfind(kFile + ":1: " + std::string(spec.name) + " expects ", 0), 0u)
        << errors(l)[0];
  }
}

TEST(Options, IgnoredOptions) {
  for (std::string_view name :
       {"daemonize", "plugin_paths", "use_libevent", "network_backend"}) {
    const IgnoredOption* ignored = find_ignored_option(name);
    ASSERT_NE(ignored, nullptr) << name;
    EXPECT_FALSE(ignored->why.empty());
  }
  EXPECT_FALSE(find_ignored_option("plugin_paths")->warn);
  EXPECT_TRUE(find_ignored_option("daemonize")->warn);
  EXPECT_EQ(find_ignored_option("log"), nullptr);  // read: config/log_option.h
  EXPECT_EQ(find_ignored_option("pidfile"), nullptr);
  EXPECT_EQ(find_ignored_option("admins"), nullptr);
}

TEST(Options, Modules) {
  for (const std::string& m : default_modules()) EXPECT_TRUE(known_modules().count(m)) << m;
  // What the router provides, by Prosody's names; all on by default but version and s2s_bidi.
  for (std::string_view m : {"roster", "disco", "carbons", "blocklist", "private", "pep", "bookmarks",
                             "vcard_legacy", "vcard4", "csi_simple", "time", "uptime", "ping", "register",
                             "server_contact_info", "offline", "saslauth", "tls", "dialback", "c2s", "s2s",
                             "presence", "message", "iq", "limits", "smacks"})
    EXPECT_TRUE(default_modules().count(std::string(m))) << m;
  EXPECT_EQ(default_modules().size(), 26u);
  EXPECT_TRUE(known_modules().count("version"));
  EXPECT_FALSE(default_modules().count("version"));
  // XEP-0288, opt-in as in Prosody 0.12.
  EXPECT_TRUE(known_modules().count("s2s_bidi"));
  EXPECT_FALSE(default_modules().count("s2s_bidi"));
  EXPECT_TRUE(known_modules().count("mam"));
  EXPECT_FALSE(default_modules().count("mam"));
  for (const char* m : {"muc_mam", "vcard_muc"}) {
    EXPECT_TRUE(known_modules().count(m)) << m;
    EXPECT_FALSE(default_modules().count(m)) << m;
  }
  EXPECT_EQ(known_modules().size(), 35u);
}

// A Prosody module is provided, done without a module, or missing: never two of these.
TEST(Options, ModuleNotes) {
  for (const std::vector<ModuleNote>* notes : {&builtin_modules(), &missing_modules()}) {
    std::set<std::string_view> names;
    for (const ModuleNote& n : *notes) {
      EXPECT_TRUE(names.insert(n.name).second) << n.name;
      EXPECT_FALSE(n.why.empty()) << n.name;
      EXPECT_FALSE(known_modules().count(std::string(n.name))) << n.name;
      EXPECT_EQ(find_module_note(*notes, n.name), &n);
    }
  }
  for (const ModuleNote& n : builtin_modules()) EXPECT_EQ(find_module_note(missing_modules(), n.name), nullptr);
  for (std::string_view m : {"posix", "admin_shell", "admin_telnet"})
    EXPECT_NE(find_module_note(builtin_modules(), m), nullptr) << m;
  for (std::string_view m : {"invites", "invites_adhoc", "invites_register", "admin_adhoc"})
    EXPECT_NE(find_module_note(missing_modules(), m), nullptr) << m;
  EXPECT_EQ(find_module_note(missing_modules(), "roster"), nullptr);
  EXPECT_EQ(find_module_note(missing_modules(), "mam"), nullptr);  // provided, opt-in
}

TEST(Options, ContactInfoFields) {
  EXPECT_EQ(contact_info_fields(), (std::vector<std::string_view>{"abuse", "admin", "feedback", "sales", "security",
                                                                  "status", "support"}));
}

TEST(Options, TlsKeysAndProtocols) {
  EXPECT_EQ(tls_keys().size(), 7u);
  EXPECT_EQ(tls_protocols(),
            (std::vector<std::string_view>{"tlsv1_2", "tlsv1_2+", "tlsv1_3", "tlsv1_3+"}));
  for (std::string_view p : tls_protocols()) {
    Loaded l = load_text("s2s_ssl = { protocol = \"" + std::string(p) + "\" }");
    ASSERT_TRUE(l.settings) << p;
    EXPECT_EQ(l.settings->global.s2s_ssl.protocol, p);
  }
}

TEST(Options, TypeNames) {
  EXPECT_EQ(type_name(OptionType::kBool), "boolean");
  EXPECT_EQ(type_name(OptionType::kInteger), "integer");
  EXPECT_EQ(type_name(OptionType::kNumber), "number");
  EXPECT_EQ(type_name(OptionType::kString), "string");
  EXPECT_EQ(type_name(OptionType::kPath), "path");
  EXPECT_EQ(type_name(OptionType::kStringList), "strings");
  EXPECT_EQ(type_name(OptionType::kPortList), "ports");
  EXPECT_EQ(type_name(OptionType::kTls), "table");
  EXPECT_EQ(type_name(OptionType::kModuleList), "modules");
  EXPECT_EQ(type_name(OptionType::kLog), "sinks");
}

TEST(Value, ToLua) {
  std::vector<Diagnostic> diags;
  std::optional<Value> v =
      parse_value(R"({ "a\"b", 2, 2.5, k = true, ["odd key"] = {} })", "d", diags);
  ASSERT_TRUE(v);
  EXPECT_EQ(to_lua(*v), R"({ "a\"b", 2, 2.5, k = true, ["odd key"] = {} })");
}

}  // namespace
}  // namespace xmppd::config
