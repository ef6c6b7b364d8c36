// carbons (XEP-0280): a user's sessions that enable carbons get a copy of the messages the
// user's other sessions send (<sent/>) and of those delivered to them (<received/>), so that
// every device sees both sides of a conversation. XEP-0334's <no-copy/> and XEP-0280's own
// <private/> keep a message out of it.
//
// State: the sessions that enabled carbons, by bare JID, and nothing else. A user without
// them costs one empty-map test per message.
#include <algorithm>
#include <unordered_map>
#include <utility>

#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kCarbonsNs = "urn:xmpp:carbons:2";
constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";
constexpr std::string_view kHintsNs = "urn:xmpp:hints";
constexpr std::string_view kMucUserNs = "http://jabber.org/protocol/muc#user";

// A payload that clients show in a conversation without a body (XEP-0280 §6 leaves the
// rules to the server and asks for their intent: what a user sees as part of a chat).
bool has_im_payload(const xml::Element& message) {
  for (const xml::Element* c : message.children()) {
    const std::string& ns = c->ns();
    if (ns == "http://jabber.org/protocol/chatstates" || ns == "urn:xmpp:receipts" || ns == "urn:xmpp:chat-markers:0" ||
        ns == "urn:xmpp:jingle-message:0" || c->is("jabber:x:conference", "x") ||
        c->is("eu.siacs.conversations.axolotl", "encrypted") ||
        (c->is(kMucUserNs, "x") && c->child(kMucUserNs, "invite") != nullptr))
      return true;
  }
  return false;
}

// XEP-0280 §6. `received`: the message came to the user (a MUC private message, which carries
// a muc#user <x/> and was sent to one full JID, stays with that session).
bool eligible(const xml::Element& message, const xmpp::Jid& to, bool received) {
  if (message.child(kCarbonsNs, "private") != nullptr || message.child(kHintsNs, "no-copy") != nullptr) return false;
  // Copies are never copied again, whoever claims to send them.
  if (message.child(kCarbonsNs, "sent") != nullptr || message.child(kCarbonsNs, "received") != nullptr) return false;
  std::string type = message.attribute_or("type", "normal");
  if (type == "groupchat") return false;
  if (received && to.has_resource() && message.child(kMucUserNs, "x") != nullptr) return false;
  if (type == "chat") return true;
  bool body = message.child(xmpp::kClientNs, "body") != nullptr;
  if (type == "normal" && body) return true;
  // An error is eligible when it answers an eligible message (§6); the router keeps no record
  // of what it copied, so an error that returns the original's body or chat payload (RFC 6120
  // §8.3.1) stands for it.
  return (type == "normal" || type == "error") && (body || has_im_payload(message));
}

// <message from=bare to=session><sent|received><forwarded><message .../></forwarded></...>
xml::Element wrap(const xml::Element& message, std::string_view direction, const std::string& bare,
                  const ClientStream& to) {
  xml::Element copy(xmpp::kClientNs, "message");
  copy.set_attribute("from", bare);
  copy.set_attribute("to", to.full());
  copy.set_attribute("type", message.attribute_or("type", "normal"));
  xml::Element forwarded(kForwardNs, "forwarded");
  forwarded.add_child(message);
  xml::Element carbon(kCarbonsNs, std::string(direction));
  carbon.add_child(std::move(forwarded));
  copy.add_child(std::move(carbon));
  return copy;
}

// The message without its <private/> element(s).
xml::Element without_private(const xml::Element& message) {
  xml::Element out(message.shared_ns(), message.name(), message.attributes());
  for (const xml::Element* c : message.children())
    if (!c->is(kCarbonsNs, "private")) out.add_child(*c);
  return out;
}

