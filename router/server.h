// The router as its modules see it (router/module.h): where stanzas go, the stores, the
// sessions, the hosts' configurations. Routing provides it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "router/archive_store.h"
#include "router/auth_link.h"
#include "router/item_store.h"
#include "router/local_sessions.h"
#include "router/module.h"
#include "router/quotas.h"
#include "router/roster.h"
#include "router/user_store.h"
#include "xml/element.h"

namespace xmppd::router {

class Server {
 public:
  virtual bool is_local(std::string_view domain) const = 0;
  // Null for a domain that is not a VirtualHost here.
  virtual const HostConfig* host(std::string_view domain) const = 0;
  // A stanza the server sends, to its 'to': a local session (a full JID) or another server.
  virtual void send(const xml::Element& stanza) = 0;
  // An error reply to `stanza`, unless it is an error itself (RFC 6120 §8.3.1).
  virtual void bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
                      std::string_view text = {}) = 0;
  // An IQ the server sends on a user's or its own behalf (its 'from' and 'to' set by the
  // caller; its 'id' here, and its 'type' "get" unless the caller made it "set": XEP-0357's
  // publish), and what comes of it: `done` gets the result
  // or error, or null when none came within a timeout or too many requests are pending
  // already. `done` may run before request() returns.
  using Reply = std::function<void(const xml::Element* reply)>;
  virtual void request(xml::Element iq, Reply done) = 0;
  // A stanza for a local user, by the rules of RFC 6121 §8.5 (a bare JID: its available
  // sessions; a message possibly kept offline), after the stanza_for_user filters.
  virtual void to_user(const xml::Element& stanza, const xmpp::Jid& to) = 0;
  // Ends the account's sessions and forgets what the server keeps for it (the credentials
  // are the auth helper's).
  virtual void user_removed(const std::string& bare) = 0;
  virtual LocalSessions& sessions() = 0;
  virtual UserStore& store() = 0;
  virtual ItemStore& items() = 0;
  // The message archive (XEP-0313); null when the router has none (a store failed to open).
  virtual ArchiveStore* archive() = 0;
  virtual AuthLink& auth() = 0;
  virtual const UserQuotas& quotas() const = 0;
  // Rosters and presence (router/roster.h), which every host has.
  virtual Im& im() = 0;
  // A stanza from a component of this router (router/component.h), its 'from' in the
  // component's domain (the caller checked it): to a local user or the server, to another
  // component, or to another server when the component may federate.
  virtual void from_component(xml::Element stanza) = 0;

 protected:
  ~Server() = default;
};

}  // namespace xmppd::router
