// RFC 4648 §4 base64, as SASL (RFC 6120 §6.4.2) and SCRAM use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xmppd {

std::string base64_encode(std::string_view bytes);
// Strict: length a multiple of 4, only the alphabet and final padding, no whitespace, and
// the bits padding discards must be zero, so each byte string has one accepted encoding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace xmppd
