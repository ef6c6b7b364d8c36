#include "router/routing.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "common/log.h"
#include "router/c2s_stream.h"
#include "router/router_metrics.h"
#include "router/s2s_link.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using xmpp::kClientNs;

const ModuleSet kNoModules;

}  // namespace

void Routing::set_hosts(const std::vector<HostModules>& hosts, std::set<std::string> s2s_hosts) {
  hosts_.clear();
  for (const HostModules& h : hosts)
    hosts_.emplace(h.name, HostConfig{h.name, table_.set_of(h.modules), h.admins, h.contact_info, h.push, h.components, h.turn});
  s2s_hosts_ = std::move(s2s_hosts);
}

bool Routing::set_backends(AuthLink* auth, UserStore* store, S2sLink* s2s, std::string& error) {
  auth_ = auth;
  store_ = store;
  s2s_ = s2s;
  im_.set_store(store);
  items_ = ItemStore::open(*store, error);
  return items_.has_value();
}

void Routing::send(const xml::Element& stanza) {
  if (store_ == nullptr || !store_->batch_open() || stanza.name() != "iq" || stanza.attribute_or("type") != "result" ||
      store_->commit()) {
    deliver(stanza);
    return;
  }
  xml::Element failed(kClientNs, "iq", {{"type", "error"}});
  for (const char* name : {"id", "from", "to"})
    if (const std::string* value = stanza.attribute(name)) failed.set_attribute(name, *value);
  xml::Element& error = failed.add_child(xml::Element(kClientNs, "error", {{"type", "wait"}}));
  error.add_child(xml::Element("urn:ietf:params:xml:ns:xmpp-stanzas", "internal-server-error"));
  deliver(failed);
}

const HostConfig* Routing::host(std::string_view domain) const {
  auto it = hosts_.find(domain);
  return it == hosts_.end() ? nullptr : &it->second;
}

const ModuleSet& Routing::modules_of(std::string_view domain) const {
  const HostConfig* h = host(domain);
  return h != nullptr ? h->modules : kNoModules;
}

void Routing::stream_features(const std::string& domain, std::string& out) const {
  if (const HostConfig* h = host(domain)) table_.stream_features(*h, out);
}

bool Routing::bind(ClientStream& stream, const std::string& resource) {
  // A login that takes over one of its own resources does not add one.
  if (sessions_.find(stream.bare(), resource) == nullptr && sessions_.count(stream.bare()) >= quotas_.sessions)
    return false;
  // The session replaced ends first, as in Prosody: what it leaves undelivered is then
  // handled as the account's last session's (kept offline for the newcomer), not bounced
  // because the newcomer is bound.
  if (ClientStream* previous = sessions_.find(stream.bare(), resource); previous != nullptr && previous != &stream)
    previous->replaced();
  if (ClientStream* previous = sessions_.bind(stream.bare(), resource, stream)) previous->replaced();
  table_.hooks().session_bound.fire(modules_of(stream.domain()), stream);
  return true;
}

void Routing::unbind(ClientStream& stream) {
  table_.hooks().session_ended.fire(modules_of(stream.domain()), stream);
  held_for_s2s_.erase(&stream);
  backlogs_.erase(&stream);  // what was not written stays stored
  const std::string& full = stream.full();
  sessions_.unbind(stream.bare(), full.substr(full.find('/') + 1), stream);
}

void Routing::bounce(const xml::Element& stanza, std::string_view type, std::string_view condition,
                     std::string_view text) {
  if (xmpp::is_error(stanza)) return;
  router_counters().bounced(condition);
  deliver(xmpp::error_reply(stanza, type, condition, text));
}

// Replies go back where their stanza came from: a local sender is a full JID, hence one
// session (gone by now, perhaps); a remote one is reached through the link.
void Routing::deliver(const xml::Element& stanza) {
  const std::string* to_text = stanza.attribute("to");
  auto to = to_text != nullptr ? xmpp::Jid::parse(*to_text) : std::nullopt;
  if (!to) return;
  if (!is_local(to->domain())) {
    send_remote(stanza);
  } else if (ClientStream* target = sessions_.find(to->bare(), to->resource())) {
    target->deliver(stanza);
  }
}

