// Typed settings: defaults, the seed document's lines, inheritance from the
// global section, module merging, TLS overlays and option checks.

#include "config/settings.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "config/options.h"
#include "config/test_util.h"

namespace xmppd::config {
namespace {

using testing::errors;
using testing::load_text;
using testing::Loaded;
using testing::warnings;
using Strings = std::vector<std::string>;
using Modules = std::set<std::string>;

const std::string kFile = "/etc/xmppd/xmppd.conf";

// The one message a load of text gives; the load must fail when it is an error.
std::string only_message(const std::string& text) {
  Loaded l = load_text(text);
  EXPECT_EQ(l.messages.size(), 1u) << text;
  if (!errors(l).empty()) {
    EXPECT_FALSE(l.settings) << text;
  }
  return l.messages.empty() ? "" : l.messages[0];
}

Settings load_ok(const std::string& text) {
  Loaded l = load_text(text);
  EXPECT_TRUE(l.settings) << text << "\n" << (l.messages.empty() ? "" : l.messages[0]);
  return l.settings.value_or(Settings{});
}

TEST(Settings, Defaults) {
  Loaded l = load_text("");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
  const Settings& s = *l.settings;
  EXPECT_EQ(s.source_file, kFile);
  EXPECT_EQ(s.pidfile, "");
  EXPECT_EQ(s.data_path, "/var/lib/xmppd");
  EXPECT_EQ(s.empty_path, "/var/empty");
  EXPECT_EQ(s.xmppd_user, "_xmppd");
  EXPECT_EQ(s.tls_helper_user, "_xmppd_tls");
  EXPECT_EQ(s.auth_helper_user, "_xmppd_auth");
  EXPECT_EQ(s.certificates, "/etc/xmppd/certs");
  EXPECT_EQ(s.dialback_secret, "");
  EXPECT_EQ(s.c2s_interfaces, (Strings{"*", "::"}));
  EXPECT_EQ(s.s2s_interfaces, (Strings{"*", "::"}));
  EXPECT_EQ(s.c2s_ports, std::vector<int>{5222});
  EXPECT_EQ(s.s2s_ports, std::vector<int>{5269});
  EXPECT_TRUE(s.c2s_direct_tls_ports.empty());
  EXPECT_TRUE(s.s2s_direct_tls_ports.empty());
  EXPECT_EQ(s.dns.resolvconf, "/etc/resolv.conf");
  EXPECT_EQ(s.dns.hosts, "/etc/hosts");
  EXPECT_EQ(s.dns.trust_anchor, "");
  EXPECT_TRUE(s.dns.forwarders.empty());
  EXPECT_TRUE(s.dns.transparent_zones.empty());
  EXPECT_TRUE(s.hosts.empty());
  const HostSettings& g = s.global;
  EXPECT_EQ(g.name, "");
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.authentication, "internal_hashed");
  EXPECT_FALSE(g.allow_registration);
  EXPECT_TRUE(g.c2s_require_encryption);
  EXPECT_EQ(g.c2s_stanza_size_limit, 256u * 1024);
  EXPECT_TRUE(g.s2s_require_encryption);
  EXPECT_FALSE(g.s2s_secure_auth);
  EXPECT_FALSE(g.allow_anonymous_s2s);
  EXPECT_EQ(g.s2s_stanza_size_limit, 512u * 1024);
  EXPECT_EQ(g.s2s_timeout, 90);
  EXPECT_TRUE(g.admins.empty());
  EXPECT_EQ(g.ssl.protocol, "tlsv1_2+");
  EXPECT_EQ(g.c2s_ssl, TlsSettings{});
  EXPECT_EQ(g.s2s_ssl, TlsSettings{});
  EXPECT_TRUE(g.contact_info.empty());
  EXPECT_EQ(g.modules, (Modules{"roster", "saslauth", "tls", "dialback", "disco", "c2s", "s2s", "presence",
                                "message", "iq", "offline", "ping", "register", "limits", "carbons", "blocklist",
                                "private", "pep", "bookmarks", "vcard_legacy", "vcard4", "csi_simple", "time",
                                "uptime", "server_contact_info", "smacks"}));
  EXPECT_EQ(s.quotas.pep_nodes, 64u);
  EXPECT_EQ(s.quotas.pep_items, 256u);
  EXPECT_EQ(s.quotas.pep_bytes, 8u << 20);
  EXPECT_EQ(s.quotas.private_bytes, 256u << 10);
  EXPECT_EQ(s.quotas.vcard_bytes, 256u << 10);
  EXPECT_EQ(s.quotas.blocklist_items, 1000u);
}

// The struct's own initialisers and the schema's defaults must say the same.
TEST(Settings, StructDefaultsMatchTheSchema) {
  HostSettings plain;
  const HostSettings& g = load_ok("").global;
  EXPECT_EQ(plain.enabled, g.enabled);
  EXPECT_EQ(plain.ssl, g.ssl);
  EXPECT_EQ(plain.authentication, g.authentication);
  EXPECT_EQ(plain.allow_registration, g.allow_registration);
  EXPECT_EQ(plain.c2s_require_encryption, g.c2s_require_encryption);
  EXPECT_EQ(plain.c2s_stanza_size_limit, g.c2s_stanza_size_limit);
  EXPECT_EQ(plain.s2s_require_encryption, g.s2s_require_encryption);
  EXPECT_EQ(plain.s2s_secure_auth, g.s2s_secure_auth);
  EXPECT_EQ(plain.allow_anonymous_s2s, g.allow_anonymous_s2s);
  EXPECT_EQ(plain.s2s_stanza_size_limit, g.s2s_stanza_size_limit);
  EXPECT_EQ(plain.s2s_timeout, g.s2s_timeout);
  // The connection limits' defaults reach the router and the s2s worker only from here
  // (stream/connection_limits.h restates them only as a fallback for unconfigured limits).
  Settings plain_settings;
  const Settings loaded = load_ok("");
  EXPECT_EQ(plain_settings.max_connections_per_address, loaded.max_connections_per_address);
  EXPECT_EQ(plain_settings.max_unauthenticated_per_address, loaded.max_unauthenticated_per_address);
  EXPECT_EQ(plain_settings.max_connections, loaded.max_connections);
  EXPECT_EQ(plain_settings.child_memory_limit, loaded.child_memory_limit);
  // The router's quotas when it is sent none are these initialisers too (daemon/quotas.h).
  EXPECT_EQ(QuotaSettings{}, load_ok("").quotas);
}

// Multi-user chat (config/muc.h): the struct's initialisers are the schema's defaults.
TEST(Settings, MucDefaultsMatchTheSchema) {
  const Settings s = load_ok("Component \"conference.a.example\" \"muc\"\n");
  ASSERT_EQ(s.components.size(), 1u);
  EXPECT_EQ(s.components[0].muc, MucSettings{});
  EXPECT_EQ(s.global.muc, MucSettings{});
}

// One option of each kind, in the Component section over the global one.
TEST(Settings, MucOptionsOfEachKind) {
  const Settings s = load_ok(
      "muc_max_occupants = 30\n"
      "muc_room_default_persistent = true\n"
      "Component \"conference.a.example\" \"muc\"\n"
      "  modules_enabled = { \"muc_mam\", \"vcard_muc\" }\n"
      "  restrict_room_creation = \"local\"\n"
      "  muc_room_default_public = false\n"
      "  muc_room_default_history_length = 5\n"
      "  muc_event_rate = 2.5\n"
      "  muc_burst_factor = 3\n"
      "  muc_log_expires_after = \"2d\"\n"
      "  muc_tombstone_expiry = 7 * 86400\n"
      "  enforce_registered_nickname = true\n");
  ASSERT_EQ(s.components.size(), 1u);
  const HostSettings& c = s.components[0];
  EXPECT_EQ(c.muc.restrict_room_creation, "local");
  EXPECT_FALSE(c.muc.room_default_public);
  EXPECT_TRUE(c.muc.room_default_persistent);  // the global value
  EXPECT_EQ(c.muc.max_occupants, 30u);
  EXPECT_EQ(c.muc.room_default_history_length, 5u);
  EXPECT_DOUBLE_EQ(c.muc.event_rate, 2.5);
  EXPECT_DOUBLE_EQ(c.muc.burst_factor, 3);
  EXPECT_EQ(c.muc.log_expires_after, 2u * 86400);
  EXPECT_EQ(c.muc.tombstone_expiry, 7u * 86400);
  EXPECT_TRUE(c.muc.enforce_registered_nickname);
  EXPECT_TRUE(c.module_enabled("muc_mam"));
  EXPECT_TRUE(c.module_enabled("vcard_muc"));
  EXPECT_EQ(load_ok("muc_log_expires_after = \"never\"").global.muc.log_expires_after, 0u);
}

// http_file_share_expires_after: negative is Prosody's "never", accepted as xmppd's 0.
TEST(Settings, UploadExpiryNegativeIsNever) {
  EXPECT_EQ(load_ok("http_file_share_expires_after = -1").global.file_share.expires_after, 0u);
  EXPECT_EQ(load_ok("http_file_share_expires_after = 0").global.file_share.expires_after, 0u);
  EXPECT_EQ(load_ok("http_file_share_expires_after = 60").global.file_share.expires_after, 60u);
}

// Prosody's restrict_room_creation: booleans or "local"; xmppd's names too.
TEST(Settings, RestrictRoomCreation) {
  EXPECT_EQ(load_ok("restrict_room_creation = true").global.muc.restrict_room_creation, "admin");
  EXPECT_EQ(load_ok("restrict_room_creation = false").global.muc.restrict_room_creation, "none");
  EXPECT_EQ(load_ok("restrict_room_creation = \"admin\"").global.muc.restrict_room_creation, "admin");
  EXPECT_EQ(load_ok("restrict_room_creation = \"none\"").global.muc.restrict_room_creation, "none");
  EXPECT_EQ(only_message("Component \"c.a.example\" \"muc\"\n  restrict_room_creation = \"members\""),
            kFile + ":2: restrict_room_creation must be true (admins only), false (anyone), \"local\" (users of the "
                    "parent host), \"admin\" or \"none\"");
  EXPECT_FALSE(load_text("restrict_room_creation = 1").settings);
}

TEST(Settings, MucLimitsAreChecked) {
  EXPECT_EQ(only_message("muc_max_occupants = 0"),
            kFile + ":1: muc_max_occupants must be from 1 to 1000000000, got 0");
  EXPECT_EQ(only_message("max_history_messages = -1"),
            kFile + ":1: max_history_messages must be from 0 to 1000000000, got -1");
  EXPECT_EQ(only_message("muc_event_rate = -0.5"),
            kFile + ":1: muc_event_rate must be from 0 (no limit) to 1000 stanzas per second, got -0.5");
  EXPECT_EQ(only_message("muc_burst_factor = 0.5"), kFile + ":1: muc_burst_factor must be from 1 to 1000, got 0.5");
  EXPECT_EQ(only_message("muc_event_rate = \"fast\""), kFile + ":1: muc_event_rate expects a number, got a string");
  EXPECT_FALSE(load_text("muc_log_expires_after = \"soon\"").settings);
  EXPECT_EQ(load_ok("muc_event_rate = 0").global.muc.event_rate, 0);
}

// Every configuration line of Prosody's s2s document (shared/seed/s2s.md),
// as written there, in the global section and in a VirtualHost.
constexpr std::string_view kSeedLines = R"(
    modules_disabled = { "s2s" }
    allow_anonymous_s2s = true
    -- Set the default security policy for s2s connections:
    s2s_secure_auth = true
    -- These hosts are allowed to authenticate via weaker mechanisms, such as dialback:
    s2s_insecure_domains = { "gmail.com" }
    -- Whatever the value of s2s_secure_auth, these domains must always present valid certificates:
    s2s_secure_domains = { "jabber.org", "xmpp.org" }
    s2s_stanza_size_limit = 512 * 1000 -- 512kb
)";

