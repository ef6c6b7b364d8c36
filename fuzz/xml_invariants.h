// Invariants the XML fuzz targets check on every element a parser delivers. A broken one
// aborts, which libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "xml/element.h"
#include "xml/fragment.h"
#include "xml/stream_parser.h"

namespace xmppd::fuzz {

[[noreturn]] inline void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// What an element holds in memory as the parser counts it: kNodeCost for each element and
// run of text, every name, attribute and text byte, and each namespace string the first time
// it is met. A stream interns its URIs, so one string serves every element in that namespace;
// strings are told apart by address, so that an element with a copy of its own is charged for
// it. `seen` keeps the ones already met (and keeps them alive, so that no address is reused).
// The namespaces the stream header declares are charged to the header, not to an element.
struct Footprint {
  std::size_t bytes = 0;
  std::size_t nodes = 0;
};

struct Namespaces {
  std::set<std::string> declared;  // on the stream header
  std::set<xml::Namespace> seen;
};

inline void measure(const xml::Element& e, Namespaces& ns, Footprint& f) {
  f.nodes += 1;
  f.bytes += xml::kNodeCost + e.name().size();
  if (ns.seen.insert(e.shared_ns()).second && !ns.declared.count(e.ns())) f.bytes += e.ns().size() + xml::kNodeCost;
  for (const auto& [name, value] : e.attributes()) f.bytes += name.size() + value.size();
  // Runs of text are nodes of their own; adjacent runs are one run as parsed, so the text
  // as a whole is counted once with one node, which is at most what the parser charged.
  std::string text = e.text();
  if (!text.empty()) {
    f.nodes += 1;
    f.bytes += xml::kNodeCost + text.size();
  }
  for (const xml::Element* child : e.children()) measure(*child, ns, f);
}

inline void check_budget(const xml::Element& e, const xml::ParserLimits& limits, Namespaces& ns) {
  Footprint f;
  measure(e, ns, f);
  if (f.nodes > limits.max_nodes)
    fail("node count over max_nodes", std::to_string(f.nodes) + " > " + std::to_string(limits.max_nodes));
  if (f.bytes > limits.memory_budget())
    fail("memory over the budget", std::to_string(f.bytes) + " > " + std::to_string(limits.memory_budget()));
}

// serialize → parse_fragment → serialize gives the same text: what the serializer writes
// reads back as the same element (the router and the s2s worker pass stanzas on this way).
inline void check_round_trip(const xml::Element& e, std::string_view default_ns) {
  std::string first;
  e.serialize(first, default_ns);
  // The serialized form may be longer than the wire form (namespace declarations written
  // out, escapes): room enough that only a real difference can refuse it.
  std::string error;
  auto again = xml::parse_fragment(first, default_ns, 4 * first.size() + 4096, &error);
  if (!again) fail("serialized element does not parse again", error + "\n" + first);
  std::string second;
  again->serialize(second, default_ns);
  if (first != second) fail("round trip changed the element", first + "\n" + second);
}

}  // namespace xmppd::fuzz
