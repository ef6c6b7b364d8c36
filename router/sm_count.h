// XEP-0198 counts as a client writes them (the h of <a/> and <resume/>), and what one
// acknowledges. Apart from the session mechanics so that a unit test and the module_payloads
// fuzz target link them alone. Trusts nothing: the text is the client's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace xmppd::router {

// An unsigned 32-bit decimal and nothing else (no sign, no space); nullopt otherwise.
std::optional<std::uint32_t> parse_sm_count(std::string_view text);

// How many of the `queued` unacknowledged stanzas `h` acknowledges past the last count
// `acked`, counts wrapping at 2^32 (XEP-0198 §4); nullopt when h is more than was sent.
std::optional<std::uint32_t> newly_acknowledged(std::uint32_t acked, std::uint32_t h, std::size_t queued);

}  // namespace xmppd::router
