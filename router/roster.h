// Rosters (RFC 6121 §2) and presence subscriptions and broadcast (RFC 6121 §3–4), for
// contacts here and on other servers.
//
// Each subscription stanza has two halves: the sender's server updates the sender's roster
// and passes the stanza on; the recipient's server updates the recipient's roster and
// delivers it. For two local users both halves run here; for a remote contact the other
// half is the other server's, and the stanza travels through the s2s worker.
#pragma once

#include <string>
#include <string_view>

#include "router/local_sessions.h"
#include "router/quotas.h"
#include "router/user_store.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router {

class ClientStream;

class Im {
 public:
  // The rest of the server as Im sees it (Routing provides it).
  class Network {
   public:
    virtual bool is_local(std::string_view domain) const = 0;
    // To another server; false when it cannot go (federation off for the sender's host,
    // or no s2s worker).
    virtual bool send_remote(const xml::Element& stanza) = 0;
    // True when a module drops this presence from its 'from' to `to` (XEP-0191: either end
    // blocks the other).
    virtual bool presence_filtered(const xml::Element& presence, const xmpp::Jid& to) = 0;

   protected:
    ~Network() = default;
  };

  Im(LocalSessions& sessions, Network& network) : sessions_(sessions), network_(network) {}
  void set_store(UserStore* store) { store_ = store; }
  void set_quotas(const UserQuotas& quotas) { quotas_ = quotas; }

  // <iq/> in jabber:iq:roster from a client about its own roster.
  void roster_iq(ClientStream& from, const xml::Element& iq);
  // A presence a client sent to `to` (stamped, and `to` its parsed 'to'): directed, a probe,
  // or a subscription change. False when it had to go to another server and could not.
  bool outbound_presence(ClientStream& from, const xml::Element& presence, const xmpp::Jid& to);
  // A presence for a local user from anyone, local or remote, its 'from' trusted: the
  // recipient's half of a subscription change, a probe answered, or presence delivered.
  // False when it was not for a user, or a filter (XEP-0191) stopped it.
  bool inbound_presence(const xml::Element& presence, const xmpp::Jid& to);
  void broadcast(ClientStream& from, const xml::Element& presence);
  // First available presence of a session: probes answered, waiting requests delivered.
  // Pending subscription requests are delivered separately, paced (Routing::became_available).
  void initial_presence(ClientStream& stream);
  // The session ends while available: its contacts see it go.
  void gone(ClientStream& stream);
  // A session that is not available ends: those it sent directed presence to hear it go.
  void directed_gone(ClientStream& stream);
  // The account `bare` is being removed: each contact is sent unsubscribe and unsubscribed,
  // as the subscriptions are, so that both rosters forget them.
  void unsubscribe_all(const std::string& bare);

 private:
  using Item = UserStore::RosterItem;
  using Outcome = UserStore::Outcome;
  Item item(const std::string& bare, const std::string& contact);
  // False when the roster is full (a new item past max_roster_items) or the store failed.
  UserStore::Outcome save(const std::string& bare, const Item& item);
  void push(const std::string& bare, const Item& item, bool removed, std::int64_t version);
  bool is_local(const std::string& jid) const;
  bool send(const xml::Element& presence);
  void deliver_to_available(const std::string& bare, const xml::Element& stanza);
  void send_presence_of(const std::string& user, const std::string& to, bool available);
  bool subscription(ClientStream& from, const std::string& type, const std::string& contact,
                    const xml::Element& presence);
  enum class Out { kPass, kDrop, kRefused };
  Out subscription_out(ClientStream& from, const std::string& type, const std::string& contact,
                       const xml::Element& presence);
  bool pending_request(const std::string& user, const std::string& contact);
  // kOverQuota when a request was refused (the user has max_pending_subscriptions already),
  // kFailed when it could not be kept; kStored for anything else, kept or not.
  Outcome subscription_in(const std::string& contact, const std::string& type, const std::string& user,
                          const xml::Element& presence);
  void answer_probe(const xmpp::Jid& prober, const std::string& user);

  LocalSessions& sessions_;
  Network& network_;
  UserStore* store_ = nullptr;
  UserQuotas quotas_;
};

}  // namespace xmppd::router
