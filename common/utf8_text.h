// Text a child puts in a proto3 `string` field for the parent (xmppctl's reports): protobuf
// refuses to parse a message whose strings are not valid UTF-8, and the parent treats an
// undecodable record as a control-protocol violation and kills the child. Whatever a peer
// or a file supplied goes through here first.
//
// Trusts nothing: `text` may be any bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xmppd {

// Whether `text` is UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing
// above U+10FFFF): exactly what protobuf accepts in a `string` field.
bool valid_utf8(std::string_view text);

// `text` as valid UTF-8 of at most `max_bytes` bytes: each byte that starts no valid
// character becomes '?', and the cut falls between characters, never inside one.
std::string utf8_prefix(std::string_view text, std::size_t max_bytes = std::string_view::npos);

}  // namespace xmppd