// Only from a host whose users may talk to other servers, to a domain that is not local. A
// component of this router is not another server: what is for it goes to it, from any host.
bool Routing::send_remote(const xml::Element& stanza) {
  const std::string* from_text = stanza.attribute("from");
  const std::string* to_text = stanza.attribute("to");
  auto from = from_text != nullptr ? xmpp::Jid::parse(*from_text) : std::nullopt;
  auto to = to_text != nullptr ? xmpp::Jid::parse(*to_text) : std::nullopt;
  if (!from || !to) return false;
  if (is_component(to->domain())) {
    to_component(stanza, *from, *to);
    return true;
  }
  if (s2s_hosts_.count(from->domain()) == 0 || is_local(to->domain())) return false;
  return s2s_ != nullptr && s2s_->send(from->domain(), to->domain(), stanza);
}

void Routing::set_components(std::set<std::string> domains) {
  std::map<std::string, Component*, std::less<>> kept;
  for (const std::string& domain : domains) {
    auto it = components_.find(domain);
    kept.emplace(domain, it != components_.end() ? it->second : nullptr);
  }
  components_ = std::move(kept);
}

bool Routing::attach_component(std::string_view domain, Component* component) {
  auto it = components_.find(domain);
  if (it == components_.end()) return false;
  it->second = component;
  return true;
}

void Routing::to_component(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  auto it = components_.find(to.domain());
  if (it == components_.end()) return;
  if (it->second == nullptr) {
    bounce(stanza, "cancel", "service-unavailable", "The component is not connected");
    return;
  }
  it->second->receive(stanza, from, to);
}

void Routing::from_component(xml::Element stanza) {
  auto from = xmpp::Jid::parse(stanza.attribute_or("from"));
  auto to = xmpp::Jid::parse(stanza.attribute_or("to"));
  if (!from || !to) return;
  if (is_component(to->domain())) {
    to_component(stanza, *from, *to);
  } else if (!is_local(to->domain())) {
    if (!send_remote(stanza)) bounce(stanza, "cancel", "remote-server-not-found");
  } else if (stanza.name() == "presence") {
    im_.inbound_presence(stanza, *to);
  } else if (stanza.name() == "iq" && !to->has_resource()) {
    iq_for_server(stanza, *to, nullptr);  // an account's vCard or PEP, as for another server
  } else {
    to_local(stanza, *to);
  }
}

void Routing::route(ClientStream& from, xml::Element stanza) {
  // The server says who sent it, whatever the client claimed (RFC 6120 §8.1.2.1).
  stanza.set_attribute("from", from.full());
  const std::string* to_text = stanza.attribute("to");
  // Without 'to', a stanza is for the sender's own account (RFC 6120 §10.3).
  auto to = to_text != nullptr ? xmpp::Jid::parse(*to_text) : xmpp::Jid::parse(from.bare());
  if (!to) {
    // The server made the error: from its domain, not from the malformed JID, on which a
    // client that prepares JIDs (slixmpp) would drop its stream.
    stanza.set_attribute("to", std::string(from.domain()));
    bounce(stanza, "modify", "jid-malformed");
    return;
  }
  if (stanza.name() == "presence" && to_text == nullptr) return;  // broadcast comes with rosters
  if (stanza.name() == "message" && table_.hooks().message_sent.run(modules_of(from.domain()), from, stanza, *to))
    return;
  // XEP-0191 outbound: a presence or IQ the client addressed to someone else.
  if (stanza.name() != "message" && to_text != nullptr && !table_.hooks().stanza_sent.empty() &&
      table_.hooks().stanza_sent.run(modules_of(from.domain()), from, stanza, *to))
    return;
  // A presence for a component is directed presence as for a remote address: remembered,
  // so that the component learns when the session goes (a MUC room, RFC 6121 §4.6).
  if (is_component(to->domain())) {
    stanza.set_attribute("to", to->full());  // prepared, as for another server
    if (stanza.name() != "presence") {
      to_component(stanza, *xmpp::Jid::parse(from.full()), *to);
      return;
    }
  }
  if (!is_local(to->domain()) && !is_component(to->domain())) {
    to_remote(std::move(stanza), from, *to);
    return;
  }
  if (stanza.name() == "presence") {
    im_.outbound_presence(from, stanza, *to);
    return;
  }
  if (stanza.name() == "iq" && !to->has_resource()) {
    iq_for_server(stanza, *to, &from);
    return;
  }
  to_local(stanza, *to);
}

