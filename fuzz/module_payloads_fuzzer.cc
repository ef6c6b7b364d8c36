// What the router's modules read from payloads themselves, after the XML parser: the
// disco#info a client answers for its XEP-0115 caps (router/modules/caps.cc), and the node
// configuration and publish-options forms of XEP-0060 (router/modules/pep_node.cc), both
// sent by anyone; a client's XEP-0357 <enable/> and <disable/> and the messages pushed about
// (router/modules/push_notification.cc). The input is one element (parsed as a link parses it) and a limit; a form
// accepted gives a configuration within the limits that survives the store and its own form.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/xml_invariants.h"
#include "router/modules/caps.h"
#include "router/modules/pep_node.h"
#include "router/modules/push_notification.h"
#include "xml/fragment.h"

using xmppd::fuzz::fail;
using xmppd::router::caps_ver;
using xmppd::router::pep::NodeConfig;

namespace {

void check_config(const NodeConfig& config, std::size_t max, const std::string& input) {
  if (config.max_items < 1 || config.max_items > max) fail("max_items out of range accepted", input);
  if (config.access_model != "presence" && config.access_model != "open" && config.access_model != "roster" &&
      config.access_model != "whitelist")
    fail("an unknown access model accepted", input);
  auto stored = NodeConfig::parse(config.serialize());
  if (!stored || !(*stored == config)) fail("a configuration does not survive the store", input);
  NodeConfig again;
  std::string error;
  if (!xmppd::router::pep::apply_form(config.form(max), max, again, error) || !(again == config))
    fail("a configuration does not survive its own form", error + "\n" + input);
}

// An enable accepted gives a registration that survives the store and can be announced to.
void check_push(const xmppd::xml::Element& element, const std::string& input) {
  namespace push = xmppd::router::push;
  auto outcome = push::read_enable(element, "juliet@capulet.example",
                                   [](std::string_view domain) { return domain == "capulet.example"; });
  if (outcome.registration) {
    auto stored = push::Registration::parse(outcome.registration->serialize());
    if (!stored || stored->id() != outcome.registration->id()) fail("a push registration does not round-trip", input);
    push::notification(*stored, "juliet@capulet.example", element, {true, true, 16, 5});
  } else if (outcome.refusal.condition.empty()) {
    fail("an enable refused without a condition", input);
  }
  push::Refusal refusal;
  push::read_disable(element, refusal);
  push::worth_pushing(element);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::size_t max = input.ConsumeIntegralInRange<std::size_t>(1, 1000);
  const bool stored_form = input.ConsumeBool();
  const std::string text = input.ConsumeRemainingBytesAsString();
  if (stored_form) {
    // What the item store gives back is trusted no more than the network.
    if (auto config = NodeConfig::parse(text)) {
      auto again = NodeConfig::parse(config->serialize());
      if (!again || !(*again == *config)) fail("a stored configuration does not round-trip", text);
    }
    return 0;
  }
  xmppd::xml::FragmentParser parser("jabber:client", xmppd::xml::FragmentParser::Content::kWhole);
  std::string error;
  auto element = parser.parse(text, 64 << 10, &error);
  if (!element) return 0;
  if (caps_ver(*element).size() != 28) fail("a verification string is not a base64 SHA-1", text);
  NodeConfig config;
  if (xmppd::router::pep::apply_form(*element, max, config, error)) check_config(config, max, text);
  NodeConfig existing;
  xmppd::router::pep::satisfies(*element, max, existing, error);
  check_push(*element, text);
  return 0;
}
