// Unit tests of JID preparation (xmpp/jid.h): the ASCII fast path and libidn's stringprep
// profiles, which must agree with what Prosody 0.12 prepares (util/jid.lua).
#include "xmpp/jid.h"

#include <gtest/gtest.h>
#include <stringprep.h>

#include <optional>
#include <string>

namespace xmppd::xmpp {
namespace {

// The full() of a JID that parses, or "<invalid>".
std::string prep(std::string_view text) {
  auto jid = Jid::parse(text);
  return jid ? jid->full() : "<invalid>";
}

TEST(JidTest, AsciiPartsAndCaseFolding) {
  auto jid = Jid::parse("Alice@Example.ORG/Phone Home");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->local(), "alice");
  EXPECT_EQ(jid->domain(), "example.org");
  EXPECT_EQ(jid->resource(), "Phone Home");  // the resource keeps its case
  EXPECT_EQ(jid->bare(), "alice@example.org");
  EXPECT_EQ(prep("example.org"), "example.org");
  EXPECT_EQ(prep("example.org/r"), "example.org/r");
  EXPECT_EQ(prep("[::1]"), "[::1]");
  EXPECT_EQ(prep("_xmpp-server.example.org"), "_xmpp-server.example.org");
}

TEST(JidTest, AtAndSlashPlacement) {
  EXPECT_EQ(prep("a@b/c@d/e"), "a@b/c@d/e");  // the first '/' ends the bare JID
  EXPECT_EQ(prep("a@b@c"), "<invalid>");
  EXPECT_EQ(prep("@example.org"), "<invalid>");
  EXPECT_EQ(prep("a@"), "<invalid>");
  EXPECT_EQ(prep("a@example.org/"), "<invalid>");
  EXPECT_EQ(prep("/r"), "<invalid>");
  EXPECT_EQ(prep(""), "<invalid>");
  EXPECT_EQ(prep("a b@example.org"), "<invalid>");
  for (std::string_view bad : {"\"", "&", "'", ":", "<", ">"})
    EXPECT_EQ(prep(std::string("a") + std::string(bad) + "b@example.org"), "<invalid>") << bad;
}

TEST(JidTest, TrailingDotOnDomainIsRemoved) {
  EXPECT_EQ(prep("a@example.org./r"), "a@example.org/r");
  EXPECT_EQ(prep("a@example.org.."), "<invalid>");
  EXPECT_EQ(prep("."), "<invalid>");
  EXPECT_EQ(prep("a@b..c"), "<invalid>");
}

TEST(JidTest, UnicodeCaseFoldingInLocalpart) {
  EXPECT_EQ(prep("\xc3\x84NNE@localhost"), "\xc3\xa4nne@localhost");       // ÄNNE -> änne
  EXPECT_EQ(prep("\xc3\xa4nne@localhost"), "\xc3\xa4nne@localhost");
  EXPECT_EQ(prep("Stra\xc3\x9f" "e@localhost"), "strasse@localhost");       // ß folds to ss
  EXPECT_EQ(prep("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91@localhost"),     // ΣΟΦΙΑ
            "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1@localhost");
}

TEST(JidTest, ResourceKeepsCaseButIsNormalised) {
  EXPECT_EQ(prep("a@b/\xc3\x84nne"), "a@b/\xc3\x84nne");
  EXPECT_EQ(prep("a@b/A\xcc\x88nne"), "a@b/\xc3\x84nne");  // A + combining diaeresis -> Ä (NFKC)
  EXPECT_EQ(prep("a@b/\xef\xbc\xa1"), "a@b/A");             // fullwidth A -> A, not folded
}

TEST(JidTest, CompatibilityMappingNfkc) {
  EXPECT_EQ(prep("\xef\xbc\xa1\xef\xbd\x82\xef\xbd\x83@localhost"), "abc@localhost");  // fullwidth ＡＢＣ
  EXPECT_EQ(prep("\xef\xac\x81@localhost"), "fi@localhost");                           // ligature ﬁ
  EXPECT_EQ(prep("a\xc2\xad" "b@localhost"), "ab@localhost");  // soft hyphen maps to nothing
  EXPECT_EQ(prep("\xc2\xad@localhost"), "<invalid>");          // ... and nothing is left
  EXPECT_EQ(prep("\xef\xbc\xa0@localhost"), "<invalid>");      // fullwidth @ becomes a forbidden @
}

TEST(JidTest, ControlCharactersAreInvalid) {
  EXPECT_EQ(prep(std::string("a\0b@localhost", 13)), "<invalid>");
  EXPECT_EQ(prep("a\x01" "b@localhost"), "<invalid>");
  EXPECT_EQ(prep("a\x7f" "b@localhost"), "<invalid>");
  EXPECT_EQ(prep("a@localhost/x\ty"), "<invalid>");
  // C1 controls: U+0085 (NEL) and U+009F, in every part.
  EXPECT_EQ(prep("room\xc2\x85@conference.localhost"), "<invalid>");
  EXPECT_EQ(prep("room@conference.localhost/nick\xc2\x85"), "<invalid>");
  EXPECT_EQ(prep("room@conf\xc2\x9f" "erence.localhost"), "<invalid>");
  EXPECT_EQ(prep("room@localhost/nick\xc2\xa0x"), "room@localhost/nick x");  // NBSP is no control: NFKC gives a space
  EXPECT_FALSE(valid_text("a kick\xc2\x85reason"));
  EXPECT_TRUE(valid_text("a kick reason, \xc3\xa4"));
}

TEST(JidTest, ProhibitedCharactersAreInvalid) {
  EXPECT_EQ(prep("a\xee\x80\x80@localhost"), "<invalid>");                // U+E000 private use
  EXPECT_EQ(prep("a@localhost/\xee\x80\x80"), "<invalid>");
  EXPECT_EQ(prep("a\xe2\x80\x8e" "b@localhost"), "<invalid>");            // U+200E LRM
  EXPECT_EQ(prep("a@localhost/\xef\xbf\xbe"), "<invalid>");               // U+FFFE non-character
  EXPECT_EQ(prep("a\xe3\x80\x80" "b@localhost"), "<invalid>");            // U+3000 ideographic space
  EXPECT_EQ(prep("\xff@localhost"), "<invalid>");                         // not UTF-8
  EXPECT_EQ(prep("\xed\xa0\x80@localhost"), "<invalid>");                 // a surrogate
}

TEST(JidTest, BidiRules) {
  // RandALCat (Hebrew) with LCat (Latin) in one string, and RandALCat not at both ends.
  EXPECT_EQ(prep("\xd7\x90" "a\xd7\x91@localhost"), "<invalid>");
  EXPECT_EQ(prep("\xd7\x90" "1@localhost"), "<invalid>");
  EXPECT_EQ(prep("\xd7\x90" "1\xd7\x91@localhost"), "\xd7\x90" "1\xd7\x91@localhost");
  EXPECT_EQ(prep("a@localhost/\xd7\x90" "a"), "<invalid>");
}

TEST(JidTest, InternationalisedDomains) {
  // A Unicode domain is Nameprep'd and kept in Unicode, as Prosody keeps it.
  EXPECT_EQ(prep("a@M\xc3\x9c" "NCHEN.example"), "a@m\xc3\xbc" "nchen.example");
  EXPECT_EQ(prep("a@\xef\xbd\x85xample.org"), "a@example.org");  // fullwidth e
  EXPECT_EQ(prep("a@b\xef\xbc\x8e" "example"), "a@b.example");   // fullwidth full stop is a dot
  // The xn-- form is ASCII and kept as given (lowercased): another name, as in Prosody.
  EXPECT_EQ(prep("a@XN--MNCHEN-3YA.example"), "a@xn--mnchen-3ya.example");
  EXPECT_EQ(prep("a@m\xc3\xbc" "nchen.example."), "a@m\xc3\xbc" "nchen.example");
  EXPECT_EQ(prep("a@b\xe3\x80\x82" "example"), "<invalid>");  // ideographic full stop
  EXPECT_EQ(prep("a@\xc3\xbc..example"), "<invalid>");
  EXPECT_EQ(prep("a@\xc3\xbc" "\xef\xbc\xa0" "b"), "<invalid>");  // fullwidth @ in a domain
  EXPECT_EQ(prep("a@\xc3\xbc" "\xef\xbc\x8f" "b"), "<invalid>");  // fullwidth / in a domain
  // A label of 63 octets in its ACE form is the most; 60 'a's and an ü is more.
  EXPECT_EQ(prep("a@" + std::string(62, 'a') + ".example"), "a@" + std::string(62, 'a') + ".example");
  EXPECT_EQ(prep("a@" + std::string(60, 'a') + "\xc3\xbc.example"), "<invalid>");
  EXPECT_EQ(prep("a@" + std::string(64, 'a') + ".example"), "<invalid>");
}

TEST(JidTest, Lengths) {
  std::string local(1023, 'a');
  EXPECT_EQ(prep(local + "@localhost"), local + "@localhost");
  EXPECT_EQ(prep(local + "a@localhost"), "<invalid>");
  EXPECT_EQ(prep("a@localhost/" + std::string(1024, 'r')), "<invalid>");
  // U+3300 (3 bytes) becomes four katakana (12 bytes) under NFKC: 100 of them (300 bytes)
  // are 1200 bytes once prepared, too long; 85 (1020 bytes) fit. U+FDFA (3 bytes) becomes
  // 33 bytes: 40 are too long for a resource, 30 (990 bytes) fit.
  std::string square, arabic;
  for (int i = 0; i < 100; ++i) square += "\xe3\x8c\x80";
  for (int i = 0; i < 40; ++i) arabic += "\xef\xb7\xba";
  EXPECT_EQ(prep(square + "@localhost"), "<invalid>");
  EXPECT_EQ(prep("a@localhost/" + arabic), "<invalid>");
  auto fits = Jid::parse(square.substr(0, 255) + "@localhost/" + arabic.substr(0, 90));
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->local().size(), 1020u);
  EXPECT_EQ(fits->resource().size(), 990u);
}

