// Dialback elements (XEP-0220) as the s2s worker reads them on a server stream: whatever
// the fuzzer writes after a jabber:server header is parsed, and each <db:result/> or
// <db:verify/> is read as the inbound stream reads it (s2s-worker/dialback_xml.h). The
// domains read are prepared; the key has no whitespace around it; the answer the worker
// would send, built from what it read, parses back to the same fields (nothing the peer
// wrote can change what the answer says); and the key ring confirms a received key only if
// it is the key it made for those inputs.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/xml_invariants.h"
#include "s2s-worker/dialback_key_ring.h"
#include "s2s-worker/dialback_xml.h"
#include "xmpp/dialback_key.h"
#include "xmpp/jid.h"
#include "xmpp/namespaces.h"

namespace {

using xmppd::fuzz::fail;
using xmppd::s2s::DialbackFields;

constexpr std::string_view kHeader =
    "<stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='a.example' to='b.example' version='1.0'>";

struct Collect final : xmppd::xml::StreamParser::Handler {
  void stream_opened(const xmppd::xml::Element&) override {}
  void element(xmppd::xml::Element e, std::size_t) override { elements.push_back(std::move(e)); }
  void stream_closed() override {}
  std::vector<xmppd::xml::Element> elements;
};

std::vector<xmppd::xml::Element> parse_stream(std::string_view body, std::size_t max_bytes) {
  Collect collect;
  xmppd::xml::StreamParser parser(collect, xmppd::xml::ParserLimits{kHeader.size()});
  if (!parser.feed(kHeader)) fail("the fixed header is refused", parser.error_text());
  parser.set_limits(xmppd::xml::ParserLimits{max_bytes});
  parser.feed(body);
  return std::move(collect.elements);
}

const xmppd::s2s::DialbackKeyRing& ring() {
  static xmppd::s2s::DialbackKeyRing* ring = [] {
    auto* r = new xmppd::s2s::DialbackKeyRing;
    r->set(std::string(64, 'c'), std::string(64, 'p'));
    return r;
  }();
  return *ring;
}

void check_prepared(const std::string& domain) {
  if (domain.empty()) return;
  auto again = xmppd::xmpp::prepare_domainpart(domain);
  if (!again || *again != domain) fail("a domain read is not prepared", domain);
}

// The worker answers with the addresses swapped and the id echoed.
void check_answer(const std::string& name, const DialbackFields& f) {
  std::string answer = xmppd::s2s::dialback_element(name, f.local, f.remote, f.id, "valid", f.key);
  auto parsed = parse_stream(answer, answer.size());
  if (parsed.size() != 1 || !parsed[0].is(xmppd::xmpp::kDialbackNs, name)) fail("an answer does not parse", answer);
  DialbackFields back = xmppd::s2s::dialback_fields(parsed[0]);
  if (back.remote != f.local || back.local != f.remote || back.id != f.id || back.key != f.key ||
      parsed[0].attribute_or("type") != "valid")
    fail("an answer says something else than what was read", answer);

  std::string error = xmppd::s2s::dialback_error(name, f.local, f.remote, f.id, "cancel", "item-not-found", f.key);
  parsed = parse_stream(error, error.size());
  if (parsed.size() != 1) fail("an error answer does not parse", error);
  const xmppd::xml::Element* e =
      parsed[0].child(xmppd::xmpp::kServerNs, "error");  // unprefixed: the stream's namespace
  if (e == nullptr || e->child(xmppd::xmpp::kStanzaErrorNs, "item-not-found") == nullptr)
    fail("an error answer lost its condition", error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto& e : parse_stream(body, 16384)) {
    if (e.ns() != xmppd::xmpp::kDialbackNs || (e.name() != "result" && e.name() != "verify")) continue;
    DialbackFields f = xmppd::s2s::dialback_fields(e);
    check_prepared(f.remote);
    check_prepared(f.local);
    if (!f.key.empty() && (xmppd::s2s::trim_xml_space(f.key) != f.key)) fail("the key keeps whitespace", f.key);
    check_answer(e.name(), f);

    std::string made = ring().make(f.local, f.remote, f.id);
    if (made.size() != 64) fail("the ring made no key", made);
    if (!ring().matches(f.local, f.remote, f.id, made)) fail("the ring refuses its own key", made);
    if (ring().matches(f.local, f.remote, f.id, f.key) && f.key != made) {
      // The previous epoch's key is the only other one accepted.
      std::string previous = xmppd::xmpp::dialback_key(std::string(64, 'p'), f.local, f.remote, f.id);
      if (f.key != previous) fail("the ring accepts a key it did not make", f.key);
    }
  }
  return 0;
}