void expect_seed_values(const HostSettings& h) {
  EXPECT_FALSE(h.module_enabled("s2s"));
  EXPECT_TRUE(h.module_enabled("c2s"));
  EXPECT_TRUE(h.allow_anonymous_s2s);
  EXPECT_TRUE(h.s2s_secure_auth);
  EXPECT_EQ(h.s2s_insecure_domains, Strings{"gmail.com"});
  EXPECT_EQ(h.s2s_secure_domains, (Strings{"jabber.org", "xmpp.org"}));
  EXPECT_EQ(h.s2s_stanza_size_limit, 512000u);
}

TEST(Settings, SeedDocumentLinesGlobally) {
  Loaded l = load_text(std::string(kSeedLines) + "VirtualHost \"example.com\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
  expect_seed_values(l.settings->global);
  expect_seed_values(*l.settings->find_host("example.com"));  // inherited
}

TEST(Settings, SeedDocumentLinesPerHost) {
  Loaded l = load_text("VirtualHost \"example.com\"\n" + std::string(kSeedLines) +
                       "VirtualHost \"other.example\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
  expect_seed_values(*l.settings->find_host("example.com"));
  const HostSettings& other = *l.settings->find_host("other.example");
  EXPECT_TRUE(other.module_enabled("s2s"));
  EXPECT_FALSE(other.s2s_secure_auth);
  EXPECT_EQ(other.s2s_stanza_size_limit, 512u * 1024);
  EXPECT_TRUE(l.settings->global.module_enabled("s2s"));
}

TEST(Settings, StanzaSizeLimits) {
  EXPECT_EQ(only_message("s2s_stanza_size_limit = 9999"),
            kFile +
                ":1: s2s_stanza_size_limit must be at least 10000 bytes (RFC 6120 §13.12), "
                "got 9999");
  EXPECT_EQ(only_message("VirtualHost \"a.example\"\nc2s_stanza_size_limit = 1024"),
            kFile +
                ":2: c2s_stanza_size_limit must be at least 10000 bytes (RFC 6120 §13.12), "
                "got 1024");
  EXPECT_EQ(only_message("s2s_stanza_size_limit = -1"),
            kFile +
                ":1: s2s_stanza_size_limit must be at least 10000 bytes (RFC 6120 §13.12), "
                "got -1");
  EXPECT_EQ(load_ok("s2s_stanza_size_limit = 10000").global.s2s_stanza_size_limit, 10000u);
  EXPECT_EQ(load_ok("s2s_stanza_size_limit = 1000000").global.s2s_stanza_size_limit, 1000000u);
  EXPECT_NE(only_message("dns_trust_anchor = \"/nonexistent/anchor\"").find("cannot read /nonexistent/anchor"),
            std::string::npos);
  EXPECT_NE(only_message("c2s_stanza_size_limit = 1000001").find("at most 1000000 bytes"), std::string::npos);
  EXPECT_EQ(load_ok("c2s_stanza_size_limit = 1e6").global.c2s_stanza_size_limit, 1000000u);
}

TEST(Settings, UseDaneGlobalAndPerHost) {
  Settings s = load_ok("use_dane = true\nVirtualHost \"a.example\"\nVirtualHost \"b.example\"\n  use_dane = false\n");
  EXPECT_TRUE(s.global.use_dane);
  EXPECT_TRUE(s.find_host("a.example")->use_dane);
  EXPECT_FALSE(s.find_host("b.example")->use_dane);
  EXPECT_FALSE(load_ok("").global.use_dane);
}

TEST(Settings, TimeoutRange) {
  EXPECT_EQ(only_message("s2s_timeout = 0"),
            kFile + ":1: s2s_timeout must be from 1 to 3600 seconds, got 0");
  EXPECT_EQ(only_message("s2s_timeout = 3601"),
            kFile + ":1: s2s_timeout must be from 1 to 3600 seconds, got 3601");
  EXPECT_EQ(load_ok("s2s_timeout = 1").global.s2s_timeout, 1);
  EXPECT_EQ(load_ok("s2s_timeout = 60 * 60").global.s2s_timeout, 3600);
}

TEST(Settings, ChildMemoryLimit) {
  EXPECT_EQ(load_ok("").child_memory_limit, 0u);
  EXPECT_EQ(load_ok("child_memory_limit = 64").child_memory_limit, 64u);
  EXPECT_EQ(load_ok("child_memory_limit = 8 * 1024").child_memory_limit, 8192u);
  EXPECT_EQ(only_message("child_memory_limit = 63"),
            kFile + ":1: child_memory_limit must be 0 (the defaults of each process) or from 64 to 1048576 MiB, got 63");
  EXPECT_FALSE(load_text("child_memory_limit = -1").settings);
  EXPECT_FALSE(load_text("VirtualHost \"a.test\"\nchild_memory_limit = 512").settings);
}

TEST(Settings, UnknownOptionIsWarnedWithItsLine) {
  Loaded l = load_text(
      "s2s_timeout = 5\n\nhttp_default_host = \"a\"\nVirtualHost \"a.example\"\n"
      "  muc_room_default_public_private = false\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, (Strings{kFile + ":3: warning: unknown option 'http_default_host'",
                                 kFile + ":5: warning: unknown option 'muc_room_default_public_private'"}));
}

