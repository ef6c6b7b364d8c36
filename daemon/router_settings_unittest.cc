// What the parent tells the router of each host's modules and of the per-user quotas, from a
// configuration as written.
#include "daemon/router_settings.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "config/options.h"
#include "daemon/settings_test_util.h"

namespace xmppd::parent {
namespace {

using settings_test::load;
using settings_test::Strings;
using settings_test::strings;

TEST(RouterSettings, HostModulesCarryTheEffectiveSetAdminsAndContacts) {
  config::Settings s = load(
      "admins = { \"Boss@Example.com\" }\n"
      "modules_disabled = { \"pep\" }\n"
      "VirtualHost \"a.example\"\n"
      "  modules_enabled = { \"version\", \"posix\" }\n"
      "  contact_info = { abuse = { \"mailto:abuse@a.example\" }, support = { \"xmpp:help@a.example\", "
      "\"https://a.example/help\" } }\n"
      "VirtualHost \"b.example\"\n");
  ipc::RouterSettings::HostModules a = host_modules(*s.find_host("a.example"));
  EXPECT_EQ(a.host(), "a.example");
  std::set<std::string> expected = config::default_modules();
  expected.erase("pep");
  expected.insert("version");
  EXPECT_EQ(std::set<std::string>(a.modules().begin(), a.modules().end()), expected);
  EXPECT_EQ(a.modules_size(), static_cast<int>(expected.size()));
  EXPECT_EQ(strings(a.admins()), Strings{"boss@example.com"});
  ASSERT_EQ(a.contact_info_size(), 2);
  EXPECT_EQ(a.contact_info(0).field(), "abuse");
  EXPECT_EQ(strings(a.contact_info(0).addresses()), Strings{"mailto:abuse@a.example"});
  EXPECT_EQ(a.contact_info(1).field(), "support");
  EXPECT_EQ(strings(a.contact_info(1).addresses()), (Strings{"xmpp:help@a.example", "https://a.example/help"}));

  // Without contact_info the admins are the admin contacts, as in Prosody.
  ipc::RouterSettings::HostModules b = host_modules(*s.find_host("b.example"));
  EXPECT_EQ(b.host(), "b.example");
  ASSERT_EQ(b.contact_info_size(), 1);
  EXPECT_EQ(b.contact_info(0).field(), "admin");
  EXPECT_EQ(strings(b.contact_info(0).addresses()), Strings{"xmpp:boss@example.com"});
}

TEST(RouterSettings, NoAdminsAndNoContactInfoSendNoContacts) {
  config::Settings s = load("VirtualHost \"a.example\"\n");
  ipc::RouterSettings::HostModules a = host_modules(s.hosts[0]);
  EXPECT_EQ(a.admins_size(), 0);
  EXPECT_EQ(a.contact_info_size(), 0);
}

TEST(RouterSettings, UserQuotasCarryEveryLimit) {
  config::Settings s = load(
      "max_user_offline_messages = 1\nmax_user_offline_bytes = 20000\nmax_pending_subscriptions = 3\n"
      "max_roster_items = 4\nmax_directed_presences = 5\nmax_user_sessions = 6\nmax_user_pep_nodes = 7\n"
      "pep_max_items = 8\nmax_user_pep_bytes = 9\nmax_user_private_bytes = 10\nmax_user_vcard_bytes = 11\n"
      "max_blocklist_items = 12\nstorage_archive_item_limit = 13\narchive_expires_after = 14\n"
      "default_archive_policy = \"roster\"\nmax_archive_query_results = 16\narchive_cleanup_interval = 17\n");
  ipc::RouterSettings::UserQuotas q = user_quotas(s.quotas);
  EXPECT_EQ(q.offline_messages(), 1u);
  EXPECT_EQ(q.offline_bytes(), 20000u);
  EXPECT_EQ(q.pending_subscriptions(), 3u);
  EXPECT_EQ(q.roster_items(), 4u);
  EXPECT_EQ(q.directed_presences(), 5u);
  EXPECT_EQ(q.sessions(), 6u);
  EXPECT_EQ(q.pep_nodes(), 7u);
  EXPECT_EQ(q.pep_items(), 8u);
  EXPECT_EQ(q.pep_bytes(), 9u);
  EXPECT_EQ(q.private_bytes(), 10u);
  EXPECT_EQ(q.vcard_bytes(), 11u);
  EXPECT_EQ(q.blocklist_items(), 12u);
  EXPECT_EQ(q.archive_items(), 13u);
  EXPECT_EQ(q.archive_expires_after(), 14u);
  EXPECT_EQ(q.archive_policy(), 2u);
  EXPECT_EQ(q.archive_query_results(), 16u);
  EXPECT_EQ(q.archive_cleanup_interval(), 17u);
  // The defaults are sent too: a router never falls back on numbers of its own.
  ipc::RouterSettings::UserQuotas d = user_quotas(load("").quotas);
  EXPECT_EQ(d.pep_nodes(), 64u);
  EXPECT_EQ(d.pep_items(), 256u);
  EXPECT_EQ(d.pep_bytes(), 8u << 20);
  EXPECT_EQ(d.private_bytes(), 256u << 10);
  EXPECT_EQ(d.vcard_bytes(), 256u << 10);
  EXPECT_EQ(d.blocklist_items(), 1000u);
}

// Stream management (XEP-0198): Prosody's option names, and its defaults when unset.
TEST(RouterSettings, SmacksCarriesEveryLimit) {
  config::Settings s = load(
      "smacks_hibernation_time = 60\nsmacks_max_unacked_stanzas = 2\nsmacks_max_ack_delay = 3\n"
      "smacks_max_hibernated_sessions = 4\nsmacks_max_queue_size = 5\n");
  ipc::RouterSettings::Smacks m = smacks_settings(s.smacks);
  EXPECT_EQ(m.hibernation_time(), 60u);
  EXPECT_EQ(m.max_unacked_stanzas(), 2u);
  EXPECT_EQ(m.max_ack_delay(), 3u);
  EXPECT_EQ(m.max_hibernated_sessions(), 4u);
  EXPECT_EQ(m.max_queue_size(), 5u);
  ipc::RouterSettings::Smacks d = smacks_settings(load("").smacks);
  EXPECT_EQ(d.hibernation_time(), 600u);
  EXPECT_EQ(d.max_unacked_stanzas(), 0u);
  EXPECT_EQ(d.max_ack_delay(), 30u);
  EXPECT_EQ(d.max_hibernated_sessions(), 10u);
  EXPECT_EQ(d.max_queue_size(), 500u);
}

}  // namespace
}  // namespace xmppd::parent

