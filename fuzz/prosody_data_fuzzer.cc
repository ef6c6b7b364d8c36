// The reader of Prosody's data files (xmppctl/prosody_data.h) on any bytes, as a .dat and as
// a .list file, with small limits so that the bounds are reached: it never crashes, and an
// error always says "FILE:LINE: message" with a line that exists in the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "xmppctl/prosody_data.h"

namespace {

void check_error(const std::string& error, std::string_view text) {
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  const std::string prefix = "f:";
  if (error.compare(0, prefix.size(), prefix) != 0) std::abort();
  const unsigned long line = std::strtoul(error.c_str() + prefix.size(), nullptr, 10);
  if (line == 0 || line > lines) {
    std::fprintf(stderr, "error names line %lu of %zu: %s\n", line, lines, error.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  xmppd::prosody::Limits limits;
  limits.max_depth = 20;
  limits.max_values = 2000;
  limits.max_string_bytes = 1000;
  std::string error;
  if (!xmppd::prosody::parse_dat("f", text, error, limits)) check_error(error, text);
  error.clear();
  if (!xmppd::prosody::parse_list("f", text, error, limits)) check_error(error, text);
  xmppd::prosody::decode_path_part(text);
  return 0;
}