TEST(Settings, IgnoredProsodyOptions) {
  Loaded l = load_text(
      "log = { info = \"/var/log/prosody.log\" }\ndaemonize = true\nplugin_paths = { \"/x\" }\n"
      "use_libevent = true\nnetwork_backend = \"epoll\"\nprosody_user = \"prosody\"\n"
      "prosody_group = \"prosody\"\n");
  ASSERT_TRUE(l.settings);
  const std::string w = kFile + ":";
  EXPECT_EQ(l.messages,
            (Strings{w + "2: warning: option 'daemonize' is ignored by xmppd: xmppd always runs in "
                         "the foreground under its service manager",
                     w + "4: warning: option 'use_libevent' is ignored by xmppd: xmppd always uses "
                         "libevent",
                     w + "5: warning: option 'network_backend' is ignored by xmppd: xmppd always "
                         "uses libevent",
                     w + "6: warning: option 'prosody_user' is ignored by xmppd: use xmppd_user",
                     w + "7: warning: option 'prosody_group' is ignored by xmppd: each xmppd "
                         "process runs under its own user and group"}));
  // plugin_paths (line 3), set by Debian's stock file, changes nothing a user would miss: no warning.
}

// Prosody's mod_mam forms of its options.
TEST(Settings, ArchiveOptions) {
  Loaded l = load_text(
      "archive_expires_after = \"2d\"\ndefault_archive_policy = \"roster\"\nmax_archive_query_results = 20\n"
      "archive_cleanup_interval = 60\nstorage_archive_item_limit = 5\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->quotas.archive_expires_after, 2u * 86400);
  EXPECT_EQ(l.settings->quotas.archive_policy, 2);
  EXPECT_EQ(l.settings->quotas.archive_query_results, 20u);
  EXPECT_EQ(l.settings->quotas.archive_cleanup_interval, 60u);
  EXPECT_EQ(l.settings->quotas.archive_items, 5u);
  EXPECT_EQ(load_ok("archive_expires_after = \"never\"").quotas.archive_expires_after, 0u);
  EXPECT_EQ(load_ok("archive_expires_after = 90").quotas.archive_expires_after, 90u);
  EXPECT_EQ(load_ok("archive_expires_after = \"1y\"").quotas.archive_expires_after, 365u * 86400);
  EXPECT_EQ(load_ok("default_archive_policy = false").quotas.archive_policy, 0);
  EXPECT_EQ(only_message("archive_expires_after = \"1 week\""),
            kFile + ":1: archive_expires_after must be \"never\", a number of seconds, or a number with d, w, m or y "
                    "(\"1w\")");
  EXPECT_EQ(only_message("default_archive_policy = \"sometimes\""),
            kFile + ":1: default_archive_policy must be true, false or \"roster\"");
}

TEST(Settings, GlobalOnlyOptionInAHost) {
  EXPECT_EQ(only_message("VirtualHost \"a.example\"\n  pidfile = \"/run/x.pid\""),
            kFile + ":2: pidfile can only be set globally");
  EXPECT_EQ(only_message("VirtualHost \"a.example\"\n  c2s_ports = { 5222 }"),
            kFile + ":2: c2s_ports can only be set globally");
}

TEST(Settings, WrongTypes) {
  const std::string p = kFile + ":1: ";
  EXPECT_EQ(only_message("s2s_secure_auth = \"yes\""),
            p + "s2s_secure_auth expects true or false, got a string");
  EXPECT_EQ(only_message("s2s_timeout = \"90\""),
            p + "s2s_timeout expects an integer, got a string");
  EXPECT_EQ(only_message("s2s_timeout = 1.5"),
            p + "s2s_timeout expects an integer, got a non-integral number");
  EXPECT_EQ(only_message("xmppd_user = 1000"), p + "xmppd_user expects a string, got an integer");
  EXPECT_EQ(only_message("data_path = false"),
            p + "data_path expects a path in quotes, got a boolean");
  EXPECT_EQ(only_message("admins = \"me@example.com\""),
            p + "admins expects a list of strings, such as { \"a\", \"b\" }, got a string");
  EXPECT_EQ(only_message("admins = { \"a@b\", 5 }"),
            p + "admins expects a list of strings, such as { \"a\", \"b\" }, got an integer as "
                "entry 2");
  EXPECT_EQ(only_message("admins = { first = \"a@b\" }"),
            p + "admins expects a list of strings, such as { \"a\", \"b\" }, got the named entry "
                "'first'");
  EXPECT_EQ(only_message("c2s_ports = \"5222\""),
            p + "c2s_ports expects a port number or a list of port numbers, got a string");
  EXPECT_EQ(only_message("c2s_ports = { \"5222\" }"),
            p + "c2s_ports expects a port number or a list of port numbers, got a string in the "
                "list");
  EXPECT_EQ(only_message("c2s_ports = { main = 5222 }"),
            p + "c2s_ports expects a port number or a list of port numbers, got the named entry "
                "'main' in the list");
  EXPECT_EQ(only_message("c2s_ports = { 0 }"),
            p + "c2s_ports expects port numbers from 1 to 65535, got 0");
  EXPECT_EQ(only_message("s2s_direct_tls_ports = 65536"),
            p + "s2s_direct_tls_ports expects port numbers from 1 to 65535, got 65536");
  EXPECT_EQ(
      only_message("ssl = \"cert.pem\""),
      p + "ssl expects a table such as { certificate = \"...\", key = \"...\" }, got a string");
  EXPECT_EQ(only_message("ssl = { \"cert.pem\" }"),
            p + "ssl expects named settings such as key = \"...\", got an entry without a name");
  EXPECT_EQ(only_message("c2s_ssl = { key = 5 }"),
            p + "c2s_ssl.key expects a string, got an integer");
  EXPECT_EQ(only_message("ssl = { protocol = \"sslv23\" }"),
            p + "ssl.protocol must be one of \"tlsv1_2\", \"tlsv1_2+\", \"tlsv1_3\", \"tlsv1_3+\", "
                "got \"sslv23\"");
  EXPECT_EQ(
      only_message("modules_enabled = \"ping\""),
      p + "modules_enabled expects a list of module names, such as { \"ping\" }, got a string");
}

TEST(Settings, PortsAcceptASingleNumber) {
  Settings s =
      load_ok("c2s_ports = 5223\ns2s_ports = { 5269, 5270; }\nc2s_direct_tls_ports = 5223");
  EXPECT_EQ(s.c2s_ports, std::vector<int>{5223});
  EXPECT_EQ(s.s2s_ports, (std::vector<int>{5269, 5270}));
  EXPECT_EQ(s.c2s_direct_tls_ports, std::vector<int>{5223});
}

TEST(Settings, Authentication) {
  EXPECT_EQ(load_ok("authentication = \"anonymous\"").global.authentication, "anonymous");
  Loaded l = load_text("VirtualHost \"a.example\"\n  authentication = \"internal_plain\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{kFile + ":2: warning: authentication \"internal_plain\" is read as "
                                        "\"internal_hashed\": xmppd always stores salted SCRAM "
                                        "hashes, never plain passwords"});
  EXPECT_EQ(l.settings->hosts[0].authentication, "internal_hashed");
  EXPECT_EQ(
      only_message("authentication = \"ldap\""),
      kFile + ":1: authentication must be \"internal_hashed\" or \"anonymous\", got \"ldap\"");
}

