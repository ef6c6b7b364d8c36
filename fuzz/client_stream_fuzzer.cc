// A client's stream as the client-facing process parses it (stream/): a jabber:client
// header, then whatever the fuzzer writes, split where it chooses. Every element delivered
// stays within the memory budget and node limit, and serializes to text that parses back to
// the same element.
#include <cstddef>
#include <cstdint>

#include "fuzz/stream_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  xmppd::xml::ParserLimits limits = xmppd::fuzz::fuzzed_limits(input);
  xmppd::fuzz::StreamOptions options{
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>",
      "jabber:client"};
  xmppd::fuzz::StreamRun run(options, limits);
  run.run(input);
  return 0;
}