class Carbons final : public Module {
 public:
  explicit Carbons(const ModuleContext& context) : Module("carbons", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kAccount, kCarbonsNs, "enable", *this,
                        [this](const IqRequest& iq) { toggle(iq, true); });
    context.table.on_iq(IqScope::kAccount, kCarbonsNs, "disable", *this,
                        [this](const IqRequest& iq) { toggle(iq, false); });
    Hooks& hooks = context.table.hooks();
    hooks.message_sent.add(*this, [this](ClientStream& from, xml::Element& message, const xmpp::Jid& to) {
      return sent(from, message, to);
    });
    hooks.message_delivered.add(
        *this, [this](const xml::Element& message, const xmpp::Jid& to, std::span<ClientStream* const> targets) {
          received(message, to, targets);
        });
    hooks.session_ended.add(*this, [this](ClientStream& stream) { forget(stream); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kCarbonsNs); }
  // As Prosody: clients look for it on their own account too.
  void account_features(std::vector<std::string>& features) const override { features.emplace_back(kCarbonsNs); }

 private:
  // Only a session of the account itself switches its own carbons (XEP-0280 §4, §5); asking
  // again what is already so is answered with a result (§10.1).
  void toggle(const IqRequest& iq, bool enable) {
    if (!iq.set()) return server_.bounce(iq.stanza, "modify", "bad-request");
    if (iq.session == nullptr || !iq.from_self()) return server_.bounce(iq.stanza, "cancel", "not-allowed");
    if (enable)
      remember(*iq.session);
    else
      forget(*iq.session);
    server_.send(xmpp::reply(iq.stanza, "result"));
  }

  void remember(ClientStream& stream) {
    auto& sessions = enabled_[stream.bare()];
    if (std::find(sessions.begin(), sessions.end(), &stream) == sessions.end()) sessions.push_back(&stream);
  }

  void forget(ClientStream& stream) {
    if (enabled_.empty()) return;
    auto it = enabled_.find(stream.bare());
    if (it == enabled_.end()) return;
    std::erase(it->second, &stream);
    if (it->second.empty()) enabled_.erase(it);
  }

  const std::vector<ClientStream*>* enabled_sessions(const std::string& bare) const {
    if (enabled_.empty()) return nullptr;
    auto it = enabled_.find(bare);
    return it == enabled_.end() ? nullptr : &it->second;
  }

  // A message from a local session. A <private/> one gets no copies, and the element goes
  // before the recipient sees it (§7: the receiving server removes it; when the recipient is
  // local, that is this server, which then delivers it itself and makes no received copies).
  bool sent(ClientStream& from, xml::Element& message, const xmpp::Jid& to) {
    if (message.child(kCarbonsNs, "private") != nullptr) {
      if (!server_.is_local(to.domain()) || !to.has_local()) return false;
      xml::Element stripped = without_private(message);
      delivering_private_ = true;
      server_.to_user(stripped, to);
      delivering_private_ = false;
      return true;
    }
    const auto* sessions = enabled_sessions(from.bare());
    if (sessions == nullptr || !eligible(message, to, false)) return false;
    for (ClientStream* s : *sessions)
      if (s != &from && s->full() != to.full()) s->deliver(wrap(message, "sent", from.bare(), *s));
    return false;
  }

  // A message for a local user, delivered to `targets`: the user's other carbon-enabled
  // sessions get a copy (§7).
  void received(const xml::Element& message, const xmpp::Jid& to, std::span<ClientStream* const> targets) {
    if (delivering_private_ || enabled_.empty()) return;
    std::string bare = to.bare();
    const auto* sessions = enabled_sessions(bare);
    if (sessions == nullptr || !eligible(message, to, true)) return;
    for (ClientStream* s : *sessions)
      if (std::find(targets.begin(), targets.end(), s) == targets.end())
        s->deliver(wrap(message, "received", bare, *s));
  }

  Server& server_;
  std::unordered_map<std::string, std::vector<ClientStream*>> enabled_;
  // Set while this module delivers a <private/> message it stripped: no received copies.
  bool delivering_private_ = false;
};

}  // namespace

std::unique_ptr<Module> make_carbons(const ModuleContext& context) { return std::make_unique<Carbons>(context); }

}  // namespace xmppd::router
