// Prosody's mod_mam option forms (config/archive_options.h).
#include "config/archive_options.h"

#include <cctype>
#include <limits>
#include <string>

namespace xmppd::config {

std::optional<std::int64_t> parse_archive_expiry(const Value& value) {
  constexpr std::int64_t kDay = 86400;
  // A century: past it a number is a mistake, and seconds times a unit could overflow.
  constexpr std::int64_t kMax = 100 * 366 * kDay;
  if (value.is_integer()) {
    std::int64_t n = value.as_integer();
    return n >= 1 && n <= kMax ? std::optional<std::int64_t>(n) : std::nullopt;
  }
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.as_string();
  if (text == "never") return 0;
  std::size_t i = 0;
  std::int64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && n <= kMax)
    n = n * 10 + (text[i++] - '0');
  if (i == 0 || n == 0 || n > kMax) return std::nullopt;
  std::int64_t unit = 1;
  if (i + 1 == text.size()) {
    switch (text[i]) {
      case 'd': unit = kDay; break;
      case 'w': unit = 7 * kDay; break;
      case 'm': unit = 31 * kDay; break;
      case 'y': unit = 365 * kDay; break;
      default: return std::nullopt;
    }
  } else if (i != text.size()) {
    return std::nullopt;
  }
  return n * unit <= kMax ? std::optional<std::int64_t>(n * unit) : std::nullopt;
}

std::optional<int> parse_archive_policy(const Value& value) {
  if (value.is_bool()) return value.as_bool() ? 1 : 0;
  if (value.is_string() && value.as_string() == "roster") return 2;
  return std::nullopt;
}

}  // namespace xmppd::config
