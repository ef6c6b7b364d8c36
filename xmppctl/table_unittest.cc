#include "xmppctl/table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace xmppd::ctl {
namespace {

std::string printed(const Table& table) {
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&text, &size);
  table.print(out);
  std::fclose(out);
  std::string result(text, size);
  std::free(text);
  return result;
}

Table sessions() {
  return Table({{"jid", "JID"}, {"idle", "IDLE", true}, {"tls", "TLS"}});
}

TEST(Table, AlignsColumnsAndRightAlignsNumbers) {
  Table table = sessions();
  table.add({"alice@a.test/phone", "5", "TLSv1.3"});
  table.add({"bob@a.test/x", "1200", "TLSv1.2"});
  EXPECT_EQ(printed(table),
            "JID                 IDLE  TLS\n"
            "alice@a.test/phone     5  TLSv1.3\n"
            "bob@a.test/x        1200  TLSv1.2\n");
}

TEST(Table, CountsCodePointsNotBytes) {
  Table table({{"jid", "JID"}, {"n", "N"}});
  table.add({"jürgen@a.test", "1"});
  table.add({"ab", "2"});
  EXPECT_EQ(printed(table), "JID            N\njürgen@a.test  1\nab             2\n");
}

TEST(Table, JsonHasTypedMembers) {
  Table table = sessions();
  table.add({"a\"b\\c", "7", ""});
  EXPECT_EQ(table.json(), "[\n  {\"jid\": \"a\\\"b\\\\c\", \"idle\": 7, \"tls\": \"\"}\n]");
  EXPECT_EQ(sessions().json(), "[]");
}

TEST(Table, BooleanColumnsAreJsonBooleans) {
  Table table({{"ready", "READY", false, true}});
  table.add({"yes"});
  table.add({"no"});
  EXPECT_EQ(printed(table), "READY\nyes\nno\n");
  EXPECT_EQ(table.json(), "[\n  {\"ready\": true},\n  {\"ready\": false}\n]");
}

TEST(Printable, ReplacesControlsAndBadUtf8) {
  EXPECT_EQ(printable("a\nb\x1b[2Jc"), "a?b?[2Jc");
  EXPECT_EQ(printable("\x7f\xc2\x85x"), "??x");         // DEL, C1 NEL
  EXPECT_EQ(printable("\xff\xc3(\xed\xa0\x80"), "?" "?(" "???");  // invalid, truncated, surrogate
  EXPECT_EQ(printable("ok ✓ 𝄞"), "ok ✓ 𝄞");
}

TEST(Duration, TwoUnitsAtMost) {
  EXPECT_EQ(duration(0), "0s");
  EXPECT_EQ(duration(59), "59s");
  EXPECT_EQ(duration(61), "1m 1s");
  EXPECT_EQ(duration(3600), "1h");
  EXPECT_EQ(duration(90061), "1d 1h");
}

}  // namespace
}  // namespace xmppd::ctl
