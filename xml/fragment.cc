#include "xml/fragment.h"

#include <algorithm>
#include <utility>

#include "xml/stream_parser.h"

namespace xmppd::xml {
namespace {

// The elements become the stanzas of a stream whose header declares the default
// namespace. The header's own prefix is one no XMPP sender uses.
constexpr std::string_view kWrapper = "xmppd-fragment";

std::optional<Element> fail(std::string* error, std::string why) {
  if (error != nullptr) *error = std::move(why);
  return std::nullopt;
}

}  // namespace

struct FragmentParser::Stream final : StreamParser::Handler {
  explicit Stream(std::size_t header_bytes) : parser(*this, ParserLimits{header_bytes}) {}

  void stream_opened(const Element&) override {}
  void element(Element element, std::size_t size) override {
    if (++count > 1) return;
    first = std::move(element);
    bytes = size;
  }
  void stream_closed() override { closed = true; }

  StreamParser parser;
  // What the element being parsed gave.
  std::optional<Element> first;
  std::size_t bytes = 0;
  int count = 0;
  bool closed = false;
};

FragmentParser::FragmentParser(std::string_view default_ns, Content content)
    : default_ns_(default_ns), content_(content) {}

FragmentParser::~FragmentParser() = default;

std::optional<Element> FragmentParser::parse(std::string_view text, std::size_t max_bytes, std::string* error,
                                             ParseError* kind) {
  if (kind != nullptr) *kind = ParseError::kNone;
  if (!stream_) {
    std::string header = "<" + std::string(kWrapper) + ":stream xmlns:" + std::string(kWrapper) + "='" +
                         std::string(kStreamNs) + "' xmlns='";
    escape(header, default_ns_, true);
    header += "'>";
    // The limit is for the elements: the header is let through whatever its length.
    stream_ = std::make_unique<Stream>(header.size());
    stream_->parser.set_top_only(content_ == Content::kTopOnly);
    if (!stream_->parser.feed(header)) {
      std::string why = "bad default namespace: " + stream_->parser.error_text();
      if (kind != nullptr) *kind = ParseError::kNotWellFormed;
      stream_.reset();
      return fail(error, std::move(why));
    }
  }
  Stream& s = *stream_;
  s.first.reset();
  s.count = 0;
  s.parser.set_limits(ParserLimits{max_bytes});
  bool fed = s.parser.feed(text);
  std::string why;
  if (!fed) {
    why = s.parser.error_text();
    if (kind != nullptr) *kind = s.parser.error();
  }
  else if (s.closed)  // text that closes the wrapper
    why = "not a single element";
  else if (s.count != 1)
    why = s.count > 1 ? "more than one element" : "no complete element";
  else if (s.bytes != text.size())  // the element's size on the wire is the whole text only if nothing surrounds it
    why = "text outside the element";
  if (why.empty()) return std::move(s.first);
  if (kind != nullptr && *kind == ParseError::kNone) *kind = ParseError::kNotWellFormed;
  stream_.reset();
  return fail(error, std::move(why));
}

std::optional<Element> parse_fragment(std::string_view text, std::string_view default_ns, std::size_t max_bytes,
                                      std::string* error) {
  return FragmentParser(default_ns).parse(text, max_bytes, error);
}

}  // namespace xmppd::xml
