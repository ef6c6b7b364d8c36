#include "s2s-worker/stanza_check.h"

#include "xmpp/jid.h"

namespace xmppd::s2s {

StanzaCheck check_stanza(const xml::Element& stanza, const ProvedPairs& proved, const S2sPolicy& policy) {
  StanzaCheck c;
  auto from = xmpp::Jid::parse(stanza.attribute_or("from"));
  auto to = xmpp::Jid::parse(stanza.attribute_or("to"));
  if (!from || !to) {
    c.condition = "improper-addressing";
    c.text = "a stanza between servers needs valid 'from' and 'to'";
    c.log = "stanza without valid 'from' and 'to'";
    return c;
  }
  c.from_domain = from->domain();
  c.to_domain = to->domain();
  if (proved.empty()) {
    c.condition = "not-authorized";
    c.text = "no domain is authenticated on this stream";
    c.log = "stanza from " + c.from_domain + " before any domain is authenticated";
    return c;
  }
  if (proved.count({c.from_domain, c.to_domain})) return c;
  bool known_remote = false;
  for (const auto& [remote, local] : proved) known_remote |= remote == c.from_domain;
  if (!known_remote) {
    c.condition = "invalid-from";
    c.text = c.from_domain + " is not authenticated on this stream";
    c.log = "stanza from " + c.from_domain + ", which this stream has not authenticated";
  } else {
    c.condition = policy.is_local(c.to_domain) ? "not-authorized" : "host-unknown";
    c.text = c.from_domain + " is not authenticated for " + c.to_domain + " on this stream";
    c.log = "stanza from " + c.from_domain + " to " + c.to_domain + ", a pair this stream has not authenticated";
  }
  return c;
}

}  // namespace xmppd::s2s
