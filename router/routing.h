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
#include <optional>
#include <vector>
#include <set>
#include <string>
#include <string_view>

#include "router/auth_link.h"
#include "router/component.h"
#include "router/item_store.h"
#include "router/local_sessions.h"
#include "router/module_table.h"
#include "router/quotas.h"
#include "router/roster.h"
#include "router/server.h"
#include "router/stream_management.h"
#include "router/user_store.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router {

class ClientStream;
class S2sLink;

class Routing final : private Im::Network, public Server {
 public:
  // Each host with the modules it enables (by Prosody's names) and their options.
  struct HostModules {
    std::string name;
    std::vector<std::string> modules, admins;
    std::vector<std::pair<std::string, std::vector<std::string>>> contact_info;
    std::optional<TurnOptions> turn;
    PushOptions push;
    std::vector<std::string> components;  // listed in disco#items (HostConfig::components)
  };
  void set_hosts(const std::vector<HostModules>& hosts, std::set<std::string> s2s_hosts);
  // False, with `error`, when the modules' store cannot be opened.
  bool set_backends(AuthLink* auth, UserStore* store, S2sLink* s2s, std::string& error);
  void set_quotas(const UserQuotas& quotas) {
    quotas_ = quotas;
    im_.set_quotas(quotas);
  }
  const ModuleTable& modules() const { return table_; }
  // XEP-0198: resumption tokens and the hibernating sessions (router/stream_management.h).
  SmacksSessions& smacks() { return smacks_; }

