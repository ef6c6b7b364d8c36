// UTF-8 checks and cuts for reports (utf8_text.h). Trusts nothing it is given.
#include "common/utf8_text.h"

#include <algorithm>

namespace xmppd {
namespace {

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the valid character at the start of `s`, or 0 when none starts there
// (RFC 3629 §4's table, byte for byte).
std::size_t character_length(std::string_view s) {
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;   // no overlong form
    if (c == 0xED) high = 0x9F;  // no surrogate
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;   // no overlong form
    if (c == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || at(1) < low || at(1) > high) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (!continuation(at(i))) return 0;
  return n;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = character_length(text.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = character_length(text.substr(i));
    std::string_view character = n == 0 ? std::string_view("?") : text.substr(i, n);
    if (out.size() + character.size() > max_bytes) break;
    out += character;
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace xmppd
