// RFC 7395 translation (http/ws_stream.h): a run of client messages and router reads,
// interleaved as the HTTP process feeds them. Whatever goes to the router must parse as a
// client stream (the translator's promise: the router never sees bytes it did not parse),
// every message for the client must be one element, and a failure ends both directions.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/xml_invariants.h"
#include "http/ws_stream.h"
#include "xml/fragment.h"

using xmppd::fuzz::fail;

namespace {

// What the router would read: the translated stream, checked by the stream parser.
struct RouterView final : xmppd::xml::StreamParser::Handler {
  void stream_opened(const xmppd::xml::Element&) override {}
  void element(xmppd::xml::Element, std::size_t) override {}
  void stream_closed() override { closed = true; }
  bool closed = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  xmppd::http::WsStream ws(4096, 8192);
  RouterView view;
  xmppd::xml::StreamParser router_reads(view, xmppd::xml::ParserLimits{1 << 20});
  xmppd::xml::FragmentParser client_reads("");
  while (input.remaining_bytes() > 0) {
    bool from_client = input.ConsumeBool();
    std::string chunk = input.ConsumeRandomLengthString(2048);
    if (from_client) {
      std::string to_router;
      bool ok = ws.client_message(chunk, to_router);
      if (!ok && !to_router.empty()) fail("a refused message passed bytes on", chunk);
      if (!ok && !ws.failed()) fail("refused without a failure", chunk);
      // A new <open/> is a new stream for the router, as a restart is.
      if (to_router.starts_with("<?xml")) router_reads.reset();
      if (!to_router.empty() && !view.closed && !router_reads.feed(to_router))
        fail("the router would read a broken stream", to_router + "\n" + router_reads.error_text());
    } else {
      std::vector<std::string> to_client;
      bool ok = ws.router_bytes(chunk, to_client);
      if (!ok && !ws.failed()) fail("refused without a failure", chunk);
      for (const std::string& m : to_client)
        if (!client_reads.parse(m, 1 << 24)) fail("a message for the client is not one element", m);
    }
    if (ws.failed()) {
      for (const std::string& m : ws.failure_messages())
        if (!client_reads.parse(m, 1 << 24)) fail("a failure message is not one element", m);
      std::string more;
      if (ws.client_message("<message/>", more)) fail("a failed translator went on", "");
      break;
    }
  }
  return 0;
}
