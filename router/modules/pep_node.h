// A PEP node's configuration (XEP-0060 §8.2, the fields XEP-0163 clients set), as stored and
// as the data forms of node configuration and publish-options carry it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "xml/element.h"

namespace xmppd::router::pep {

inline constexpr std::string_view kPubsubNs = "http://jabber.org/protocol/pubsub";
inline constexpr std::string_view kOwnerNs = "http://jabber.org/protocol/pubsub#owner";
inline constexpr std::string_view kEventNs = "http://jabber.org/protocol/pubsub#event";
inline constexpr std::string_view kErrorsNs = "http://jabber.org/protocol/pubsub#errors";
inline constexpr std::string_view kDataNs = "jabber:x:data";
inline constexpr std::string_view kCapsNs = "http://jabber.org/protocol/caps";

struct NodeConfig {
  std::string access_model = "presence";  // presence, open, roster, whitelist
  std::size_t max_items = 1;              // as Prosody's PEP
  bool persist_items = true;

  // "presence 1 1": the store's form of it.
  std::string serialize() const;
  static std::optional<NodeConfig> parse(std::string_view stored);
  // The pubsub#node_config form (XEP-0060 §8.2.1), `max` the user's largest max_items.
  xml::Element form(std::size_t max) const;
  bool operator==(const NodeConfig&) const = default;
};

// A submitted form applied to `config`. Fields it does not know are ignored (as Prosody does);
// a value out of range or of an unknown access model is an error, said in `error`.
bool apply_form(const xml::Element& form, std::size_t max, NodeConfig& config, std::string& error);
// Publish-options (XEP-0060 §7.1.5): whether an existing node's configuration satisfies them.
// `error` set when the form itself is malformed.
bool satisfies(const xml::Element& form, std::size_t max, const NodeConfig& config, std::string& error);

}  // namespace xmppd::router::pep
