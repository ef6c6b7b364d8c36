// The server_name extension as a client writes it (RFC 6066 §3), and as a hostile one might.
#include "tls/server_name.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xmppd::tls {
namespace {

// A ServerNameList of (type, name) entries with correct lengths.
std::vector<std::uint8_t> extension(const std::vector<std::pair<std::uint8_t, std::string>>& entries) {
  std::vector<std::uint8_t> list;
  for (const auto& [type, name] : entries) {
    list.push_back(type);
    list.push_back(static_cast<std::uint8_t>(name.size() >> 8));
    list.push_back(static_cast<std::uint8_t>(name.size()));
    list.insert(list.end(), name.begin(), name.end());
  }
  std::uint8_t length[2] = {static_cast<std::uint8_t>(list.size() >> 8), static_cast<std::uint8_t>(list.size())};
  list.insert(list.begin(), length, length + 2);
  return list;
}

TEST(ServerName, TheHostNameLowercased) {
  EXPECT_EQ(server_name_from_extension(extension({{0, "Chat.Example.ORG"}})), "chat.example.org");
  // Entries of other types are skipped; the first host_name counts.
  EXPECT_EQ(server_name_from_extension(extension({{7, "x"}, {0, "a.test"}, {0, "b.test"}})), "a.test");
}

TEST(ServerName, NoHostNameIsNone) {
  EXPECT_EQ(server_name_from_extension(extension({})), std::nullopt);
  EXPECT_EQ(server_name_from_extension(extension({{1, "a.test"}})), std::nullopt);
}

TEST(ServerName, MalformedIsRefused) {
  std::vector<std::uint8_t> good = extension({{0, "a.test"}});
  // Every truncation, and a byte too many.
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(server_name_from_extension(std::span(good).first(n)), std::nullopt) << n;
  good.push_back(0);
  EXPECT_EQ(server_name_from_extension(good), std::nullopt);
  // An entry whose length runs past the list.
  std::vector<std::uint8_t> overrun{0, 5, 0, 0, 9, 'a', 'b'};
  EXPECT_EQ(server_name_from_extension(overrun), std::nullopt);
}

TEST(ServerName, NamesNoHostCouldHaveAreRefused) {
  for (std::string name : {std::string(), std::string("a\0b.test", 8), std::string("a b.test"), std::string("a.test."),
                           std::string("\xc3\xa9.test"), std::string(256, 'a')})
    EXPECT_EQ(server_name_from_extension(extension({{0, name}})), std::nullopt) << name;
  EXPECT_EQ(server_name_from_extension(extension({{0, std::string(255, 'a')}})), std::string(255, 'a'));
}

}  // namespace
}  // namespace xmppd::tls
