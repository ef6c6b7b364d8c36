// The router's extension design: each IM feature is a Module in a file of its own
// (router/modules/), named as Prosody names it, so that modules_enabled and modules_disabled
// switch it per VirtualHost.
//
// A module plugs in two ways, both typed:
//  - IQ handlers, keyed by the payload's namespace and element name and by whom the IQ is
//    addressed to (the server, or an account), as ejabberd's IQ handler registry does;
//  - hooks (Hooks below): events the router announces (a session bound, a presence sent, a
//    user removed) and filters a stanza passes through (a message from a client, a stanza
//    for a local user), as Prosody's module events do.
// What a module contributes to disco#info, account disco and stream features it says itself;
// nothing is listed by hand elsewhere.
//
// Trust: modules run inside the router and see stanzas after the router checked their
// addresses: 'from' is the sender's real address. Payloads are whatever the sender wrote;
// each handler validates its own.
#pragma once

#include <bitset>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router {

class ClientStream;
class Module;

// The modules a host enables, by Module::index().
using ModuleSet = std::bitset<64>;

// cloud_notify's options (XEP-0357; xmppd.conf(5)).
struct PushOptions {
  bool with_body = false, with_sender = false;
  std::size_t max_errors = 16, max_devices = 5;
};

// turn_external's options (XEP-0215; xmppd.conf(5)): the TURN server and its shared secret.
struct TurnOptions {
  std::string secret, host;
  unsigned port = 3478, ttl = 86400;
  bool tcp = false;
  std::string user;       // turn_external_user: in the user name after the expiry
  unsigned tls_port = 0;  // turn_external_tls_port: a turns service; 0: none
};

// What a VirtualHost runs, and the options its modules read (RouterSettings.host_modules).
struct HostConfig {
  std::string name;
  ModuleSet modules;
  std::vector<std::string> admins;  // bare JIDs
  // contact_info (XEP-0157): a field ("abuse", "admin", ...) and its addresses.
  std::vector<std::pair<std::string, std::vector<std::string>>> contact_info;
  PushOptions push;
  // Components that are subdomains of the host (a MUC service), listed in its disco#items
  // as Prosody lists them, so that clients find the host's group chat service.
  std::vector<std::string> components;
  std::optional<TurnOptions> turn;  // turn_external with a secret
};

// An IQ get or set for a handler: the stanza, its single payload, and its addresses parsed.
struct IqRequest {
  const xml::Element& stanza;
  const xml::Element& payload;
  const xmpp::Jid& from;
  // For an IQ without 'to', the sender's bare JID (RFC 6120 §10.3.3: handled on behalf of
  // the account).
  const xmpp::Jid& to;
  // The sender's session when it is a local client, else nullptr (another server's user).
  ClientStream* session;
  bool set() const { return stanza.attribute_or("type") == "set"; }
  // The sender is the account the IQ is addressed to.
  bool from_self() const { return from.bare() == to.bare(); }
};

// Whom an IQ handler serves.
enum class IqScope {
  kServer,   // addressed to a local domain
  kAccount,  // addressed to a local user's bare JID (or without 'to'), from the user or anyone
};

// A list of functions, each registered by a module, run for the hosts that enable it, in the
// order the modules were registered.
template <typename... Args>
class Event {
 public:
  void add(const Module& module, std::function<void(Args...)> function) {
    handlers_.emplace_back(&module, std::move(function));
  }
  void fire(const ModuleSet& enabled, Args... args) const;
  bool empty() const { return handlers_.empty(); }
  // Some module of `enabled` handles it (a caller that must copy a stanza first asks).
  bool any(const ModuleSet& enabled) const {
    for (const auto& handler : handlers_)
      if (handler.first->enabled(enabled)) return true;
    return false;
  }

 private:
  std::vector<std::pair<const Module*, std::function<void(Args...)>>> handlers_;
};

// The same, for filters: a function returns true when it took the stanza (answered,
// dropped, or delivered it itself), and the ones after it are not run.
template <typename... Args>
class Filter {
 public:
  void add(const Module& module, std::function<bool(Args...)> function) {
    handlers_.emplace_back(&module, std::move(function));
  }
  bool run(const ModuleSet& enabled, Args... args) const;
  bool empty() const { return handlers_.empty(); }

 private:
  std::vector<std::pair<const Module*, std::function<bool(Args...)>>> handlers_;
};

