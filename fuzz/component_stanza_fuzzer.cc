// What the router reads of an external component's stream beyond the stream parser
// (router/component_stanza.cc): the handshake text, and each stanza's addresses against the
// component's domain. The input is either a handshake's text or one element, parsed as the
// component's stream parses it (jabber:component:accept). A digest taken is the input,
// lowered; a stanza routed is in jabber:client, from the domain or an address at it, with a
// 'to' that parses, and survives its own serialization.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/xml_invariants.h"
#include "router/component_stanza.h"
#include "xml/fragment.h"
#include "xmpp/namespaces.h"

using xmppd::fuzz::fail;
namespace router = xmppd::router;
namespace xml = xmppd::xml;
namespace xmpp = xmppd::xmpp;

namespace {

constexpr char kDomain[] = "gateway.example.org";

void check_handshake(const std::string& text) {
  auto digest = router::handshake_digest(text);
  if (!digest) return;
  if (digest->size() != 40) fail("a digest of the wrong length taken", text);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = (*digest)[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) fail("a digest with a non-hex digit taken", text);
    if (c != std::tolower(static_cast<unsigned char>(text[i]))) fail("a digest that is not the input lowered", text);
  }
}

void check_stanza(const std::string& text, std::size_t limit) {
  xml::FragmentParser parser(xmpp::kComponentNs, xml::FragmentParser::Content::kWhole);
  auto element = parser.parse(text, 64 << 10, nullptr);
  if (!element) return;
  xml::FragmentParser reparser(xmpp::kClientNs);
  router::ComponentStanza read = router::read_component_stanza(*element, kDomain, reparser, limit);
  using Verdict = router::ComponentStanza::Verdict;
  if (read.verdict == Verdict::kNotAStanza || read.verdict == Verdict::kInvalidFrom) {
    if (read.stanza) fail("a refused element was converted", text);
    return;
  }
  if (!read.from || read.from->domain() != kDomain) fail("a stanza from outside the domain got through", text);
  if (read.verdict == Verdict::kTooBig) return;
  if (!read.stanza || read.stanza->ns() != xmpp::kClientNs) fail("a stanza not in jabber:client", text);
  if (read.verdict != Verdict::kRoute) return;
  auto to = xmpp::Jid::parse(read.stanza->attribute_or("to"));
  if (!to || to->full() != read.stanza->attribute_or("to")) fail("a routed stanza's 'to' is not prepared", text);
  auto from = xmpp::Jid::parse(read.stanza->attribute_or("from"));
  if (!from || from->domain() != kDomain) fail("a routed stanza's 'from' is outside the domain", text);
  std::string once, twice;
  read.stanza->serialize(once, xmpp::kClientNs);
  auto again = xml::parse_fragment(once, xmpp::kClientNs, once.size() + 1);
  if (!again) fail("a routed stanza does not parse again", text);
  again->serialize(twice, xmpp::kClientNs);
  if (once != twice) fail("a routed stanza changes on a round trip", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const bool handshake = input.ConsumeBool();
  const std::size_t limit = input.ConsumeIntegralInRange<std::size_t>(16, 64 << 10);
  const std::string text = input.ConsumeRemainingBytesAsString();
  if (handshake)
    check_handshake(text);
  else
    check_stanza(text, limit);
  return 0;
}
