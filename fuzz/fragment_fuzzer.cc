// Single elements as the processes pass them to each other in IPC records (proto/): parsed
// with xml::FragmentParser, one parser kept for a run of records as a link does, whole or
// top-only. Every accepted element round-trips, stays within its budget, and a parser that
// has seen other records gives the same answer as a fresh one (nothing lingers between
// records).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/xml_invariants.h"

using xmppd::fuzz::fail;
using xmppd::xml::FragmentParser;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  std::string default_ns = input.ConsumeBool() ? "jabber:client" : "jabber:server";
  auto content = input.ConsumeBool() ? FragmentParser::Content::kTopOnly : FragmentParser::Content::kWhole;
  FragmentParser kept(default_ns, content);
  while (input.remaining_bytes() > 0) {
    std::size_t max_bytes = input.ConsumeIntegralInRange<std::size_t>(1, 8192);
    std::string record = input.ConsumeRandomLengthString(4096);
    std::string error;
    auto element = kept.parse(record, max_bytes, &error);
    FragmentParser fresh(default_ns, content);
    std::string fresh_error;
    auto alone = fresh.parse(record, max_bytes, &fresh_error);
    if (element.has_value() != alone.has_value())
      fail("a kept parser and a fresh one disagree", record + "\nkept: " + error + "\nfresh: " + fresh_error);
    if (!element) {
      if (error.empty()) fail("refused without a reason", record);
      continue;
    }
    if (record.size() > max_bytes) fail("element over max_bytes accepted", record);
    std::string a, b;
    element->serialize(a, default_ns);
    alone->serialize(b, default_ns);
    if (a != b) fail("a kept parser and a fresh one parse differently", a + "\n" + b);
    if (content == FragmentParser::Content::kTopOnly && (!element->children().empty() || !element->text().empty()))
      fail("top-only element with content", a);
    // A fresh parser charges every namespace to the element.
    xmppd::fuzz::Namespaces namespaces;
    namespaces.declared = {default_ns, std::string(xmppd::xml::kStreamNs)};
    xmppd::fuzz::check_budget(*alone, xmppd::xml::ParserLimits{max_bytes}, namespaces);
    xmppd::fuzz::check_round_trip(*element, default_ns);
  }
  return 0;
}
