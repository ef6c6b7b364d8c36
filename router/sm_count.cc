#include "router/sm_count.h"

#include <charconv>

namespace xmppd::router {

std::optional<std::uint32_t> parse_sm_count(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::uint32_t h = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return h;
}

std::optional<std::uint32_t> newly_acknowledged(std::uint32_t acked, std::uint32_t h, std::size_t queued) {
  // Unsigned subtraction is the distance modulo 2^32.
  const std::uint32_t newly = h - acked;
  if (newly > queued) return std::nullopt;
  return newly;
}

}  // namespace xmppd::router
