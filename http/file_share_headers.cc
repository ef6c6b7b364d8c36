// Header values of the file sharing handler (file_share_headers.h).
#include "http/file_share_headers.h"

#include <cctype>
#include <charconv>

#include "common/upload_slot.h"

namespace xmppd::http {
namespace {

// Digits only (no sign, no space), within 64 bits.
std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

RangeAnswer parse_range(const char* header, std::uint64_t size, ByteRange& range) {
  if (header == nullptr) return RangeAnswer::kWhole;
  std::string_view value = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (value.size() < kUnit.size()) return RangeAnswer::kWhole;
  for (std::size_t i = 0; i < kUnit.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != kUnit[i]) return RangeAnswer::kWhole;
  value = trim(value.substr(kUnit.size()));
  if (value.find(',') != std::string_view::npos) return RangeAnswer::kWhole;  // one range only
  const std::size_t dash = value.find('-');
  if (dash == std::string_view::npos) return RangeAnswer::kWhole;
  const std::string_view a = trim(value.substr(0, dash)), b = trim(value.substr(dash + 1));
  if (a.empty()) {  // a suffix: the last N bytes
    auto n = number(b);
    if (!n) return RangeAnswer::kWhole;
    if (*n == 0 || size == 0) return RangeAnswer::kUnsatisfiable;
    range.first = *n >= size ? 0 : size - *n;
    range.last = size - 1;
    return RangeAnswer::kPartial;
  }
  auto first = number(a);
  auto last = b.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : number(b);
  if (!first || !last || *last < *first) return RangeAnswer::kWhole;
  if (*first >= size) return RangeAnswer::kUnsatisfiable;
  range.first = *first;
  range.last = std::min(*last, size - 1);
  return RangeAnswer::kPartial;
}

std::string content_disposition(std::string_view filename, bool inline_) {
  return std::string(inline_ ? "inline" : "attachment") + "; filename*=UTF-8''" + percent_encode_segment(filename);
}

std::optional<std::string_view> bearer_token(const char* header) {
  if (header == nullptr) return std::nullopt;
  std::string_view value = trim(header);
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  value = trim(value.substr(kScheme.size()));
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace xmppd::http
