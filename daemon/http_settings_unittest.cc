// What the parent tells the HTTP process, from a configuration as written: every field of
// HttpSettings, the file sharing services with their parent host and URL base, and the slot
// key, the same for every call of one parent.
#include "daemon/http_settings.h"

#include <gtest/gtest.h>

#include "daemon/settings_test_util.h"

namespace xmppd::parent {
namespace {

using settings_test::load;
using settings_test::Strings;
using settings_test::strings;

TEST(HttpSettings, EveryFieldFromTheConfiguration) {
  config::Settings s = load(
      "http_ports = { 8080 }\nhttps_ports = { 8443, 9443 }\nhttp_max_content_size = 1024\n"
      "consider_websocket_secure = true\nmodules_enabled = { \"http_openmetrics\" }\n"
      "openmetrics_allow_ips = { \"192.0.2.1\" }\nopenmetrics_allow_cidr = \"10.0.0.0/8\"\n"
      "max_connections_per_address = 7\nmax_connections = 99\n"
      "VirtualHost \"a.example\"\n  modules_enabled = { \"websocket\" }\n"
      "VirtualHost \"b.example\"\n"
      "Component \"upload.a.example\" \"http_file_share\"\n  http_file_share_size_limit = 2048\n"
      "  http_file_share_allowed_file_types = { \"image/*\" }\n");
  ipc::HttpSettings h = http_settings(s);
  EXPECT_EQ(h.max_content_size(), 1024u);
  EXPECT_TRUE(h.consider_websocket_secure());
  EXPECT_EQ(strings(h.websocket_hosts()), Strings{"a.example"});
  EXPECT_TRUE(h.metrics());
  EXPECT_EQ(strings(h.metrics_allow_ips()), Strings{"192.0.2.1"});
  EXPECT_EQ(h.metrics_allow_cidr(), "10.0.0.0/8");
  EXPECT_EQ(h.limits().max_connections_per_address(), 7u);
  EXPECT_EQ(h.limits().max_connections(), 99u);
  EXPECT_EQ(h.http_port(), 8080u);
  EXPECT_EQ(h.https_port(), 8443u);
  EXPECT_EQ(h.slot_key(), slot_key());
  EXPECT_EQ(h.slot_key().size(), 32u);
  ASSERT_EQ(h.tls_size(), 3);  // both hosts and the component
  EXPECT_EQ(h.tls(2).host(), "upload.a.example");
  ASSERT_EQ(h.file_share_size(), 1);
  const ipc::FileShareService& f = h.file_share(0);
  EXPECT_EQ(f.domain(), "upload.a.example");
  EXPECT_EQ(f.parent_host(), "a.example");
  EXPECT_EQ(f.size_limit(), 2048u);
  EXPECT_EQ(f.daily_quota(), 20480u);  // ten times the size limit when not set
  EXPECT_EQ(strings(f.allowed_file_types()), Strings{"image/*"});
  EXPECT_EQ(f.base_url(), "https://upload.a.example:8443/");
}

TEST(HttpSettings, ExternalUrlIsTheBaseOfEveryService) {
  config::Settings s = load(
      "http_external_url = \"https://files.example.net/xmpp\"\n"
      "VirtualHost \"a.example\"\n"
      "Component \"upload.a.example\" \"http_file_share\"\n");
  ipc::HttpSettings h = http_settings(s);
  EXPECT_EQ(h.external_url(), "https://files.example.net/xmpp");
  ASSERT_EQ(h.file_share_size(), 1);
  EXPECT_EQ(h.file_share(0).base_url(), "https://files.example.net/xmpp/");
}

TEST(HttpSettings, SlotKeyIsMadeOnce) {
  const std::string& first = slot_key();
  EXPECT_EQ(&first, &slot_key());
  EXPECT_NE(first, std::string(32, '\0'));
}

}  // namespace
}  // namespace xmppd::parent