  // Server
  bool is_local(std::string_view domain) const override { return hosts_.count(domain) > 0; }
  const HostConfig* host(std::string_view domain) const override;
  // An IQ result may acknowledge a write: what the turn wrote is committed before it leaves,
  // and it becomes internal-server-error when that fails.
  void send(const xml::Element& stanza) override;
  void bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
              std::string_view text = {}) override;
  void to_user(const xml::Element& stanza, const xmpp::Jid& to) override;
  void request(xml::Element iq, Reply done) override;
  void user_removed(const std::string& bare) override;
  LocalSessions& sessions() override { return sessions_; }
  UserStore& store() override { return *store_; }
  ItemStore& items() override { return *items_; }
  ArchiveStore* archive() override { return archive_; }
  void set_archive(ArchiveStore* archive) { archive_ = archive; }
  AuthLink& auth() override { return *auth_; }
  const UserQuotas& quotas() const override { return quotas_; }
  Im& im() override { return im_; }
  void from_component(xml::Element stanza) override;

  // Components (router/component.h) by domain. A configured external component that is not
  // connected has no Component: stanzas for it bounce.
  void set_components(std::set<std::string> domains);
  bool is_component(std::string_view domain) const { return components_.count(domain) > 0; }
  // `component` serves `domain` from now on (nullptr: no more); false when `domain` is not a
  // configured component.
  bool attach_component(std::string_view domain, Component* component);
  // What serves `domain` now: null when it is no component or not connected.
  const Component* attached_component(std::string_view domain) const {
    auto it = components_.find(domain);
    return it != components_.end() ? it->second : nullptr;
  }

  // Stream features the host's modules add after authentication.
  void stream_features(const std::string& host, std::string& out) const;
  // A presence without 'to' from a session (RFC 6121 §4.2, §4.5): sent to its contacts;
  // `initial` when it is the session's first available one.
  void broadcast(ClientStream& from, xml::Element& presence, bool initial);
  // A stanza for a session whose delivery is filtered (ClientStream::filtered()): false
  // when a module held it back.
  bool filter_delivery(ClientStream& to, const xml::Element& stanza);
  // A nonza on an established stream (Hooks::stream_element): true when a module took it.
  bool stream_element(ClientStream& from, const xml::Element& element);
  // The session sent its initial presence: subscription requests and messages kept while it
  // was offline go to it, a batch at a time as its output drains.
  void became_available(ClientStream& stream);
  // The session's output queue has emptied: what was handed to it has been written.
  void drained(ClientStream& stream);
  // XEP-0198: the session lost its connection and hibernates. Offline messages written to
  // it but not yet deleted are deleted now: its queue of unacknowledged stanzas has them,
  // and sends them again on resumption or back to offline storage when it ends.
  void hibernated(ClientStream& stream);
  // A chat or normal message a session ending with stream management never acknowledged:
  // to offline storage as it is (its stanza-id, its first <delay/>), past the archive and
  // push hooks that saw it when it arrived; its sender is told when nothing keeps it.
  // `announce`: the session ended without hibernating, so no push told of the message: it is
  // announced as any message kept offline is (Hooks::message_delivered to no session).
  void keep_unacknowledged(const xml::Element& message, const std::string& bare, bool announce);
  // The message carries the <delay/> of `host`'s offline storage: it was kept before.
  bool was_offline(const xml::Element& message, std::string_view host) const;
  // False when the account has max_user_sessions resources bound already.
  bool bind(ClientStream& stream, const std::string& resource);
  void unbind(ClientStream& stream);
  // A stanza from a local client.
  void route(ClientStream& from, xml::Element stanza);
  // A stanza from another server, checked by S2sLink: from a remote JID to a local one.
  void from_remote(xml::Element stanza, const xmpp::Jid& to);
  // The link to the s2s worker has caught up: the sessions held back for it read again.
  void s2s_caught_up();

 private:
  bool send_remote(const xml::Element& stanza) override;
  bool presence_filtered(const xml::Element& presence, const xmpp::Jid& to) override;
  void to_remote(xml::Element stanza, ClientStream& from, const xmpp::Jid& to);
  void to_local(const xml::Element& stanza, const xmpp::Jid& to);
  void to_server(const xml::Element& stanza, const std::string& host);
  void to_local_user(const xml::Element& stanza, const xmpp::Jid& to);
  // The delivery itself, past the filters and the modules that add to a message.
  void deliver_to_user(const xml::Element& stanza, const xmpp::Jid& to);
  // An IQ get or set to a local domain or account: a module's, or service-unavailable.
  // `session` is the sender's when it is a local client.
  void iq_for_server(const xml::Element& iq, const xmpp::Jid& to, ClientStream* session);
  const ModuleSet& modules_of(std::string_view domain) const;
  void message_to_bare(const xml::Element& message, const std::string& bare);
  void keep_offline(const xml::Element& message, const std::string& bare);
  // Hands the session its next batch of stored stanzas, once the previous batch was written
  // (and then deleted, for messages). Never more than a batch is queued, so a backlog of any
  // size cannot push the session past the transport's output limit.
  void pump(ClientStream& stream);
  // A stanza the server sends (a reply, an error) to its 'to': a local session or another
  // server.
  void deliver(const xml::Element& stanza);
  // An IQ result or error for the server or an account: true when a request() waited for it.
  bool answered(const xml::Element& iq);
  // Requests older than their timeout are told that no answer came. Run whenever a request
  // is made or answered: the router has no timer of its own, and a request that waits longer
  // costs only its entry, which the bound on pending requests limits.
  void expire_requests();

  std::map<std::string, HostConfig, std::less<>> hosts_;
  std::set<std::string> s2s_hosts_;      // whose users may talk to other servers
  std::map<std::string, Component*, std::less<>> components_;
  // A stanza for a component's domain: to it, or bounced when it is not connected.
  void to_component(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to);
  LocalSessions sessions_;
  AuthLink* auth_ = nullptr;
  UserStore* store_ = nullptr;
  ArchiveStore* archive_ = nullptr;
  std::optional<ItemStore> items_;
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
  // The server's IQ requests (Server::request) by id: whom each went to, when it expires.
  struct Pending {
    std::string to;
    std::int64_t deadline;
    Reply done;
  };
  std::map<std::string, Pending, std::less<>> pending_;
  std::uint64_t requests_ = 0;
  Im im_{sessions_, *this};
  // Owns the hibernating sessions, which unbind themselves through the members above when
  // they end: so it is destroyed before them.
  SmacksSessions smacks_;
  // Last: modules refer to the rest, and register with it as they are built.
  ModuleTable table_{*this};
  const ModuleSet offline_ = table_.set_of({"offline"});
};

}  // namespace xmppd::router