TEST(Settings, UsersMustBeUnprivileged) {
  EXPECT_EQ(only_message("xmppd_user = \"root\""),
            kFile + ":1: xmppd_user must name an unprivileged user, not root");
  EXPECT_EQ(only_message("tls_helper_user = \"\""),
            kFile + ":1: tls_helper_user must name a user, got \"\"");
  EXPECT_EQ(load_ok("auth_helper_user = \"xmppd-auth\"").auth_helper_user, "xmppd-auth");
}

TEST(Settings, DomainLists) {
  Settings s =
      load_ok("s2s_secure_domains = { \"Jabber.ORG\" }\ndns_transparent_zones = { \"test\" }");
  EXPECT_EQ(s.global.s2s_secure_domains, Strings{"jabber.org"});
  EXPECT_EQ(s.dns.transparent_zones, Strings{"test"});
  EXPECT_EQ(only_message("s2s_insecure_domains = { \"bad domain\" }"),
            kFile +
                ":1: s2s_insecure_domains expects domain names, got \"bad domain\" (character "
                "' ' is not allowed)");
  EXPECT_EQ(only_message("interfaces = { \"\" }"),
            kFile + ":1: interfaces must not contain an empty string");
}

TEST(Settings, RemoteDomainListsAndPeerStanzaSizes) {
  Settings s = load_ok(
      "s2s_blacklist = { \"Spam.Example\" }\n"
      "s2s_peer_stanza_size_limit = 20000\n"
      "s2s_peer_stanza_size_limits = { [\"Big.Example\"] = 512 * 1024 }\n"
      "VirtualHost \"a.test\"\n"
      "  s2s_whitelist = { \"friend.example\" }\n");
  EXPECT_EQ(s.global.s2s_blacklist, Strings{"spam.example"});
  EXPECT_EQ(s.global.s2s_peer_stanza_size_limit, 20000u);
  EXPECT_EQ(s.global.s2s_peer_stanza_size_limits, (std::map<std::string, std::size_t>{{"big.example", 512 * 1024}}));
  ASSERT_EQ(s.hosts.size(), 1u);
  EXPECT_EQ(s.hosts[0].s2s_whitelist, Strings{"friend.example"});
  EXPECT_EQ(s.hosts[0].s2s_blacklist, Strings{"spam.example"});
  EXPECT_EQ(load_ok("").global.s2s_peer_stanza_size_limit, 65535u);

  EXPECT_EQ(only_message("s2s_peer_stanza_size_limits = { 70000 }"),
            kFile + ":1: s2s_peer_stanza_size_limits expects domain names as keys, got a list entry");
  EXPECT_EQ(only_message("s2s_peer_stanza_size_limits = { [\"a b\"] = 70000 }"),
            kFile + ":1: s2s_peer_stanza_size_limits expects domain names as keys, got \"a b\" (character ' ' is "
                    "not allowed)");
  EXPECT_EQ(only_message("s2s_peer_stanza_size_limits = { [\"x.example\"] = \"big\" }"),
            kFile + ":1: s2s_peer_stanza_size_limits expects a number of bytes for \"x.example\", got a string");
  EXPECT_EQ(only_message("s2s_peer_stanza_size_limits = { [\"x.example\"] = 100 }"),
            kFile + ":1: s2s_peer_stanza_size_limits [\"x.example\"] must be at least 10000 bytes (RFC 6120 "
                    "§13.12), got 100");
  EXPECT_EQ(only_message("s2s_peer_stanza_size_limit = 5"),
            kFile + ":1: s2s_peer_stanza_size_limit must be at least 10000 bytes (RFC 6120 §13.12), got 5");
  EXPECT_EQ(only_message("s2s_blacklist = { \"bad domain\" }"),
            kFile + ":1: s2s_blacklist expects domain names, got \"bad domain\" (character ' ' is not allowed)");
}