// Presence between users passes the modules in Im: from a local user, then to a local one.
bool Routing::presence_filtered(const xml::Element& presence, const xmpp::Jid& to) {
  const Hooks& hooks = table_.hooks();
  if (hooks.presence_from_user.empty() && hooks.stanza_for_user.empty()) return false;
  auto from = xmpp::Jid::parse(presence.attribute_or("from"));
  if (!from) return false;
  if (from->has_local() && is_local(from->domain()) &&
      hooks.presence_from_user.run(modules_of(from->domain()), presence, *from, to))
    return true;
  return to.has_local() && is_local(to.domain()) && hooks.stanza_for_user.run(modules_of(to.domain()), presence, to);
}

void Routing::broadcast(ClientStream& from, xml::Element& presence, bool initial) {
  const ModuleSet& enabled = modules_of(from.domain());
  table_.hooks().presence_broadcast.fire(enabled, from, presence);
  if (presence.attribute("type") == nullptr) from.set_last_presence(presence);
  im_.broadcast(from, presence);
  if (!initial) return;
  im_.initial_presence(from);
  became_available(from);
  table_.hooks().session_available.fire(enabled, from);
}

bool Routing::filter_delivery(ClientStream& to, const xml::Element& stanza) {
  return !table_.hooks().session_delivery.run(modules_of(to.domain()), to, stanza);
}

bool Routing::stream_element(ClientStream& from, const xml::Element& element) {
  return table_.hooks().stream_element.run(modules_of(from.domain()), from, element);
}

void Routing::iq_for_server(const xml::Element& iq, const xmpp::Jid& to, ClientStream* session) {
  std::string type = iq.attribute_or("type");
  if (type != "get" && type != "set") {
    answered(iq);  // a result or an error: for a request of the server's, or else dropped
    return;
  }
  auto children = iq.children();
  if (children.size() != 1) {
    bounce(iq, "modify", "bad-request");
    return;
  }
  auto from = xmpp::Jid::parse(iq.attribute_or("from"));
  if (!from) return;
  IqRequest request{iq, *children.front(), *from, to, session};
  IqScope scope = to.has_local() ? IqScope::kAccount : IqScope::kServer;
  if (to.has_local() && !request.from_self() &&
      table_.hooks().stanza_for_user.run(modules_of(to.domain()), iq, to))
    return;
  if (!table_.handle_iq(scope, request, modules_of(to.domain()))) bounce(iq, "cancel", "service-unavailable");
}

void Routing::to_remote(xml::Element stanza, ClientStream& from, const xmpp::Jid& to) {
  if (s2s_hosts_.count(from.bare().substr(from.bare().find('@') + 1)) == 0) {
    bounce(stanza, "cancel", "not-allowed", "Communication with remote domains is not enabled");
    return;
  }
  // The worker and the remote server see the address in its prepared form.
  stanza.set_attribute("to", to.full());
  bool sent = stanza.name() == "presence" ? im_.outbound_presence(from, stanza, to) : send_remote(stanza);
  if (sent) {
    // The sender waits while the link is behind: a client that sends faster than the
    // servers between it and its peers can carry is slowed by TCP, not answered with errors.
    if (s2s_ != nullptr && s2s_->congested() && held_for_s2s_.insert(&from).second) from.pause_reading(true);
    return;
  }
  if (s2s_ != nullptr && s2s_->congested())
    bounce(stanza, "wait", "resource-constraint", "The server-to-server service is busy");
  else
    bounce(stanza, "cancel", "remote-server-not-found", "The server-to-server service is unavailable");
}

void Routing::s2s_caught_up() {
  for (ClientStream* stream : std::exchange(held_for_s2s_, {})) stream->pause_reading(false);
}

