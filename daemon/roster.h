// Rosters (RFC 6121 §2) and presence subscriptions and broadcast (RFC 6121 §3–4) among the
// users of this server. Contacts on other servers come with federation.
#pragma once

#include <string>

#include "daemon/local_sessions.h"
#include "daemon/user_store.h"
#include "xml/element.h"

namespace xmppd::router {

class ClientStream;

class Im {
 public:
  Im(LocalSessions& sessions) : sessions_(sessions) {}
  void set_store(UserStore* store) { store_ = store; }

  // <iq/> in jabber:iq:roster from a client about its own roster.
  void roster_iq(ClientStream& from, const xml::Element& iq);
  // A presence a client sent: broadcast (no 'to'), directed, or a subscription change.
  void outbound_presence(ClientStream& from, const xml::Element& presence, const std::string& to_bare);
  void broadcast(ClientStream& from, const xml::Element& presence);
  // First available presence of a session: probes answered, waiting requests delivered.
  void initial_presence(ClientStream& stream);
  // The session ends while available: its contacts see it go.
  void gone(ClientStream& stream);

 private:
  using Item = UserStore::RosterItem;
  Item item(const std::string& bare, const std::string& contact);
  void save(const std::string& bare, const Item& item);
  void push(const std::string& bare, const Item& item, bool removed, std::int64_t version);
  void deliver_to_available(const std::string& bare, const xml::Element& stanza);
  void send_presence_of(const std::string& from_bare, const std::string& to_bare, bool available);
  void subscription(ClientStream& from, const std::string& type, const std::string& contact);

  LocalSessions& sessions_;
  UserStore* store_ = nullptr;
};

}  // namespace xmppd::router
