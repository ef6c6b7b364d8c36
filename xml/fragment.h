// One complete element given as a string rather than read from a stream: a stanza that
// another process already took off the network and passes on serialized
// (proto/router_s2s.proto). It is parsed by the stream parser, so the same RFC 6120 §11
// restrictions and limits apply as on the wire.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "xml/element.h"
#include "xml/stream_parser.h"

namespace xmppd::xml {

// For a process that takes many elements in a row (every stanza crossing a link): one
// parser kept open between them, as if they were the stanzas of one stream, rather than a
// new expat parser, with its allocations and its random hash salt, for each. After an
// element that is refused the parser starts afresh, so that nothing of it lingers.
class FragmentParser {
 public:
  // kTopOnly: the element comes without its children and text, which are still parsed and
  // held to the same rules, for a process that checks stanzas and passes their bytes on.
  enum class Content { kWhole, kTopOnly };

  // Names without a prefix are in `default_ns` (the namespace the sender left implicit).
  explicit FragmentParser(std::string_view default_ns, Content content = Content::kWhole);
  FragmentParser(const FragmentParser&) = delete;
  FragmentParser& operator=(const FragmentParser&) = delete;
  ~FragmentParser();

  // `text` must be exactly one element and nothing else, not even whitespace around it, of
  // at most `max_bytes`, within the stream parser's default depth and attribute limits.
  // nullopt otherwise; `error`, when given, then says why, and `kind` which RFC 6120 §11
  // condition it is (kNotWellFormed for anything but one element).
  std::optional<Element> parse(std::string_view text, std::size_t max_bytes, std::string* error = nullptr,
                               ParseError* kind = nullptr);

 private:
  struct Stream;
  std::string default_ns_;
  Content content_;
  std::unique_ptr<Stream> stream_;  // null until the first element and after a refused one
};

// The same for a single element, with a parser of its own.
std::optional<Element> parse_fragment(std::string_view text, std::string_view default_ns, std::size_t max_bytes,
                                      std::string* error = nullptr);

}  // namespace xmppd::xml