void Routing::from_remote(xml::Element stanza, const xmpp::Jid& to) {
  if (s2s_hosts_.count(to.domain()) == 0) {
    log::info("s2s: a stanza for %s, which does not talk to other servers, is dropped", to.domain().c_str());
    return;
  }
  if (is_component(to.domain())) {
    if (auto from = xmpp::Jid::parse(stanza.attribute_or("from"))) to_component(stanza, *from, to);
    return;
  }
  if (stanza.name() == "presence") {
    // A remote contact's client's presence, for the modules that follow it (XEP-0115 caps
    // for PEP), unless the user blocked it; a local contact's they see as it is broadcast.
    if (!im_.inbound_presence(stanza, to)) return;
    const Hooks& hooks = table_.hooks();
    std::string type = stanza.attribute_or("type");
    if (!hooks.presence_received.empty() && (type.empty() || type == "unavailable"))
      hooks.presence_received.fire(modules_of(to.domain()), stanza, to);
  } else if (stanza.name() == "iq" && !to.has_resource())
    iq_for_server(stanza, to, nullptr);
  else
    to_local(stanza, to);
}

// The local paths, whoever sent the stanza.
void Routing::to_local(const xml::Element& stanza, const xmpp::Jid& to) {
  if (!to.has_local()) {
    if (stanza.name() == "iq") iq_for_server(stanza, to, nullptr);
    return;  // a message or presence for the server itself: nothing to do with it
  }
  to_local_user(stanza, to);
}

void Routing::to_user(const xml::Element& stanza, const xmpp::Jid& to) { to_local_user(stanza, to); }

void Routing::to_local_user(const xml::Element& stanza, const xmpp::Jid& to) {
  const ModuleSet& enabled = modules_of(to.domain());
  const Hooks& hooks = table_.hooks();
  if (!hooks.stanza_for_user.empty() && hooks.stanza_for_user.run(enabled, stanza, to)) return;
  if (stanza.name() == "message" && hooks.message_received.any(enabled)) {
    xml::Element stamped = stanza;
    hooks.message_received.fire(enabled, stamped, to);
    deliver_to_user(stamped, to);
    return;
  }
  deliver_to_user(stanza, to);
}

void Routing::deliver_to_user(const xml::Element& stanza, const xmpp::Jid& to) {
  const ModuleSet& enabled = modules_of(to.domain());
  const Hooks& hooks = table_.hooks();
  const std::string& bare = to.bare();
  if (to.has_resource()) {
    if (ClientStream* target = sessions_.find(bare, to.resource())) {
      target->deliver(stanza);
      if (stanza.name() == "message") hooks.message_delivered.fire(enabled, stanza, to, std::span(&target, 1));
      return;
    }
    // RFC 6121 §8.5.3.2: a message for an unavailable resource is treated as for the bare JID.
    if (stanza.name() == "message") message_to_bare(stanza, bare);
    // RFC 6120 §8.5.3.2.1: a request gets an error; a result or an error is dropped.
    std::string type = stanza.attribute_or("type");
    if (stanza.name() == "iq" && (type == "get" || type == "set")) bounce(stanza, "cancel", "service-unavailable");
    return;
  }
  if (stanza.name() == "message") message_to_bare(stanza, bare);
}

// RFC 6121 §8.5.2.1: the available resources of non-negative priority; a normal message to
// the highest of them, chat (as Prosody does) and headline to all.
void Routing::message_to_bare(const xml::Element& message, const std::string& bare) {
  std::string type = message.attribute_or("type", "normal");
  if (type == "error") return;
  std::vector<ClientStream*> targets;
  int best = -1;
  for (ClientStream* s : sessions_.resources(bare)) {
    if (!s->available() || s->priority() < 0) continue;
    targets.push_back(s);
    best = std::max(best, s->priority());
  }
  if (type == "normal")
    targets.erase(std::remove_if(targets.begin(), targets.end(), [best](ClientStream* s) { return s->priority() != best; }),
                  targets.end());
  if (type == "groupchat") {
    bounce(message, "cancel", "service-unavailable");
    return;
  }
  auto to = xmpp::Jid::parse(bare);
  const ModuleSet& enabled = modules_of(to->domain());
  if (targets.empty()) {
    // XEP-0160: normal and chat messages wait; headlines are not worth keeping.
    if ((type == "normal" || type == "chat") && (enabled & offline_).any()) keep_offline(message, bare);
    table_.hooks().message_delivered.fire(enabled, message, *to, {});
    return;
  }
  // Serialized once for every resource it goes to, unless a module filters what a session gets.
  std::string serialized;
  message.serialize(serialized, kClientNs);
  for (ClientStream* s : targets) {
    if (s->filtered())
      s->deliver(message);
    else
      s->deliver_raw(serialized);
  }
  table_.hooks().message_delivered.fire(enabled, message, *to, targets);
}

