// A server's stream as the s2s worker parses it: a jabber:server header declaring the
// dialback prefix, then whatever the fuzzer writes, split where it chooses, parsed either
// top-only (as the worker does: it checks stanzas and passes their bytes on) or whole. The
// same invariants as the client stream target.
#include <cstddef>
#include <cstdint>

#include "fuzz/stream_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  xmppd::xml::ParserLimits limits = xmppd::fuzz::fuzzed_limits(input);
  xmppd::fuzz::StreamOptions options{
      "<stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
      "xmlns:stream='http://etherx.jabber.org/streams' from='a.example' to='b.example' version='1.0'>",
      "jabber:server", input.ConsumeBool()};
  xmppd::fuzz::StreamRun run(options, limits);
  run.run(input);
  return 0;
}
