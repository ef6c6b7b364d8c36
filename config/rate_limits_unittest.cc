// Prosody's `limits` read with Prosody's syntax (rates in decimal units, bursts in
// seconds), Debian's stock block loading without a word, and the connection limits'
// options with their defaults.
#include "config/rate_limits.h"

#include <gtest/gtest.h>

#include "config/test_util.h"

namespace xmppd::config {
namespace {

using testing::load_text;

TEST(Limits, RatesAreReadAsProsodyReadsThem) {
  EXPECT_EQ(parse_rate("10kb/s"), 10000);
  EXPECT_EQ(parse_rate("30kb/s"), 30000);
  EXPECT_EQ(parse_rate("3000b/s"), 3000);
  EXPECT_EQ(parse_rate("1 MB/s"), 1000000);
  EXPECT_EQ(parse_rate("2k/s"), 2000);
  EXPECT_EQ(parse_rate("1gb/s"), 1e9);
  EXPECT_EQ(parse_rate("10kb"), std::nullopt);
  EXPECT_EQ(parse_rate("10/s"), std::nullopt);
  EXPECT_EQ(parse_rate("kb/s"), std::nullopt);
  EXPECT_EQ(parse_rate("10xb/s"), std::nullopt);
  EXPECT_EQ(parse_rate("1.5kb/s"), std::nullopt);
  EXPECT_EQ(parse_rate("10  kb/s"), std::nullopt);
  EXPECT_EQ(parse_rate("2tb/s"), 2e12);
  EXPECT_EQ(parse_rate("2 T/s"), 2e12);
}

// Prosody's pattern is "^(%d+) ?([^/]+)/s$" and it looks up the unit's first letter alone.
TEST(Limits, OnlyTheUnitsFirstLetterIsReadAsInProsody) {
  EXPECT_EQ(parse_rate("10kbx/s"), 10000);
  EXPECT_EQ(parse_rate("10kbit/s"), 10000);
  EXPECT_EQ(parse_rate("10 Kilobytes/s"), 10000);
  EXPECT_EQ(parse_rate("10 /s"), std::nullopt);
  EXPECT_EQ(parse_rate("10kb/s/s"), std::nullopt);
  EXPECT_EQ(parse_rate("10xkb/s"), std::nullopt);
  for (const char* usual : {"10kb/s", "10 KB/s", "10k/s", "10b/s", "10 Mb/s", "1tb/s"}) {
    auto l = load_text(std::string("limits = { c2s = { rate = \"") + usual + "\" } }");
    ASSERT_TRUE(l.settings) << usual;
    EXPECT_TRUE(l.messages.empty()) << usual;
  }
  auto kbit = load_text(R"(limits = { c2s = { rate = "10kbit/s" } })");
  ASSERT_TRUE(kbit.settings);
  ASSERT_EQ(testing::warnings(kbit).size(), 1u);
  EXPECT_NE(testing::warnings(kbit)[0].find("'kbit', of which only the first letter counts"), std::string::npos)
      << testing::warnings(kbit)[0];
  EXPECT_EQ(kbit.settings->limits_c2s.bytes_per_second, 10000);
}

TEST(Limits, NumbersPastADoubleAreErrorsNotExceptions) {
  const std::string huge(400, '9');
  EXPECT_EQ(parse_rate(huge + "b/s"), std::nullopt);
  EXPECT_EQ(parse_rate(std::string(300, '9') + "tb/s"), std::nullopt);  // finite digits, infinite rate
  EXPECT_EQ(parse_burst(Value{huge + "s"}), std::nullopt);
  EXPECT_FALSE(load_text("limits = { c2s = { rate = \"" + huge + "kb/s\" } }").settings);
}

TEST(Limits, BurstsAreSeconds) {
  EXPECT_EQ(parse_burst(Value{std::string("2s")}), 2);
  EXPECT_EQ(parse_burst(Value{std::string("5 s")}), 5);
  EXPECT_EQ(parse_burst(Value{std::int64_t{3}}), 3);
  EXPECT_EQ(parse_burst(Value{0.5}), 0.5);
  EXPECT_EQ(parse_burst(Value{std::string("2")}), std::nullopt);
  EXPECT_EQ(parse_burst(Value{std::string("2m")}), std::nullopt);
  EXPECT_EQ(parse_burst(Value{std::int64_t{-1}}), std::nullopt);
}

// Debian 12's /etc/prosody/prosody.cfg.lua, as shipped.
TEST(Limits, DebiansStockBlockLoadsWithoutAWord) {
  auto l = load_text(R"(
modules_enabled = { "roster"; "saslauth"; "tls"; "limits"; }
limits = {
	c2s = {
		rate = "10kb/s";
	};
	s2sin = {
		rate = "30kb/s";
	};
}
)");
  ASSERT_TRUE(l.settings);
  EXPECT_TRUE(l.messages.empty()) << l.messages.front();
  EXPECT_EQ(l.settings->limits_c2s, (ByteRate{10000, 2}));
  EXPECT_EQ(l.settings->limits_s2sin, (ByteRate{30000, 2}));
  EXPECT_EQ(l.settings->limits_s2sout, ByteRate{});
}

TEST(Limits, BurstAndS2sout) {
  auto l = load_text(R"(limits = { c2s = { rate = "3kb/s", burst = "5s" }, s2sout = { rate = "1mb/s", burst = 1 } })");
  ASSERT_TRUE(l.settings);
  EXPECT_TRUE(l.messages.empty());
  EXPECT_EQ(l.settings->limits_c2s, (ByteRate{3000, 5}));
  EXPECT_EQ(l.settings->limits_s2sout, (ByteRate{1e6, 1}));
}

TEST(Limits, MalformedValuesAreErrors) {
  auto bad_rate = load_text(R"(limits = { c2s = { rate = "fast" } })");
  EXPECT_FALSE(bad_rate.settings);
  ASSERT_EQ(testing::errors(bad_rate).size(), 1u);
  EXPECT_NE(testing::errors(bad_rate)[0].find("rate for c2s"), std::string::npos) << testing::errors(bad_rate)[0];
  // The text names every unit that is read, t included.
  EXPECT_NE(testing::errors(bad_rate)[0].find("first letter is b, k, m, g or t"), std::string::npos)
      << testing::errors(bad_rate)[0];
  EXPECT_FALSE(load_text(R"(limits = { c2s = { rate = "1kb/s", burst = "soon" } })").settings);
  EXPECT_FALSE(load_text(R"(limits = { c2s = { speed = "1kb/s" } })").settings);
  EXPECT_FALSE(load_text(R"(limits = "10kb/s")").settings);
  EXPECT_FALSE(load_text(R"(limits = { c2s = "10kb/s" })").settings);
}

TEST(Limits, UnknownTypesAndMissingRatesAreWarnings) {
  auto other = load_text(R"(limits = { component = { rate = "1kb/s" } })");
  ASSERT_TRUE(other.settings);
  ASSERT_EQ(testing::warnings(other).size(), 1u);
  EXPECT_EQ(other.settings->limits_c2s, ByteRate{});
  auto no_rate = load_text(R"(limits = { c2s = { burst = "3s" } })");
  ASSERT_TRUE(no_rate.settings);
  ASSERT_EQ(testing::warnings(no_rate).size(), 1u);
  EXPECT_EQ(no_rate.settings->limits_c2s, (ByteRate{3000, 3}));
}

TEST(Limits, UnlimitedJidsAreLowercased) {
  auto l = load_text(R"(unlimited_jids = { "Focus@Auth.Example.com", "jvb@auth.example.com" })");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->unlimited_jids, (std::vector<std::string>{"focus@auth.example.com", "jvb@auth.example.com"}));
}

TEST(ConnectionLimits, DefaultsAndBounds) {
  auto l = load_text("");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->max_connections_per_address, 256u);
  EXPECT_EQ(l.settings->max_unauthenticated_per_address, 32u);
  EXPECT_EQ(l.settings->max_connections, 0u);
  EXPECT_EQ(l.settings->c2s_timeout, 60);
  auto set = load_text("max_connections_per_address = 0\nmax_unauthenticated_per_address = 2\nmax_connections = 500\n"
                       "c2s_timeout = 30\n");
  ASSERT_TRUE(set.settings);
  EXPECT_EQ(set.settings->max_connections_per_address, 0u);
  EXPECT_EQ(set.settings->max_unauthenticated_per_address, 2u);
  EXPECT_EQ(set.settings->max_connections, 500u);
  EXPECT_EQ(set.settings->c2s_timeout, 30);
  EXPECT_FALSE(load_text("max_connections_per_address = -1").settings);
  EXPECT_FALSE(load_text("c2s_timeout = 0").settings);
  EXPECT_FALSE(load_text("VirtualHost \"a.test\"\nmax_connections = 5").settings);
}

}  // namespace
}  // namespace xmppd::config
