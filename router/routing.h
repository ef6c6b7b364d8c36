// Where a stanza goes (RFC 6120 §8, §10; RFC 6121 §8): the server itself, a local session,
// or another server through the s2s worker.
//
// A stanza comes from a local client (route) or from another server (from_remote); after
// that its 'from' is trusted, and the same local paths serve both. Replies and errors are
// addressed to that 'from' and leave through deliver(), which picks a local session or the
// link by the address's domain.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "router/auth_link.h"
#include "router/local_sessions.h"
#include "router/quotas.h"
#include "router/roster.h"
#include "router/user_store.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router {

class ClientStream;
class S2sLink;

class Routing final : private Im::Network {
 public:
  void set_hosts(std::set<std::string> hosts, std::set<std::string> version_hosts, std::set<std::string> s2s_hosts) {
    hosts_ = std::move(hosts);
    version_hosts_ = std::move(version_hosts);
    s2s_hosts_ = std::move(s2s_hosts);
  }
  void set_backends(AuthLink* auth, UserStore* store, S2sLink* s2s) {
    auth_ = auth;
    store_ = store;
    s2s_ = s2s;
    im_.set_store(store);
  }
  void set_quotas(const UserQuotas& quotas) {
    quotas_ = quotas;
    im_.set_quotas(quotas);
  }
  Im& im() { return im_; }
  bool is_local(std::string_view domain) const override { return hosts_.count(std::string(domain)) > 0; }
  // The session sent its initial presence: subscription requests and messages kept while it
  // was offline go to it, a batch at a time as its output drains.
  void became_available(ClientStream& stream);
  // The session's output queue has emptied: what was handed to it has been written.
  void drained(ClientStream& stream);
  // False when the account has max_user_sessions resources bound already.
  bool bind(ClientStream& stream, const std::string& resource);
  void unbind(ClientStream& stream);
  // The account `bare` was removed (xmppctl deluser, or in-band): each of its sessions ends
  // with a stream error.
  void user_removed(const std::string& bare);
  // A stanza from a local client.
  void route(ClientStream& from, xml::Element stanza);
  // A stanza from another server, checked by S2sLink: from a remote JID to a local one.
  void from_remote(xml::Element stanza, const xmpp::Jid& to);
  // The link to the s2s worker has caught up: the sessions held back for it read again.
  void s2s_caught_up();
  const LocalSessions& sessions() const { return sessions_; }

 private:
  bool send_remote(const xml::Element& stanza) override;
  void to_remote(xml::Element stanza, ClientStream& from, const xmpp::Jid& to);
  void to_local(const xml::Element& stanza, const xmpp::Jid& to);
  void to_server(const xml::Element& stanza, const std::string& host);
  void to_local_user(const xml::Element& stanza, const std::string& bare, const std::string& resource);
  bool account_disco(const xml::Element& iq, const std::string& bare);
  void message_to_bare(const xml::Element& message, const std::string& bare);
  void keep_offline(const xml::Element& message, const std::string& bare);
  // Hands the session its next batch of stored stanzas, once the previous batch was written
  // (and then deleted, for messages). Never more than a batch is queued, so a backlog of any
  // size cannot push the session past the transport's output limit.
  void pump(ClientStream& stream);
  // A stanza the server sends (a reply, an error) to its 'to': a local session or another
  // server.
  void deliver(const xml::Element& stanza);
  // Answers with a stanza error, except to an error (RFC 6120 §8.3.1).
  void bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
              std::string_view text = {});

  std::set<std::string> hosts_;
  std::set<std::string> version_hosts_;  // XEP-0092 answered (off by default: it tells attackers what runs)
  std::set<std::string> s2s_hosts_;      // whose users may talk to other servers
  LocalSessions sessions_;
  AuthLink* auth_ = nullptr;
  UserStore* store_ = nullptr;
  S2sLink* s2s_ = nullptr;
  // Sessions that stopped reading because the link to the s2s worker was behind, rather
  // than have their stanzas bounce.
  std::set<ClientStream*> held_for_s2s_;
  // Where each session's delivery of stored stanzas stands.
  struct Backlog {
    std::int64_t requests_after = 0;  // rowid of the last request handed over
    bool requests_done = false;
    bool offline = false;             // this session takes the offline messages
    std::int64_t offline_after = 0;   // id of the last message handed over
    std::int64_t unacknowledged = 0;  // handed over, deleted once the session's output drains
  };
  std::map<ClientStream*, Backlog> backlogs_;
  UserQuotas quotas_;
  Im im_{sessions_, *this};
};

}  // namespace xmppd::router