// Every event and filter of the router. Each names its moment; the stanza paths in
// routing.cc say where they run.
struct Hooks {
  // A resource is bound; the session is not available yet.
  Event<ClientStream&> session_bound;
  // A session's first available presence, after the router sent it to the contacts.
  Event<ClientStream&> session_available;
  // A presence a local session broadcasts (available or not), before it goes to its
  // contacts: a module may add to it (XEP-0153's photo hash).
  Event<ClientStream&, xml::Element&> presence_broadcast;
  // An available or unavailable presence for a local user from a contact, local or remote,
  // as it is delivered (XEP-0115 caps of the contact's client, for PEP notifications).
  Event<const xml::Element&, const xmpp::Jid&> presence_received;
  // A session ends (after its unavailable presence went out).
  Event<ClientStream&> session_ended;
  // XEP-0198: a session's connection was lost and the session waits to be resumed
  // (ClientStream::hibernating()); stanzas for it are queued, not written (XEP-0357 pushes).
  Event<ClientStream&> session_hibernated;
  // XEP-0198: a hibernating session was resumed on a new connection.
  Event<ClientStream&> session_resumed;
  // An account is removed: whatever a module keeps for it goes (its sessions are ending).
  Event<const std::string&> user_removed;

  // A message from a local client, its 'from' stamped, to its parsed 'to' (the sender's
  // bare JID when it had none), before it is routed (XEP-0191 outbound, XEP-0280 sent copies).
  // A filter may change the message (XEP-0280 removes <private/>).
  Filter<ClientStream&, xml::Element&, const xmpp::Jid&> message_sent;
  // A presence or IQ from a local client to someone else (its parsed 'to'), its 'from'
  // stamped, before it is routed (XEP-0191 outbound). Messages pass message_sent instead.
  Filter<ClientStream&, const xml::Element&, const xmpp::Jid&> stanza_sent;
  // A stanza for a local user from anyone, before it is delivered or kept (XEP-0191 inbound).
  // Presence passes it too, in Im (router/roster.cc), whatever its type, as it reaches the
  // user; a filter that takes a presence drops it.
  Filter<const xml::Element&, const xmpp::Jid&> stanza_for_user;
  // A presence the server sends on a local user's behalf (`from`, the user's JID) to anyone
  // (`to`): broadcast, directed, a probe or its answer, a subscription change, in Im before
  // it leaves: true drops it (XEP-0191: a blocked contact gets nothing from the user).
  Filter<const xml::Element&, const xmpp::Jid&, const xmpp::Jid&> presence_from_user;
  // A message for a local user (`to`, a bare or full JID) was delivered to these sessions
  // (none: kept offline, or dropped): XEP-0280 received copies.
  Event<const xml::Element&, const xmpp::Jid&, std::span<ClientStream* const>> message_delivered;
  // A message for a local user (`to`), past the stanza_for_user filters, before it is
  // delivered or kept offline: a module may add to it (XEP-0359's stanza-id, which the
  // recipient's sessions, the offline store and XEP-0280 copies then all carry).
  Event<xml::Element&, const xmpp::Jid&> message_received;
  // A stanza about to be written to a session whose delivery is filtered
  // (ClientStream::filtered(), XEP-0352): true when the module holds it back.
  Filter<ClientStream&, const xml::Element&> session_delivery;
  // A top-level element of an established client stream outside jabber:client (a nonza:
  // XEP-0352's <active/> and <inactive/>): true when a module took it; else it is routed as
  // a stanza would be.
  Filter<ClientStream&, const xml::Element&> stream_element;
};

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Prosody's module name, which modules_enabled and modules_disabled use.
  std::string_view name() const { return name_; }
  std::size_t index() const { return index_; }
  bool enabled(const ModuleSet& set) const { return set.test(index_); }

  // disco#info of the server (XEP-0030) and of a user's account; stream features after
  // authentication (RFC 6120 §4.3.2), as XML text.
  virtual void server_features(std::vector<std::string>& features) const { (void)features; }
  virtual void account_features(std::vector<std::string>& features) const { (void)features; }
  virtual void account_identities(std::vector<std::pair<std::string, std::string>>& identities) const {
    (void)identities;
  }
  virtual void stream_features(const HostConfig& host, std::string& out) const {
    (void)host;
    (void)out;
  }
  // Items of a local user's account disco#items (XEP-0030 §4), for `from`, who may see them.
  virtual void account_items(const std::string& bare, const xmpp::Jid& from, xml::Element& query) {
    (void)bare;
    (void)from;
    (void)query;
  }
  // XEP-0128 data forms added to the server's disco#info (XEP-0157 contact addresses).
  virtual void server_forms(const HostConfig& host, std::vector<xml::Element>& forms) const {
    (void)host;
    (void)forms;
  }

 protected:
  Module(std::string_view name, std::size_t index) : name_(name), index_(index) {}

 private:
  std::string name_;
  std::size_t index_;
};

template <typename... Args>
void Event<Args...>::fire(const ModuleSet& enabled, Args... args) const {
  for (const auto& [module, function] : handlers_)
    if (module->enabled(enabled)) function(args...);
}

template <typename... Args>
bool Filter<Args...>::run(const ModuleSet& enabled, Args... args) const {
  for (const auto& [module, function] : handlers_)
    if (module->enabled(enabled) && function(args...)) return true;
  return false;
}

}  // namespace xmppd::router
