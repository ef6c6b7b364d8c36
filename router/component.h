// A domain the router serves that is not a VirtualHost: a multi-user chat service, which runs
// inside the router (router/muc/), or an external component (XEP-0114), whose connection the
// router holds. Routing hands a component every stanza addressed to its domain or to an
// address in it, from local users and from other servers alike; what a component sends goes
// back through Server::from_component.
//
// Trust: 'from' of what a component receives is the sender's real address (stamped for a
// local session, checked by S2sLink for another server's). Payloads are unchecked.
#pragma once

#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router {

class Component {
 public:
  virtual ~Component() = default;
  // A stanza for the component's domain (`to`, parsed), from `from` (parsed, trusted).
  virtual void receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) = 0;
};

}  // namespace xmppd::router
