// One stream fed to xml::StreamParser in pieces that the fuzzer chooses, shared by the
// client and the server stream targets. The header is fixed; the fuzzer writes what follows.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <set>
#include <string>
#include <utility>

#include "fuzz/xml_invariants.h"

namespace xmppd::fuzz {

struct StreamOptions {
  std::string_view header;      // the stream header the peer sent
  std::string_view default_ns;  // jabber:client or jabber:server
  bool top_only = false;        // as the s2s worker parses: top-level elements without content
};

class StreamRun final : public xml::StreamParser::Handler {
 public:
  StreamRun(const StreamOptions& options, xml::ParserLimits limits)
      // The header is let through whatever its length, as FragmentParser does: the limits
      // are for the elements.
      : options_(options), limits_(limits), parser_(*this, xml::ParserLimits{options.header.size()}) {
    parser_.set_top_only(options.top_only);
    namespaces_.declared = {std::string(options.default_ns), std::string(xml::kStreamNs), "jabber:server:dialback"};
  }

  void stream_opened(const xml::Element& header) override {
    if (opened_) fail("stream opened twice", header.name());
    opened_ = true;
  }
  void element(xml::Element element, std::size_t bytes) override {
    if (!opened_ || closed_) fail("element outside the stream", element.name());
    if (bytes > limits_.max_element_bytes) fail("element over max_element_bytes", std::to_string(bytes));
    if (options_.top_only && (!element.children().empty() || !element.text().empty()))
      fail("top-only element with content", element.name());
    check_budget(element, limits_, namespaces_);
    check_round_trip(element, options_.default_ns);
  }
  void stream_closed() override {
    if (closed_) fail("stream closed twice", "");
    closed_ = true;
  }

  // Feeds the header, then the rest in pieces; hibernates between pieces when told to.
  void run(FuzzedDataProvider& input) {
    if (!parser_.feed(options_.header)) fail("the fixed header is refused", parser_.error_text());
    parser_.set_limits(limits_);
    while (input.remaining_bytes() > 0) {
      std::size_t size = input.ConsumeIntegralInRange<std::size_t>(1, 512);
      bool hibernate = input.ConsumeBool();
      std::string piece = input.ConsumeBytesAsString(size);
      if (piece.empty()) break;
      bool ok = parser_.feed(piece);
      if (!ok) {
        if (parser_.error() == xml::ParseError::kNone) fail("feed failed without an error", "");
        if (parser_.feed("<a/>")) fail("a stream in error takes more", "");
        return;
      }
      if (parser_.error() != xml::ParseError::kNone) fail("an error but feed succeeded", parser_.error_text());
      if (hibernate && parser_.hibernate() && !parser_.hibernating()) fail("hibernate() did not", "");
    }
  }

 private:
  StreamOptions options_;
  xml::ParserLimits limits_;
  xml::StreamParser parser_;
  Namespaces namespaces_;
  bool opened_ = false;
  bool closed_ = false;
};

// Limits from the fuzzer too: small ones reach the budget and node checks. Depth and
// attributes stay within the defaults, the only values xmppd uses: the round trip goes
// through parse_fragment, which holds every element to them, as the far end of an IPC link
// does. (A depth of 40 once let the stream accept what the fragment parser then refused.)
inline xml::ParserLimits fuzzed_limits(FuzzedDataProvider& input) {
  static constexpr std::size_t kSizes[] = {64, 512, 4096, 65536};
  xml::ParserLimits limits{input.PickValueInArray(kSizes)};
  const xml::ParserLimits defaults = limits;
  limits.max_depth = input.ConsumeIntegralInRange<std::size_t>(1, defaults.max_depth);
  limits.max_attributes = input.ConsumeIntegralInRange<std::size_t>(1, defaults.max_attributes);
  limits.max_nodes = input.ConsumeIntegralInRange<std::size_t>(1, 10000);
  return limits;
}

}  // namespace xmppd::fuzz