TEST(Settings, HostInheritsGlobalValuesAndOverridesThem) {
  Settings s = load_ok(
      "s2s_secure_auth = true\n"
      "s2s_insecure_domains = { \"gmail.com\" }\n"
      "c2s_require_encryption = false\n"
      "admins = { \"admin@a.example\" }\n"
      "VirtualHost \"a.example\"\n"
      "  s2s_secure_auth = false\n"
      "  admins = {}\n"
      "VirtualHost \"b.example\"\n"
      "  enabled = false\n");
  const HostSettings& a = *s.find_host("a.example");
  const HostSettings& b = *s.find_host("b.example");
  EXPECT_FALSE(a.s2s_secure_auth);
  EXPECT_TRUE(a.admins.empty());
  EXPECT_EQ(a.s2s_insecure_domains, Strings{"gmail.com"});
  EXPECT_FALSE(a.c2s_require_encryption);
  EXPECT_TRUE(b.s2s_secure_auth);
  EXPECT_EQ(b.admins, Strings{"admin@a.example"});
  EXPECT_FALSE(b.enabled);
  EXPECT_TRUE(a.enabled);
  EXPECT_TRUE(s.global.s2s_secure_auth);
}

TEST(Settings, OptionsAfterAHeaderBelongToThatHost) {
  Settings s = load_ok("VirtualHost \"a.example\"\nHost \"b.example\"\ns2s_timeout = 7\n");
  EXPECT_EQ(s.find_host("a.example")->s2s_timeout, 90);
  EXPECT_EQ(s.find_host("b.example")->s2s_timeout, 7);
}

TEST(Settings, LaterGlobalValueWins) {
  EXPECT_EQ(load_ok("s2s_timeout = 5\ns2s_timeout = 6").global.s2s_timeout, 6);
}

TEST(Settings, ModuleMerge) {
  Loaded l = load_text(
      "modules_enabled = { \"version\", \"proxy65\" }\n"
      "modules_disabled = { \"offline\", \"register\" }\n"
      "VirtualHost \"a.example\"\n"
      "  modules_enabled = { \"offline\" }\n"
      "VirtualHost \"b.example\"\n"
      "  modules_disabled = { \"version\", \"s2s\" }\n"
      "VirtualHost \"c.example\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{kFile + ":1: warning: module 'proxy65' is not provided by xmppd"});
  const Settings& s = *l.settings;
  Modules base = default_modules();
  base.insert("version");
  base.erase("offline");
  base.erase("register");
  EXPECT_EQ(s.global.modules, base);
  EXPECT_EQ(s.find_host("c.example")->modules, base);
  Modules a = base;
  a.insert("offline");
  EXPECT_EQ(s.find_host("a.example")->modules, a);
  Modules b = base;
  b.erase("version");
  b.erase("s2s");
  EXPECT_EQ(s.find_host("b.example")->modules, b);
  EXPECT_FALSE(s.find_host("b.example")->module_enabled("s2s"));
  EXPECT_FALSE(s.find_host("a.example")->module_enabled("register"));
}

TEST(Settings, HostEnablingAModuleTheGlobalSectionDisabled) {
  Settings s = load_ok(
      "modules_disabled = { \"s2s\" }\nVirtualHost \"a.example\"\n"
      "modules_enabled = { \"s2s\" }\nVirtualHost \"b.example\"\n");
  EXPECT_TRUE(s.find_host("a.example")->module_enabled("s2s"));
  EXPECT_FALSE(s.find_host("b.example")->module_enabled("s2s"));
}

// Prosody 0.12's name for XEP-0288: accepted without a warning, off unless enabled.
TEST(Settings, S2sBidiIsAModuleOffByDefault) {
  Loaded l = load_text("VirtualHost \"a.example\"\n  modules_enabled = { \"s2s_bidi\" }\nVirtualHost \"b.example\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
  EXPECT_TRUE(l.settings->find_host("a.example")->module_enabled("s2s_bidi"));
  EXPECT_FALSE(l.settings->find_host("b.example")->module_enabled("s2s_bidi"));
}

// The modules_enabled of Debian's stock prosody.cfg.lua (prosody 0.12.3-1), as written there:
// warnings only for what xmppd lacks, each with its reason, none for what it does itself.
TEST(Settings, DebianStockModules) {
  Loaded l = load_text(R"(modules_enabled = {
		"disco"; -- Service discovery
		"roster"; -- Allow users to have a roster. Recommended ;)
		"saslauth"; -- Authentication for clients and servers. Recommended if you want to log in.
		"tls"; -- Add support for secure TLS on c2s/s2s connections
		"blocklist"; -- Allow users to block communications with other users
		"bookmarks"; -- Synchronise the list of open rooms between clients
		"carbons"; -- Keep multiple online clients in sync
		"dialback"; -- Support for verifying remote servers using DNS
		"limits"; -- Enable bandwidth limiting for XMPP connections
		"pep"; -- Allow users to store public and private data in their account
		"private"; -- Legacy account storage mechanism (XEP-0049)
		"smacks"; -- Stream management and resumption (XEP-0198)
		"vcard4"; -- User profiles (stored in PEP)
		"vcard_legacy"; -- Conversion between legacy vCard and PEP Avatar, vcard
		"csi_simple"; -- Simple but effective traffic optimizations for mobile devices
		"invites"; -- Create and manage invites
		"invites_adhoc"; -- Allow admins/users to create invitations via their client
		"invites_register"; -- Allows invited users to create accounts
		"ping"; -- Replies to XMPP pings with pongs
		"register"; -- Allow users to register on this server using a client and change passwords
		"time"; -- Let others know the time here on this server
		"uptime"; -- Report how long server has been running
		"version"; -- Replies to server version requests
		"admin_adhoc"; -- Allows administration via an XMPP client that supports ad-hoc commands
		"admin_shell"; -- Allow secure administration via 'prosodyctl shell'
		"posix"; -- POSIX functionality, sends server to background, enables syslog, etc.
}
modules_disabled = {
}
plugin_paths = { "/usr/local/lib/prosody/modules" }
)");
  ASSERT_TRUE(l.settings);
  const std::string w = kFile + ":";
  EXPECT_EQ(l.messages,
            (Strings{w + "17: warning: module 'invites' is not provided by xmppd: accounts are made with xmppctl "
                         "adduser, or by the user with allow_registration",
                     w + "18: warning: module 'invites_adhoc' is not provided by xmppd: accounts are made with "
                         "xmppctl adduser",
                     w + "19: warning: module 'invites_register' is not provided by xmppd: accounts are made with "
                         "xmppctl adduser, or by the user with allow_registration",
                     w + "25: warning: module 'admin_adhoc' is not provided by xmppd: the server is administered "
                         "with xmppctl(8)"}));
  Modules expected = default_modules();
  expected.insert("version");
  EXPECT_EQ(l.settings->global.modules, expected);
}

