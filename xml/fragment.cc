#include "xml/fragment.h"

#include <algorithm>
#include <utility>

#include "xml/stream_parser.h"

namespace xmppd::xml {
namespace {

// The element becomes the only stanza of a stream whose header declares the default
// namespace. The header's own prefix is one no XMPP sender uses.
constexpr std::string_view kWrapper = "xmppd-fragment";

struct OneElement final : StreamParser::Handler {
  std::optional<Element> first;
  std::size_t bytes = 0;
  int count = 0;
  bool closed = false;

  void stream_opened(const Element&) override {}
  void element(Element element, std::size_t size) override {
    if (++count > 1) return;
    first = std::move(element);
    bytes = size;
  }
  void stream_closed() override { closed = true; }
};

std::optional<Element> fail(std::string* error, std::string why) {
  if (error != nullptr) *error = std::move(why);
  return std::nullopt;
}

}  // namespace

std::optional<Element> parse_fragment(std::string_view text, std::string_view default_ns, std::size_t max_bytes,
                                      std::string* error) {
  std::string header = "<" + std::string(kWrapper) + ":stream xmlns:" + std::string(kWrapper) + "='" +
                       std::string(kStreamNs) + "' xmlns='";
  escape(header, default_ns, true);
  header += "'>";
  std::string footer = "</" + std::string(kWrapper) + ":stream>";
  OneElement got;
  // The limit is for the element: the header is let through whatever its length.
  StreamParser parser(got, ParserLimits{std::max(max_bytes, header.size())});
  if (!parser.feed(header)) return fail(error, "bad default namespace: " + parser.error_text());
  parser.set_limits(ParserLimits{max_bytes});
  bool ok = parser.feed(text) && !got.closed;  // text that closes the wrapper ends the stream early
  // The footer is not the element's either.
  parser.set_limits(ParserLimits{std::max(max_bytes, footer.size())});
  if (!ok || !parser.feed(footer)) {
    if (parser.error() != ParseError::kNone) return fail(error, parser.error_text());
    return fail(error, "not a single element");
  }
  if (got.count != 1 || !got.closed)
    return fail(error, got.count > 1 ? "more than one element" : "no complete element");
  // The element's size on the wire is the whole text only if nothing surrounds it.
  if (got.bytes != text.size()) return fail(error, "text outside the element");
  return std::move(got.first);
}

}  // namespace xmppd::xml
