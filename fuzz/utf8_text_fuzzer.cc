// What the children put in proto3 strings for the parent (common/utf8_text.h), on any bytes:
// valid_utf8 agrees with protobuf's own parser, and utf8_prefix always gives text protobuf
// parses, within its limit, a prefix of the input wherever the input was valid.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/utf8_text.h"
#include "reports.pb.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "invariant broken: %s\n[%.*s]\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

// Whether the parent could read a report holding `text`.
bool protobuf_parses(const std::string& text) {
  xmppd::ipc::S2sStream stream;
  stream.set_certificate_error(text);
  xmppd::ipc::S2sStream parsed;
  return parsed.ParseFromString(stream.SerializeAsString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the limit, the rest is the text.
  const std::size_t limit = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool valid = xmppd::valid_utf8(text);
  if (valid != protobuf_parses(text)) fail("valid_utf8 and protobuf disagree", text);
  const std::string cut = xmppd::utf8_prefix(text, limit);
  if (cut.size() > limit) fail("over the limit", text);
  if (!xmppd::valid_utf8(cut) || !protobuf_parses(cut)) fail("the cut is not UTF-8", text);
  if (valid && text.compare(0, cut.size(), cut) != 0) fail("valid text changed", text);
  if (valid && xmppd::utf8_prefix(text) != text) fail("valid text changed", text);
  return 0;
}
