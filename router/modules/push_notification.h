// cloud_notify's pure parts (XEP-0357), apart from the router so that a unit test and a fuzz
// target link them alone: reading a client's <enable/> and <disable/>, what a registration
// keeps, which messages are worth waking a phone for, and the publish that tells the app
// server. Trust: the payloads come from a client and are checked here; a registration read
// back from the store was written here, but is checked again like anything stored.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "router/module.h"
#include "xml/element.h"

namespace xmppd::router::push {

inline constexpr std::string_view kPushNs = "urn:xmpp:push:0";
inline constexpr std::string_view kPublishOptions = "http://jabber.org/protocol/pubsub#publish-options";
// A registration larger than this (its publish options, mostly) is refused: an app server's
// secret and a handful of fields fit many times over.
inline constexpr std::size_t kMaxRegistrationBytes = 4096;

// One device's registration: the app server, the node it gave the device, and the
// publish-options form to send with every notification (an empty optional without one).
struct Registration {
  std::string jid, node;
  std::optional<xml::Element> options;

  // The item id in the store, as Prosody's identifier: the service and node, apart by '<'
  // (which neither a JID nor, in practice, a node has; a node with it only makes its own id).
  std::string id() const { return jid + "<" + node; }
  std::string serialize() const;
  static std::optional<Registration> parse(std::string_view stored);
};

// A stanza error: its type and condition, and a text for the client.
struct Refusal {
  std::string type, condition, text;
};

// An <enable/> from `account` (a bare JID), or why it is refused (XEP-0357 §5: bad-request
// for a malformed one). A service that is the account itself or another local account is
// not the user's to enable: local domains are told by `is_local`.
struct EnableOutcome {
  std::optional<Registration> registration;
  Refusal refusal;
};
EnableOutcome read_enable(const xml::Element& enable, const std::string& account,
                          const std::function<bool(std::string_view)>& is_local);

// A <disable/>: the service and, when given, the node; a refusal when the jid is missing or
// malformed.
struct DisableRequest {
  std::string jid;
  std::optional<std::string> node;
};
std::optional<DisableRequest> read_disable(const xml::Element& disable, Refusal& refusal);
// Whether a registration falls under a disable (all of the service's, or the one node).
bool matches(const DisableRequest& disable, const Registration& registration);

// Prosody's is_important: a message a user would want to be woken for. Chat and normal ones
// with a non-empty body, encrypted ones (whose body is no guide), and a call's proposal;
// never a headline, an error, a groupchat subject, or a receipt or chat state alone.
bool worth_pushing(const xml::Element& message);

// XEP-0198 hibernation (Hooks::session_hibernated): a push is due when the session has a
// registration and stanzas are waiting for it, as Prosody pushes for a non-empty queue.
bool push_on_hibernation(bool registered, std::size_t waiting);

// The IQ set to the app server (XEP-0357 §5), from the account: a PubSub publish of a
// notification with the urn:xmpp:push:summary form (message-count, and the sender and the
// body only when the options allow), and the registration's publish options.
xml::Element notification(const Registration& registration, const std::string& account, const xml::Element& message,
                          const PushOptions& options);

}  // namespace xmppd::router::push
