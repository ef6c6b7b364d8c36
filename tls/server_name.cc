#include "tls/server_name.h"

namespace xmppd::tls {
namespace {

constexpr std::uint8_t kHostName = 0;
constexpr std::size_t kMaxName = 255;

// Reads a 16-bit big-endian length and advances; false when the bytes run out.
bool read_u16(std::span<const std::uint8_t>& in, std::size_t& value) {
  if (in.size() < 2) return false;
  value = static_cast<std::size_t>(in[0]) << 8 | in[1];
  in = in.subspan(2);
  return true;
}

bool host_octet(std::uint8_t c) { return c > 0x20 && c < 0x7f; }

}  // namespace

std::optional<std::string> server_name_from_extension(std::span<const std::uint8_t> extension) {
  std::size_t list_length = 0;
  if (!read_u16(extension, list_length) || list_length != extension.size()) return std::nullopt;
  std::optional<std::string> found;
  while (!extension.empty()) {
    std::uint8_t type = extension[0];
    extension = extension.subspan(1);
    std::size_t length = 0;
    if (!read_u16(extension, length) || length > extension.size()) return std::nullopt;
    std::span<const std::uint8_t> name = extension.first(length);
    extension = extension.subspan(length);
    if (type != kHostName || found) continue;
    if (name.empty() || name.size() > kMaxName || name.back() == '.') return std::nullopt;
    std::string host;
    host.reserve(name.size());
    for (std::uint8_t c : name) {
      if (!host_octet(c)) return std::nullopt;
      host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
    }
    found = std::move(host);
  }
  return found;
}

}  // namespace xmppd::tls
