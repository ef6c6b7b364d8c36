#include "router/s2s_link.h"

#include "common/log.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

// The address must be a JID at exactly `domain`. It is rewritten in its prepared form, so
// that the router compares it with its own addresses like for like.
std::optional<xmpp::Jid> address_at(xml::Element& stanza, const char* name, const std::string& domain,
                                    std::string& why) {
  const std::string* text = stanza.attribute(name);
  auto jid = text != nullptr ? xmpp::Jid::parse(*text) : std::nullopt;
  if (!jid || jid->domain() != domain) {
    why = std::string("its '") + name + "' is not an address at " + domain;
    return std::nullopt;
  }
  stanza.set_attribute(name, jid->full());
  return jid;
}

}  // namespace

S2sLink::S2sLink(struct event_base* base, IsLocal is_local, OnStanza on_stanza,
                 std::function<void(std::string_view)> on_violation, std::function<void()> on_caught_up)
    : base_(base),
      is_local_(std::move(is_local)),
      on_stanza_(std::move(on_stanza)),
      on_violation_(std::move(on_violation)),
      on_caught_up_(std::move(on_caught_up)) {}

void S2sLink::link(UniqueFd sock) {
  if (link_) on_caught_up_();  // a replaced link is not waited for
  link_ = std::make_unique<Link>(
      base_, std::move(sock), "s2s", [this](const ipc::RemoteStanza& s) { received(s); },
      [this](ipc::CloseReason reason, std::string_view detail) {
        if (reason == ipc::CloseReason::kViolation) on_violation_(detail);
        log::info("link to the s2s worker closed; stanzas for other servers bounce until it is back");
        on_caught_up_();  // nothing to wait for any more
      },
      [this] { on_caught_up_(); });
}

bool S2sLink::send(std::string_view from_domain, std::string_view to_domain, const xml::Element& stanza) {
  if (!link_ || !link_->open()) return false;
  std::string xml;
  stanza.serialize(xml, xmpp::kClientNs);  // the stanza namespace stays implicit
  return link_->send(from_domain, to_domain, xml);
}

std::optional<S2sLink::Checked> S2sLink::check(const ipc::RemoteStanza& s, std::string& why) {
  if (is_local_(s.from_domain())) {
    why = "it claims to come from a local domain";
    return std::nullopt;
  }
  if (!is_local_(s.to_domain())) {
    why = "it is not for a local domain";
    return std::nullopt;
  }
  auto stanza = parser_.parse(s.xml(), max_stanza_bytes(s.to_domain()), &why);
  if (!stanza) return std::nullopt;
  if (stanza->ns() != xmpp::kClientNs ||
      (stanza->name() != "message" && stanza->name() != "presence" && stanza->name() != "iq")) {
    why = "it is not a stanza";
    return std::nullopt;
  }
  if (!address_at(*stanza, "from", s.from_domain(), why)) return std::nullopt;
  auto to = address_at(*stanza, "to", s.to_domain(), why);
  if (!to) return std::nullopt;
  return Checked{std::move(*stanza), std::move(*to)};
}

std::size_t S2sLink::max_stanza_bytes(const std::string& local) const {
  auto it = limits_.per_host().find(local);
  std::size_t limit = it != limits_.per_host().end() ? it->second.max_stanza_bytes() : limits_.max_stanza_bytes();
  // Unset (a test, or a parent that sent none): the most a record can carry.
  return limit != 0 ? limit : Link::kMaxRecord;
}

void S2sLink::received(const ipc::RemoteStanza& s) {
  std::string why;
  auto checked = check(s, why);
  if (!checked) {
    log::warning("s2s worker passed a stanza from %.255s to %.255s that is dropped: %.300s", s.from_domain().c_str(),
                 s.to_domain().c_str(), why.c_str());
    return;
  }
  on_stanza_(std::move(checked->stanza), checked->to);
}

}  // namespace xmppd::router
