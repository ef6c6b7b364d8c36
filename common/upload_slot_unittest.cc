// Upload slots (common/upload_slot.h): a signed slot verifies to itself, any change to the
// token or key is refused, and the name, type and percent-encoding checks hold at their edges.
#include "common/upload_slot.h"

#include <gtest/gtest.h>

namespace xmppd {
namespace {

UploadSlot example() {
  return UploadSlot{new_upload_slot_id(), "upload.example.org", "juliet@example.org", "photo 1.png", 12345,
                    "image/png", 1700000300};
}

TEST(UploadSlot, SignedSlotVerifies) {
  const UploadSlot slot = example();
  const std::string token = sign_upload_slot(slot, "key");
  VerifiedSlot v = verify_upload_slot(token, "key");
  ASSERT_TRUE(v.slot) << slot_refusal_text(v.refusal);
  EXPECT_EQ(*v.slot, slot);
  EXPECT_EQ(token.substr(0, 3), "v1.");
  EXPECT_EQ(token.find_first_of(" +/=\r\n"), std::string::npos) << "fits in a header as it is";
}

TEST(UploadSlot, OtherKeyOrChangedTokenIsRefused) {
  const std::string token = sign_upload_slot(example(), "key");
  EXPECT_EQ(verify_upload_slot(token, "other").refusal, SlotRefusal::kBadSignature);
  EXPECT_EQ(verify_upload_slot(token, "").refusal, SlotRefusal::kBadSignature);
  for (std::size_t i = 3; i < token.size(); ++i) {
    std::string changed = token;
    if (changed[i] == '.') continue;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_upload_slot(changed, "key").slot) << i;
  }
  EXPECT_EQ(verify_upload_slot("", "key").refusal, SlotRefusal::kMalformed);
  EXPECT_EQ(verify_upload_slot("v1.", "key").refusal, SlotRefusal::kMalformed);
  EXPECT_EQ(verify_upload_slot("v2." + token.substr(3), "key").refusal, SlotRefusal::kMalformed);
  EXPECT_EQ(verify_upload_slot(token + "=", "key").refusal, SlotRefusal::kMalformed);
  EXPECT_EQ(verify_upload_slot(std::string(5000, 'A'), "key").refusal, SlotRefusal::kMalformed);
}

TEST(UploadSlot, SignedButBadFieldsAreRefused) {
  UploadSlot slot = example();
  slot.filename = "../etc/passwd";
  EXPECT_EQ(verify_upload_slot(sign_upload_slot(slot, "k"), "k").refusal, SlotRefusal::kBadFields);
  slot = example();
  slot.size = 0;
  EXPECT_EQ(verify_upload_slot(sign_upload_slot(slot, "k"), "k").refusal, SlotRefusal::kBadFields);
  slot = example();
  slot.id = "short";
  EXPECT_EQ(verify_upload_slot(sign_upload_slot(slot, "k"), "k").refusal, SlotRefusal::kBadFields);
}

TEST(UploadSlot, IdsAreFreshAndWellFormed) {
  const std::string a = new_upload_slot_id(), b = new_upload_slot_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 22u);
  EXPECT_TRUE(valid_upload_slot_id(a));
  EXPECT_FALSE(valid_upload_slot_id(a.substr(1)));
  EXPECT_FALSE(valid_upload_slot_id("AAAAAAAAAAAAAAAAAAAAA/"));
  EXPECT_FALSE(valid_upload_slot_id("AAAAAAAAAAAAAAAAAAAAAB")) << "the unused bits must be zero";
}

TEST(UploadSlot, FilenameChecks) {
  EXPECT_TRUE(valid_upload_filename("a.png"));
  EXPECT_TRUE(valid_upload_filename("été 2024 (1).jpg"));
  EXPECT_TRUE(valid_upload_filename(std::string(255, 'a')));
  EXPECT_TRUE(valid_upload_filename("..."));
  for (std::string_view bad : {"", ".", "..", "a/b", "a\\b", "a\nb", "a\x7f", "\xff.png", "a\xc2\x85"})
    EXPECT_FALSE(valid_upload_filename(bad)) << bad;
  EXPECT_FALSE(valid_upload_filename(std::string("a\0b", 3)));
  EXPECT_FALSE(valid_upload_filename(std::string(256, 'a')));
}

TEST(UploadSlot, ContentTypes) {
  EXPECT_TRUE(valid_content_type("image/png"));
  EXPECT_TRUE(valid_content_type("application/vnd.oasis.opendocument.text"));
  for (std::string_view bad : {"", "image", "/png", "image/", "text/plain; charset=utf-8", "a/b\r\nX: y", "image/png/x"})
    EXPECT_FALSE(valid_content_type(bad)) << bad;
  EXPECT_TRUE(content_type_allowed("x/y", {}));
  EXPECT_TRUE(content_type_allowed("image/png", {"image/*"}));
  EXPECT_TRUE(content_type_allowed("Image/PNG", {"image/png"}));
  EXPECT_FALSE(content_type_allowed("imagex/png", {"image/*"}));
  EXPECT_FALSE(content_type_allowed("text/html", {"image/*", "text/plain"}));
}

TEST(UploadSlot, PercentEncoding) {
  EXPECT_EQ(percent_encode_segment("a b/ü%.~"), "a%20b%2F%C3%BC%25.~");
  EXPECT_EQ(percent_decode("a%20b%2F%C3%BC%25.~"), "a b/ü%.~");
  EXPECT_FALSE(percent_decode("a%2"));
  EXPECT_FALSE(percent_decode("a%"));
  EXPECT_FALSE(percent_decode("%zz"));
}

}  // namespace
}  // namespace xmppd