// Written durably at once, before the router reads the sender's next stanza, with the time
// it arrived (XEP-0203); dropped again, and the sender told, if the auth helper (which
// alone knows the accounts) says there is no such user.
void Routing::keep_offline(const xml::Element& message, const std::string& bare) {
  if (auth_ == nullptr || store_ == nullptr) {
    bounce(message, "cancel", "service-unavailable");
    return;
  }
  std::size_t at = bare.find('@');
  std::string host = bare.substr(at + 1);
  xml::Element stamped = message;
  std::time_t now = std::time(nullptr);
  // One that was kept before (an unacknowledged one back from a session) has its stamp.
  if (!was_offline(message, host)) {
    xml::Element delay("urn:xmpp:delay", "delay");
    delay.set_attribute("from", host);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    delay.set_attribute("stamp", stamp);
    stamped.add_child(std::move(delay));
  }
  std::string serialized;
  stamped.serialize(serialized, kClientNs);
  std::int64_t id = 0;
  UserStore::Outcome outcome =
      store_->store_offline(bare, serialized, now, {quotas_.offline_messages, quotas_.offline_bytes}, &id);
  if (outcome == UserStore::Outcome::kOverQuota) {
    // As ejabberd does: the sender learns that this message was not kept, and may retry.
    bounce(message, "wait", "resource-constraint", "The recipient's offline message storage is full");
    return;
  }
  if (outcome != UserStore::Outcome::kStored) {
    // Not resource-constraint: the recipient's storage is not full, and the sender should not
    // be told it is.
    bounce(message, "wait", "internal-server-error");
    return;
  }
  // Unknown (the auth helper restarting) keeps the message: only a "no" drops it.
  auth_->user_exists(host, bare.substr(0, at), [this, message, id](std::optional<bool> exists) {
    if (!exists.has_value() || *exists) return;
    store_->delete_offline_message(id);
    bounce(message, "cancel", "service-unavailable");  // to the sender, wherever it is by now
  });
}

bool Routing::was_offline(const xml::Element& message, std::string_view host) const {
  for (const xml::Element* c : message.children())
    if (c->is("urn:xmpp:delay", "delay") && c->attribute_or("from") == host) return true;
  return false;
}

void Routing::keep_unacknowledged(const xml::Element& message, const std::string& bare, bool announce) {
  auto to = xmpp::Jid::parse(bare);
  if (!to) return;
  const ModuleSet& enabled = modules_of(to->domain());
  if ((enabled & offline_).none()) {
    bounce(message, "cancel", "recipient-unavailable");
    return;
  }
  keep_offline(message, bare);
  if (announce) table_.hooks().message_delivered.fire(enabled, message, *to, {});
}

void Routing::request(xml::Element iq, Reply done) {
  // Enough for the caps queries of many logins at once; past it a request fails at once.
  constexpr std::size_t kMaxPending = 1024;
  constexpr std::int64_t kTimeout = 30;
  expire_requests();
  if (pending_.size() >= kMaxPending) {
    done(nullptr);
    return;
  }
  std::string id = "xmppd-" + std::to_string(++requests_);
  iq.set_attribute("id", id);
  if (iq.attribute_or("type") != "set") iq.set_attribute("type", "get");
  pending_.emplace(id, Pending{iq.attribute_or("to"), std::time(nullptr) + kTimeout, std::move(done)});
  deliver(iq);
}