// What libidn itself makes of a string under a profile (the reference for the ASCII path).
std::optional<std::string> libidn(const std::string& in, const Stringprep_profile* profile) {
  std::string buffer = in;
  buffer.resize(1024, '\0');
  if (stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile) != STRINGPREP_OK)
    return std::nullopt;
  return std::string(buffer.c_str());
}

// The hand-written ASCII path gives what libidn gives, for every ASCII character.
TEST(JidTest, AsciiFastPathAgreesWithLibidn) {
  for (int c = 1; c < 0x80; ++c) {
    std::string text = std::string("xY") + static_cast<char>(c) + "Z";
    EXPECT_EQ(prepare_localpart(text), libidn(text, stringprep_xmpp_nodeprep)) << c;
    EXPECT_EQ(prepare_resourcepart(text), libidn(text, stringprep_xmpp_resourceprep)) << c;
    // The domain's ASCII path is stricter (DNS letters, digits, '-', '_'): where it accepts,
    // Nameprep agrees.
    if (auto domain = prepare_domainpart(text)) {
      EXPECT_EQ(domain, libidn(text, stringprep_nameprep)) << c;
    }
  }
}

TEST(JidTest, PreparingIsIdempotent) {
  for (std::string_view text : {"\xc3\x84NNE@M\xc3\x9c" "NCHEN.example/\xef\xbc\xa1", "Stra\xc3\x9f" "e@localhost./x"}) {
    auto once = Jid::parse(text);
    ASSERT_TRUE(once) << text;
    auto twice = Jid::parse(once->full());
    ASSERT_TRUE(twice);
    EXPECT_EQ(twice->full(), once->full());
  }
}

}  // namespace
}  // namespace xmppd::xmpp
