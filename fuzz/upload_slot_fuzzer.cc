// Upload slot tokens and paths (common/upload_slot.h) on any bytes, as the HTTP process gets
// them in an Authorization header and a URL: verify never accepts a token it did not sign
// unless the input is one, a verified slot re-signs to the same token, and the name and
// percent-encoding checks agree with each other.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/upload_slot.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "invariant broken: %s\n[%.*s]\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

constexpr std::string_view kKey = "fuzz key";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  xmppd::VerifiedSlot v = xmppd::verify_upload_slot(text, kKey);
  if (v.slot.has_value() != (v.refusal == xmppd::SlotRefusal::kNone)) fail("slot and refusal disagree", text);
  if (v.slot) {
    if (xmppd::sign_upload_slot(*v.slot, kKey) != text) fail("a second spelling of a signed token", text);
    if (!xmppd::valid_upload_filename(v.slot->filename)) fail("a verified slot with a bad name", text);
  }
  // A path segment: decoded, checked, encoded again, decoded to the same name.
  if (auto name = xmppd::percent_decode(text); name && xmppd::valid_upload_filename(*name)) {
    if (xmppd::percent_decode(xmppd::percent_encode_segment(*name)) != *name) fail("encoding does not round-trip", text);
    if (name->find('/') != std::string::npos || *name == "..") fail("a traversing name passed", text);
  }
  if (xmppd::valid_content_type(text) && text.find_first_of("\r\n;, ") != std::string_view::npos)
    fail("a content type that could split a header", text);
  // A token signed over these bytes as the file name verifies only if the name is valid.
  xmppd::UploadSlot slot{xmppd::new_upload_slot_id(), "upload.example", "a@example", std::string(text), 1,
                         "image/png", 1};
  const bool good = xmppd::verify_upload_slot(xmppd::sign_upload_slot(slot, kKey), kKey).slot.has_value();
  if (good != xmppd::valid_upload_filename(text)) fail("signing and name checks disagree", text);
  return 0;
}