bool Routing::answered(const xml::Element& iq) {
  if (pending_.empty()) return false;
  auto it = pending_.find(iq.attribute_or("id"));
  // Only the entity asked answers (its address as the request had it, or prepared).
  if (it == pending_.end()) return false;
  auto from = xmpp::Jid::parse(iq.attribute_or("from"));
  auto to = xmpp::Jid::parse(it->second.to);
  if (!from || !to || from->full() != to->full()) return false;
  Reply done = std::move(it->second.done);
  pending_.erase(it);
  done(&iq);
  expire_requests();
  return true;
}

void Routing::expire_requests() {
  std::int64_t now = std::time(nullptr);
  std::vector<Reply> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    expired.push_back(std::move(it->second.done));
    it = pending_.erase(it);
  }
  for (Reply& done : expired) done(nullptr);  // which may make requests of its own
}

void Routing::became_available(ClientStream& stream) {
  if (store_ == nullptr || backlogs_.count(&stream) > 0) return;
  Backlog backlog;
  // Messages go to a resource of non-negative priority (RFC 6121 §8.5.2.1), and to one
  // resource at a time: two logins at once do not both get them.
  backlog.offline = stream.priority() >= 0;
  for (const auto& [other, b] : backlogs_)
    if (b.offline && other->bare() == stream.bare()) backlog.offline = false;
  backlogs_.emplace(&stream, backlog);
  pump(stream);
}

void Routing::drained(ClientStream& stream) {
  if (backlogs_.count(&stream) > 0) pump(stream);
}

void Routing::hibernated(ClientStream& stream) {
  auto it = backlogs_.find(&stream);
  if (it == backlogs_.end() || it->second.unacknowledged == 0) return;
  store_->delete_offline(stream.bare(), std::exchange(it->second.unacknowledged, 0));
}

void Routing::pump(ClientStream& stream) {
  // A batch: enough to keep the connection busy for a while, small beside the 4 MiB the
  // transport lets a session queue.
  constexpr std::size_t kBatchStanzas = 32;
  constexpr std::size_t kBatchBytes = 64 << 10;
  for (;;) {
    auto it = backlogs_.find(&stream);
    if (it == backlogs_.end()) return;
    Backlog& b = it->second;
    // Gone or going: what was not written stays stored for the next login, unless a queue of
    // unacknowledged stanzas (XEP-0198) has it, which keeps it again when the session ends.
    if (!stream.sending()) {
      if (b.unacknowledged > 0 && stream.stream_management() != nullptr)
        store_->delete_offline(stream.bare(), std::exchange(b.unacknowledged, 0));
      backlogs_.erase(it);
      return;
    }
    if (stream.queued() > 0) {
      stream.wait_for_drain();
      return;
    }
    // The session's queue is empty: everything handed over has been written to it.
    if (b.unacknowledged > 0) {
      store_->delete_offline(stream.bare(), std::exchange(b.unacknowledged, 0));
      continue;
    }
    if (!b.requests_done) {
      auto requests = store_->subscription_requests(stream.bare(), b.requests_after, kBatchStanzas);
      b.requests_done = requests.size() < kBatchStanzas;
      for (const auto& r : requests) stream.deliver_raw(r.stanza);
      if (!requests.empty()) b.requests_after = requests.back().rowid;
      continue;
    }
    auto messages = b.offline ? store_->offline(stream.bare(), b.offline_after, kBatchStanzas, kBatchBytes)
                              : std::vector<UserStore::Offline>{};
    if (messages.empty()) {
      backlogs_.erase(it);
      return;
    }
    for (const auto& m : messages) stream.deliver_raw(m.stanza);
    b.offline_after = b.unacknowledged = messages.back().id;
  }
}

// As Prosody does: the contacts see the account's sessions go and lose their subscriptions
// both ways, so that an account made later with the same name inherits none of them.
void Routing::user_removed(const std::string& bare) {
  for (ClientStream* s : sessions_.resources(bare)) s->revoked("Account removed");
  im_.unsubscribe_all(bare);
  table_.hooks().user_removed.fire(modules_of(bare.substr(bare.find('@') + 1)), bare);
  if (store_ != nullptr && store_->remove_user(bare) != UserStore::Outcome::kStored)
    log::error("the data of removed account %s could not all be removed", bare.c_str());
}

}  // namespace xmppd::router
