// csi_simple (XEP-0352): a client that says it is <inactive/> (a phone in a pocket) is not
// woken for what can wait. Presence (the latest of each contact's) and messages without
// anything to read (chat states, receipts, PEP events) are held while it is inactive; the
// first stanza that matters (a message with a body, an IQ, a subscription request) takes the
// held ones with it, in their order, and then goes; <active/> sends them all.
//
// State: the held stanzas of each inactive session, and nothing for an active one (its
// stanzas do not pass the filter at all: ClientStream::filtered()).
#include <unordered_map>
#include <utility>
#include <vector>

#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kCsiNs = "urn:xmpp:csi:0";
constexpr std::string_view kCarbonsNs = "urn:xmpp:carbons:2";
constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";

// Past this many held stanzas, an inactive session gets them all: what a phone is spared by
// waiting is small beside the memory a session with hundreds of contacts would hold (each
// stanza up to the stanza size limit), and a hundred presences at once is one wake-up.
constexpr std::size_t kMaxHeld = 100;

bool important(const xml::Element& stanza);

// A carbon copy matters as much as the message it carries.
const xml::Element* carried(const xml::Element& message) {
  for (std::string_view direction : {"sent", "received"})
    if (const xml::Element* carbon = message.child(kCarbonsNs, direction))
      if (const xml::Element* forwarded = carbon->child(kForwardNs, "forwarded"))
        return forwarded->child(xmpp::kClientNs, "message");
  return nullptr;
}

bool important_message(const xml::Element& message) {
  if (const xml::Element* inner = carried(message)) return important(*inner);
  if (message.attribute_or("type") == "error") return true;
  for (const xml::Element* c : message.children()) {
    if (c->is(xmpp::kClientNs, "body") || c->is(xmpp::kClientNs, "subject")) return true;
    // Encrypted messages carry their body inside; calls and invitations ring now.
    if (c->is("eu.siacs.conversations.axolotl", "encrypted") || c->is("urn:xmpp:eme:0", "encryption") ||
        c->ns() == "urn:xmpp:jingle-message:0" || c->is("jabber:x:conference", "x"))
      return true;
  }
  return false;  // chat states, receipts, markers, PEP notifications
}

bool important(const xml::Element& stanza) {
  if (stanza.name() == "message") return important_message(stanza);
  if (stanza.name() == "presence") {
    // Availability can wait; a subscription request or answer, or an error, cannot.
    std::string type = stanza.attribute_or("type");
    return !(type.empty() || type == "unavailable");
  }
  return true;  // IQs and anything else
}

class CsiSimple final : public Module {
 public:
  explicit CsiSimple(const ModuleContext& context) : Module("csi_simple", context.index) {
    Hooks& hooks = context.table.hooks();
    hooks.stream_element.add(*this, [this](ClientStream& from, const xml::Element& e) { return element(from, e); });
    hooks.session_delivery.add(*this, [this](ClientStream& to, const xml::Element& s) { return hold(to, s); });
    hooks.session_ended.add(*this, [this](ClientStream& stream) { held_.erase(&stream); });
  }
  void stream_features(const HostConfig& host, std::string& out) const override {
    (void)host;
    out += "<csi xmlns='urn:xmpp:csi:0'/>";
  }

 private:
  bool element(ClientStream& from, const xml::Element& e) {
    if (e.is(kCsiNs, "inactive")) {
      from.set_filtered(true);
      held_.try_emplace(&from);
      return true;
    }
    if (e.is(kCsiNs, "active")) {
      flush(from);
      held_.erase(&from);
      from.set_filtered(false);
      return true;
    }
    return false;
  }

  // True when the stanza waits.
  bool hold(ClientStream& to, const xml::Element& stanza) {
    auto it = held_.find(&to);
    if (it == held_.end()) return false;  // filtered by another module, not inactive
    if (important(stanza)) {
      flush(to);
      return false;
    }
    std::vector<xml::Element>& held = it->second;
    // Only the latest presence of each sender: the earlier ones say nothing any more.
    if (stanza.name() == "presence") {
      const std::string* from = stanza.attribute("from");
      std::erase_if(held, [from](const xml::Element& h) {
        const std::string* f = h.attribute("from");
        return h.name() == "presence" && (f == from || (f != nullptr && from != nullptr && *f == *from));
      });
    }
    held.push_back(stanza);
    if (held.size() > kMaxHeld) flush(to);
    return true;
  }

  void flush(ClientStream& to) {
    auto it = held_.find(&to);
    if (it == held_.end() || it->second.empty()) return;
    for (const xml::Element& stanza : std::exchange(it->second, {})) to.write(stanza);
  }

  std::unordered_map<ClientStream*, std::vector<xml::Element>> held_;
};

}  // namespace

std::unique_ptr<Module> make_csi_simple(const ModuleContext& context) { return std::make_unique<CsiSimple>(context); }

}  // namespace xmppd::router