// posix, admin_shell and admin_telnet: xmppd does their work without a module. Accepted
// quietly in either list, and never part of the set the router is sent.
TEST(Settings, BuiltinModulesAreAcceptedQuietly) {
  Loaded l = load_text(
      "modules_enabled = { \"posix\", \"admin_shell\", \"admin_telnet\" }\n"
      "VirtualHost \"a.example\"\n  modules_disabled = { \"posix\" }\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
  EXPECT_EQ(l.settings->global.modules, default_modules());
  EXPECT_EQ(l.settings->hosts[0].modules, default_modules());
}

TEST(Settings, MissingModulesAreWarnedWithTheirReason) {
  EXPECT_EQ(only_message("modules_enabled = { \"muc\" }"),
            kFile + ":1: warning: module 'muc' is not provided by xmppd: multi-user chat is a section of its own: "
                    "Component \"conference.example.org\" \"muc\"");
  EXPECT_EQ(load_text("modules_enabled = { \"mam\" }").messages, Strings{});  // provided (XEP-0313)
  EXPECT_EQ(only_message("VirtualHost \"a.example\"\n  modules_enabled = { \"vcard\" }"),
            kFile + ":2: warning: module 'vcard' is not provided by xmppd: Prosody's older vCard module; xmppd's "
                    "vcard_legacy (on by default) serves vcard-temp");
  // A name with nothing to say about it keeps the short warning.
  EXPECT_EQ(only_message("modules_enabled = { \"watchregistrations\" }"),
            kFile + ":1: warning: module 'watchregistrations' is not provided by xmppd");
}

TEST(Settings, ImModulesCanBeTurnedOffPerHost) {
  Settings s = load_ok(
      "modules_disabled = { \"pep\", \"vcard4\" }\n"
      "VirtualHost \"a.example\"\n  modules_enabled = { \"pep\" }\n  modules_disabled = { \"carbons\" }\n"
      "VirtualHost \"b.example\"\n");
  const HostSettings& a = *s.find_host("a.example");
  const HostSettings& b = *s.find_host("b.example");
  EXPECT_TRUE(a.module_enabled("pep"));
  EXPECT_FALSE(a.module_enabled("vcard4"));
  EXPECT_FALSE(a.module_enabled("carbons"));
  EXPECT_FALSE(b.module_enabled("pep"));
  EXPECT_TRUE(b.module_enabled("carbons"));
  EXPECT_TRUE(b.module_enabled("server_contact_info"));
}

// `limits` is global, and so is the module that applies it.
TEST(Settings, LimitsModule) {
  constexpr std::string_view kLimits = "limits = { c2s = { rate = \"10kb/s\" } }\n";
  EXPECT_EQ(load_ok(std::string(kLimits)).limits_c2s.bytes_per_second, 10000);
  Settings off = load_ok(std::string(kLimits) + "modules_disabled = { \"limits\" }\n");
  EXPECT_EQ(off.limits_c2s, ByteRate{});
  EXPECT_FALSE(off.global.module_enabled("limits"));
  Settings host_off =
      load_ok(std::string(kLimits) + "VirtualHost \"a.example\"\n  modules_disabled = { \"limits\" }\n");
  EXPECT_EQ(host_off.limits_c2s.bytes_per_second, 10000);
}

TEST(Settings, PerUserQuotaOptions) {
  Settings s = load_ok(
      "max_user_pep_nodes = 10\npep_max_items = 50\nmax_user_pep_bytes = 1024 * 1024\n"
      "max_user_private_bytes = 64 * 1024\nmax_user_vcard_bytes = 32 * 1024\nmax_blocklist_items = 200\n");
  EXPECT_EQ(s.quotas.pep_nodes, 10u);
  EXPECT_EQ(s.quotas.pep_items, 50u);
  EXPECT_EQ(s.quotas.pep_bytes, 1024u * 1024);
  EXPECT_EQ(s.quotas.private_bytes, 64u * 1024);
  EXPECT_EQ(s.quotas.vcard_bytes, 32u * 1024);
  EXPECT_EQ(s.quotas.blocklist_items, 200u);
  for (std::string name : {"max_user_pep_nodes", "pep_max_items", "max_user_pep_bytes", "max_user_private_bytes",
                           "max_user_vcard_bytes", "max_blocklist_items"}) {
    EXPECT_EQ(only_message(name + " = 0"), kFile + ":1: " + name + " must be at least 1, got 0");
    EXPECT_EQ(only_message("\n" + name + " = -5"), kFile + ":2: " + name + " must be at least 1, got -5");
    EXPECT_EQ(only_message("VirtualHost \"a.example\"\n  " + name + " = 5"),
              kFile + ":2: " + name + " can only be set globally");
  }
}

TEST(Settings, AdminsArePreparedBareJids) {
  Settings s = load_ok(
      "admins = { \"Admin@Example.COM\", \"ops@example.com.\" }\n"
      "VirtualHost \"a.example\"\n  admins = { \"Root@A.Example\" }\nVirtualHost \"b.example\"\n");
  EXPECT_EQ(s.global.admins, (Strings{"admin@example.com", "ops@example.com"}));
  EXPECT_EQ(s.find_host("a.example")->admins, Strings{"root@a.example"});
  EXPECT_EQ(s.find_host("b.example")->admins, (Strings{"admin@example.com", "ops@example.com"}));

  const std::string expects = " admins expects bare JIDs such as \"admin@example.com\", got ";
  EXPECT_EQ(only_message("admins = { \"example.com\" }"), kFile + ":1:" + expects + "\"example.com\" (no user part)");
  EXPECT_EQ(only_message("admins = { \"me@example.com/phone\" }"),
            kFile + ":1:" + expects + "\"me@example.com/phone\" (a resource)");
  EXPECT_EQ(only_message("admins = { \"me@\" }"), kFile + ":1:" + expects + "\"me@\" (not a valid JID)");
  EXPECT_EQ(only_message("admins = { \"a b@example.com\" }"),
            kFile + ":1:" + expects + "\"a b@example.com\" (not a valid JID)");
  // In a list written over several lines, the line of the entry at fault.
  EXPECT_EQ(only_message("VirtualHost \"a.example\"\nadmins = {\n  \"ok@a.example\";\n  \"bad@\";\n}\n"),
            kFile + ":4:" + expects + "\"bad@\" (not a valid JID)");
}

TEST(Settings, ContactInfo) {
  Loaded l = load_text(
      "contact_info = {\n"
      "  abuse = { \"mailto:abuse@example.com\", \"xmpp:abuse@example.com\" };\n"
      "  admin = { \"xmpp:admin@example.com\" };\n"
      "  support = { \"https://example.com/support\" };\n"
      "  security = {};\n"
      "}\n"
      "VirtualHost \"a.example\"\n"
      "  contact_info = { feedback = { \"mailto:feedback@a.example\" }, sales = { \"tel:+1-555-0100\" },\n"
      "                   status = { \"https://status.a.example\" } }\n"
      "VirtualHost \"b.example\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
  using Contacts = std::map<std::string, std::vector<std::string>>;
  const Contacts global = {{"abuse", {"mailto:abuse@example.com", "xmpp:abuse@example.com"}},
                           {"admin", {"xmpp:admin@example.com"}},
                           {"support", {"https://example.com/support"}}};
  EXPECT_EQ(l.settings->global.contact_info, global);
  EXPECT_EQ(l.settings->find_host("b.example")->contact_info, global);
  EXPECT_EQ(l.settings->find_host("a.example")->contact_info,
            (Contacts{{"feedback", {"mailto:feedback@a.example"}},
                      {"sales", {"tel:+1-555-0100"}},
                      {"status", {"https://status.a.example"}}}));
}

TEST(Settings, ContactInfoFallsBackToTheAdmins) {
  using Contacts = std::map<std::string, std::vector<std::string>>;
  Settings s = load_ok(
      "admins = { \"Admin@Example.com\" }\n"
      "VirtualHost \"a.example\"\n"
      "VirtualHost \"b.example\"\n  contact_info = { abuse = { \"mailto:abuse@b.example\" } }\n"
      "VirtualHost \"c.example\"\n  admins = {}\n");
  EXPECT_EQ(s.find_host("a.example")->contact_addresses(), (Contacts{{"admin", {"xmpp:admin@example.com"}}}));
  EXPECT_EQ(s.find_host("b.example")->contact_addresses(), (Contacts{{"abuse", {"mailto:abuse@b.example"}}}));
  EXPECT_EQ(s.find_host("c.example")->contact_addresses(), Contacts{});
}

TEST(Settings, ContactInfoErrors) {
  const std::string p = kFile + ":";
  const std::string scheme =
      " expects addresses with a scheme, such as \"mailto:abuse@example.com\" or \"xmpp:admin@example.com\", got ";
  EXPECT_EQ(only_message("contact_info = { abuse = { \"abuse@example.com\" } }"),
            p + "1: contact_info field 'abuse'" + scheme + "\"abuse@example.com\"");
  EXPECT_EQ(only_message("contact_info = {\n  admin = { \"xmpp:a@example.com\",\n    \"mailto:\" };\n}"),
            p + "3: contact_info field 'admin'" + scheme + "\"mailto:\"");
  EXPECT_EQ(only_message("contact_info = { support = { \"https://example.com/a b\" } }"),
            p + "1: contact_info field 'support'" + scheme + "\"https://example.com/a b\"");
  EXPECT_EQ(only_message("contact_info = { support = { \"1http://example.com\" } }"),
            p + "1: contact_info field 'support'" + scheme + "\"1http://example.com\"");
  EXPECT_EQ(only_message("contact_info = { abuse = \"mailto:abuse@example.com\" }"),
            p + "1: contact_info field 'abuse' expects a list of addresses such as "
                "{ \"mailto:abuse@example.com\" }, got a string");
  EXPECT_EQ(only_message("contact_info = { abuse = { main = \"mailto:abuse@example.com\" } }"),
            p + "1: contact_info field 'abuse' expects a list of addresses such as "
                "{ \"mailto:abuse@example.com\" }, got a table with named entries");
  EXPECT_EQ(only_message("contact_info = { abuse = { 5 } }"),
            p + "1: contact_info field 'abuse' expects addresses in quotes, got an integer");
  EXPECT_EQ(only_message("contact_info = { \"mailto:abuse@example.com\" }"),
            p + "1: contact_info expects fields such as abuse = { \"mailto:abuse@example.com\" }, got a list entry");
  EXPECT_EQ(only_message("contact_info = \"mailto:abuse@example.com\""),
            p + "1: contact_info expects a table, got a string");
}

TEST(Settings, ContactInfoUnknownFieldsAreWarnedAndIgnored) {
  Loaded l = load_text(
      "contact_info = {\n  abuse = { \"mailto:abuse@example.com\" };\n  phone = { \"tel:+1-555-0100\" };\n}\n"
      "VirtualHost \"a.example\"\n  contact_info = { fax = { \"tel:1\" }, web = {}, admin = { \"xmpp:a@a.example\" } }\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages,
            (Strings{kFile + ":3: warning: contact_info field 'phone' is not one of XEP-0157's (abuse, admin, "
                             "feedback, sales, security, status, support) and is ignored",
                     kFile + ":6: warning: contact_info fields 'fax', 'web' are not one of XEP-0157's (abuse, admin, "
                             "feedback, sales, security, status, support) and are ignored"}));
  using Contacts = std::map<std::string, std::vector<std::string>>;
  EXPECT_EQ(l.settings->global.contact_info, (Contacts{{"abuse", {"mailto:abuse@example.com"}}}));
  EXPECT_EQ(l.settings->hosts[0].contact_info, (Contacts{{"admin", {"xmpp:a@a.example"}}}));
}

TEST(Settings, TlsOverlays) {
  Loaded l = load_text(
      "ssl = { certificate = \"certs/main.crt\"; key = \"/keys/main.key\"; protocol = \"tlsv1_3\";"
      " cafile = \"ca.pem\"; capath = \"/etc/ssl/certs\"; ciphers = \"HIGH\" }\n"
      "c2s_ssl = { ciphersuites = \"TLS_AES_256_GCM_SHA384\" }\n"
      "VirtualHost \"a.example\"\n"
      "  ssl = { certificate = \"a.crt\", key = \"a.key\", dhparam = \"x\" }\n"
      "  s2s_ssl = { protocol = \"tlsv1_2+\" }\n"
      "VirtualHost \"b.example\"\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{kFile + ":4: warning: unknown key 'dhparam' in ssl (ignored)"});
  const Settings& s = *l.settings;
  EXPECT_EQ(s.global.ssl.certificate, "/etc/xmppd/certs/main.crt");
  EXPECT_EQ(s.global.ssl.key, "/keys/main.key");
  EXPECT_EQ(s.global.ssl.cafile, "/etc/xmppd/ca.pem");
  EXPECT_EQ(s.global.ssl.capath, "/etc/ssl/certs");
  EXPECT_EQ(s.global.ssl.ciphers, "HIGH");
  EXPECT_EQ(s.global.ssl.ciphersuites, "");
  EXPECT_EQ(s.global.c2s_ssl.ciphersuites, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(s.global.c2s_ssl.certificate, "/etc/xmppd/certs/main.crt");
  EXPECT_EQ(s.global.s2s_ssl, s.global.ssl);

  const HostSettings& a = *s.find_host("a.example");
  EXPECT_EQ(a.ssl.certificate, "/etc/xmppd/a.crt");
  EXPECT_EQ(a.ssl.key, "/etc/xmppd/a.key");
  EXPECT_EQ(a.ssl.protocol, "tlsv1_3");  // from the global ssl
  EXPECT_EQ(a.ssl.cafile, "/etc/xmppd/ca.pem");
  EXPECT_EQ(a.c2s_ssl.certificate, "/etc/xmppd/a.crt");
  EXPECT_EQ(a.c2s_ssl.ciphersuites, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(a.s2s_ssl.protocol, "tlsv1_2+");
  EXPECT_EQ(a.s2s_ssl.key, "/etc/xmppd/a.key");
  EXPECT_EQ(s.find_host("b.example")->ssl, s.global.ssl);
}

TEST(Settings, PathsAreRelativeToTheMainFile) {
  Loaded l =
      load_text("certificates = \"../tls\"\ndata_path = \"data\"\npidfile = \"/run/xmppd.pid\"",
                "/srv/xmppd/etc/xmppd.conf");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->certificates, "/srv/xmppd/tls");
  EXPECT_EQ(l.settings->data_path, "/srv/xmppd/etc/data");
  EXPECT_EQ(l.settings->pidfile, "/run/xmppd.pid");
  EXPECT_EQ(l.settings->empty_path, "/var/empty");
}

TEST(Settings, Interfaces) {
  Settings s = load_ok("interfaces = { \"127.0.0.1\" }");
  EXPECT_EQ(s.c2s_interfaces, Strings{"127.0.0.1"});
  EXPECT_EQ(s.s2s_interfaces, Strings{"127.0.0.1"});
  // The specific option wins wherever it is written.
  s = load_ok("s2s_interfaces = { \"127.0.0.2\" }\ninterfaces = { \"127.0.0.1\" }");
  EXPECT_EQ(s.c2s_interfaces, Strings{"127.0.0.1"});
  EXPECT_EQ(s.s2s_interfaces, Strings{"127.0.0.2"});
}

TEST(Settings, Dns) {
  // The trust anchor must be readable at load; the other files are only read by the worker.
  std::string anchor = ::testing::TempDir() + "xmppd-root.key";
  std::ofstream(anchor) << ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";
  Settings s = load_ok(
      "dns_resolvconf = \"/tmp/ns/resolv.conf\"\ndns_hosts = \"/tmp/ns/hosts\"\n"
      "dns_forwarders = { \"127.0.0.53\" }\ndns_trust_anchor = \"" + anchor + "\"\n"
      "dns_transparent_zones = { \"test\", \"localhost\" }\ndialback_secret = \"s3cret\"");
  std::remove(anchor.c_str());
  EXPECT_EQ(s.dns.resolvconf, "/tmp/ns/resolv.conf");
  EXPECT_EQ(s.dns.hosts, "/tmp/ns/hosts");
  EXPECT_EQ(s.dns.forwarders, Strings{"127.0.0.53"});
  EXPECT_EQ(s.dns.trust_anchor, anchor);
  EXPECT_EQ(s.dns.transparent_zones, (Strings{"test", "localhost"}));
  EXPECT_EQ(s.dialback_secret, "s3cret");
}

TEST(Settings, OneErrorFailsTheWholeLoad) {
  Loaded l = load_text("s2s_timeout = 5\nc2s_ports = 0\nadmins = { \"a@b\" }\n");
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(errors(l).size(), 1u);
}

TEST(Settings, MessagesFromAllStagesAreInFileOrder) {
  Loaded l = load_text("a = 1\nb = c\ns2s_timeout = 0\nd = @\n");
  EXPECT_EQ(
      l.messages,
      (Strings{kFile + ":1: warning: unknown option 'a'",
               kFile + ":2: variables are not supported: write the value itself instead of 'c'",
               kFile + ":3: s2s_timeout must be from 1 to 3600 seconds, got 0",
               kFile + ":4: unexpected character '@'"}));
}

TEST(Settings, CallersDiagnosticsAreKept) {
  std::vector<Diagnostic> diags = {{Diagnostic::Severity::kError, "earlier", 1, "old"}};
  std::optional<Settings> s = load_string("unknown_thing = 1", "x.conf", diags);
  EXPECT_TRUE(s);  // an earlier, unrelated error does not fail this load
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags[0].message, "old");
  EXPECT_EQ(diags[1].severity, Diagnostic::Severity::kWarning);
}

TEST(Diagnostic, Format) {
  Diagnostic e{Diagnostic::Severity::kError, "a.cfg", 3, "bad"};
  Diagnostic w{Diagnostic::Severity::kWarning, "a.cfg", 4, "odd"};
  Diagnostic f{Diagnostic::Severity::kError, "a.cfg", 0, "unreadable"};
  EXPECT_EQ(e.str(), "a.cfg:3: bad");
  EXPECT_EQ(w.str(), "a.cfg:4: warning: odd");
  EXPECT_EQ(f.str(), "a.cfg: unreadable");
  EXPECT_TRUE(has_error({w, e}));
  EXPECT_FALSE(has_error({w}));
}

}  // namespace
}  // namespace xmppd::config
