// One complete element given as a string rather than read from a stream: a stanza that
// another process already took off the network and passes on serialized
// (proto/router_s2s.proto). It is parsed by the stream parser, so the same RFC 6120 §11
// restrictions and limits apply as on the wire.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "xml/element.h"

namespace xmppd::xml {

// `text` must be exactly one element and nothing else, not even whitespace around it, of at
// most `max_bytes`, within the stream parser's default depth and attribute limits. Names
// without a prefix are in `default_ns` (the namespace the sender left implicit). nullopt
// otherwise; `error`, when given, then says why.
std::optional<Element> parse_fragment(std::string_view text, std::string_view default_ns, std::size_t max_bytes,
                                      std::string* error = nullptr);

}  // namespace xmppd::xml
