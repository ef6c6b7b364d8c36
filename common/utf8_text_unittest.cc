// utf8_text.h: what protobuf accepts in a proto3 string (RFC 3629, no more, no less), and
// cuts that never split a character.
#include "common/utf8_text.h"

#include <gtest/gtest.h>

#include <string>

namespace xmppd {
namespace {

TEST(Utf8Text, ValidIsRfc3629) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("jabber.org"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9"));              // é
  EXPECT_TRUE(valid_utf8("\xe2\x82\xac"));          // €
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x98\x80"));      // U+1F600
  EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_FALSE(valid_utf8("\xc3"));                 // cut short
  EXPECT_FALSE(valid_utf8("\xa9"));                 // a lone continuation byte
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));             // overlong '/'
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));         // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));         // a surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xe2\x82" "a"));
}

TEST(Utf8Text, PrefixCutsBetweenCharacters) {
  std::string text = std::string(255, 'a') + "\xc3\xa9";
  EXPECT_EQ(utf8_prefix(text, 256), std::string(255, 'a'));
  EXPECT_EQ(utf8_prefix(text, 257), text);
  EXPECT_EQ(utf8_prefix("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 7), "\xf0\x9f\x98\x80");
  EXPECT_EQ(utf8_prefix("\xe2\x82\xac", 2), "");
  EXPECT_EQ(utf8_prefix("abc", 0), "");
  EXPECT_EQ(utf8_prefix("abc"), "abc");
}

TEST(Utf8Text, PrefixReplacesWhatIsNoCharacter) {
  EXPECT_EQ(utf8_prefix("a\xff" "b"), "a?b");
  EXPECT_EQ(utf8_prefix("\xc3" "a"), "?a");
  EXPECT_EQ(utf8_prefix("\xed\xa0\x80"), "???");
  EXPECT_EQ(utf8_prefix("x\xc3\xa9\xe2\x82"), "x\xc3\xa9??");
  EXPECT_EQ(utf8_prefix("\xff\xff\xff", 2), "??");
}

// Every 1- to 3-byte string: the prefix is always valid and within its limit, and valid
// text comes back unchanged.
TEST(Utf8Text, PrefixIsAlwaysValid) {
  for (unsigned a = 0; a < 256; ++a)
    for (unsigned b = 0x70; b < 0x100; b += 3)
      for (unsigned c : {0x41u, 0x80u, 0x9fu, 0xa0u, 0xbfu, 0xc3u}) {
        std::string s{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
        for (std::size_t limit = 0; limit <= 3; ++limit) {
          std::string out = utf8_prefix(s, limit);
          ASSERT_TRUE(valid_utf8(out));
          ASSERT_LE(out.size(), limit);
        }
        if (valid_utf8(s)) {
          EXPECT_EQ(utf8_prefix(s), s);
        }
      }
}

}  // namespace
}  // namespace xmppd
