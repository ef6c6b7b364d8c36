// Which stanzas a server-to-server stream may carry to us: those between a pair of domains
// (remote, local) that the stream has proved. The same rule serves an inbound stream and,
// with bidirectional streams (XEP-0288), an outbound one that the peer sends on.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "s2s-worker/s2s_policy.h"
#include "xml/element.h"

namespace xmppd::s2s {

// Namespaces of XEP-0288: the feature a receiving server offers, the element the initiating
// server answers with before it authenticates.
inline constexpr std::string_view kBidiFeatureNs = "urn:xmpp:features:bidi";
inline constexpr std::string_view kBidiNs = "urn:xmpp:bidi";

using ProvedPairs = std::set<std::pair<std::string, std::string>>;  // (remote, local)

struct StanzaCheck {
  std::string from_domain, to_domain;
  // Empty when the stanza may be delivered; else the stream error that ends the stream, its
  // text, and what the log says (without the stream's own prefix).
  std::string condition, text, log;
  bool accepted() const { return condition.empty(); }
};

// RFC 6120 §4.9.3: improper-addressing for a stanza without valid 'from' and 'to';
// not-authorized while nothing is proved; invalid-from for a sender the stream has not
// proved; for a pair it has not proved, not-authorized when the recipient is ours and
// host-unknown when not.
StanzaCheck check_stanza(const xml::Element& stanza, const ProvedPairs& proved, const S2sPolicy& policy);

}  // namespace xmppd::s2s