namespace xmppd::parent {
namespace {

bool has_module(const ipc::RouterSettings::HostModules& h, const std::string& name) {
  return std::find(h.modules().begin(), h.modules().end(), name) != h.modules().end();
}

// turn_external (XEP-0215) reaches the router only with a secret: without one the host
// offers nothing, not even the disco feature.
TEST(RouterSettings, TurnExternalNeedsASecret) {
  config::Settings s = load(
      "VirtualHost \"a.example\"\n"
      "  modules_enabled = { \"turn_external\" }\n"
      "  turn_external_secret = \"s3cret\"\n"
      "  turn_external_ttl = 600\n"
      "  turn_external_tcp = true\n"
      "VirtualHost \"b.example\"\n"
      "  modules_enabled = { \"turn_external\" }\n"
      "VirtualHost \"c.example\"\n"
      "  turn_external_secret = \"unused\"\n");
  const config::HostSettings& a = *s.find_host("a.example");
  EXPECT_TRUE(has_module(host_modules(a), "turn_external"));
  std::optional<ipc::RouterSettings::TurnService> turn = turn_service(a);
  ASSERT_TRUE(turn);
  EXPECT_EQ(turn->host(), "a.example");
  EXPECT_EQ(turn->secret(), "s3cret");
  EXPECT_EQ(turn->turn_host(), "a.example");  // the host's name when turn_external_host is not set
  EXPECT_EQ(turn->port(), 3478u);
  EXPECT_EQ(turn->ttl(), 600u);
  EXPECT_TRUE(turn->tcp());
  const config::HostSettings& b = *s.find_host("b.example");
  EXPECT_FALSE(has_module(host_modules(b), "turn_external"));
  EXPECT_FALSE(turn_service(b));
  EXPECT_FALSE(turn_service(*s.find_host("c.example")));  // a secret without the module
}

}  // namespace
}  // namespace xmppd::parent
