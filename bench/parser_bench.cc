// Stanzas per second through the stream parser, as the router and the s2s worker parse them:
// typical chat messages (body, a receipt request, a chat state, an origin id), whole and
// top-only. The hot path's share of parsing, measured apart from the network and TLS.
//
//   build/bench/parser_bench [stanzas per run]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "xml/stream_parser.h"

namespace {

using namespace xmppd;

struct Counter final : xml::StreamParser::Handler {
  void stream_opened(const xml::Element&) override {}
  void element(xml::Element element, std::size_t) override { elements += !element.name().empty(); }
  void stream_closed() override {}
  std::size_t elements = 0;
};

constexpr std::string_view kHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' "
    "version='1.0'>";

std::string message(int i) {
  return "<message to='bob@example.org/phone' from='alice@example.org/desk' type='chat' id='m" +
         std::to_string(i) +
         "'><body>Hello Bob, this is a message of ordinary length.</body>"
         "<request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/>"
         "<origin-id xmlns='urn:xmpp:sid:0' id='a1b2c3d4e5'/></message>";
}

double run(std::size_t count, bool top_only) {
  std::string input;
  for (int i = 0; i < 64; ++i) input += message(i);  // one read's worth of stanzas at a time
  Counter counter;
  xml::StreamParser parser(counter, xml::ParserLimits{256 * 1024});
  parser.set_top_only(top_only);
  parser.feed(kHeader);
  auto start = std::chrono::steady_clock::now();
  while (counter.elements < count)
    if (!parser.feed(input)) {
      std::fprintf(stderr, "parse error: %s\n", parser.error_text().c_str());
      std::exit(1);
    }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return static_cast<double>(counter.elements) / took.count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000000;
  for (bool top_only : {false, true}) {
    double best = 0;
    for (int round = 0; round < 5; ++round) best = std::max(best, run(count, top_only));
    std::printf("%s: %.0f stanzas/s (best of 5 runs of %zu)\n", top_only ? "top-only" : "whole", best, count);
  }
}
