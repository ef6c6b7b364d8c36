// The router's end of the stanza link to the s2s worker (proto/router_s2s.proto): stanzas
// for other servers go out, stanzas from them come in. The worker parses what remote
// servers send and may be compromised, so each inbound stanza is checked here before the
// router sees it: its domains, that it is one stanza, and that its addresses agree with
// the domains it came with. A stanza that fails is dropped, not the link.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control.pb.h"
#include "proto/stanza_link.h"
#include "xml/element.h"
#include "xml/fragment.h"
#include "xmpp/jid.h"
#include "xmpp/stanza.h"

namespace xmppd::router {

class S2sLink {
 public:
  using IsLocal = std::function<bool(std::string_view domain)>;
  // A checked stanza: jabber:client message, presence or iq, with 'from' a JID at a remote
  // domain and 'to' one at a local domain, both in their prepared form; `to` parsed.
  using OnStanza = std::function<void(xml::Element stanza, const xmpp::Jid& to)>;

  // on_caught_up: the link was congested() and is no longer, or it closed; whoever held
  // back for it may go on.
  S2sLink(struct event_base* base, IsLocal is_local, OnStanza on_stanza,
          std::function<void(std::string_view)> on_violation, std::function<void()> on_caught_up);

  // s2s_stanza_size_limit, global and per local host: what the worker may pass on.
  void set_limits(const ipc::StreamLimits& limits) { limits_ = limits; }
  // A fresh link (the worker or this router started again) replaces the old one.
  void link(UniqueFd sock);
  // To another server. False when the worker is not linked or the stanza cannot fit in a
  // record: the caller bounces it.
  bool send(std::string_view from_domain, std::string_view to_domain, const xml::Element& stanza);
  // The worker is linked but reads slower than stanzas come: stop reading what feeds the
  // link until on_caught_up.
  bool congested() const { return link_ && link_->congested(); }

  // The checks on one stanza from the worker: the stanza to route, or nullopt and why not.
  struct Checked {
    xml::Element stanza;
    xmpp::Jid to;
  };
  std::optional<Checked> check(const ipc::RemoteStanza& stanza, std::string& why);

 private:
  using Link = ipc::StanzaLink<ipc::RouterToS2s, ipc::S2sToRouter>;
  void received(const ipc::RemoteStanza& stanza);

  struct event_base* base_;
  IsLocal is_local_;
  OnStanza on_stanza_;
  std::function<void(std::string_view)> on_violation_;
  std::function<void()> on_caught_up_;
  std::size_t max_stanza_bytes(const std::string& local) const;

  std::unique_ptr<Link> link_;
  ipc::StreamLimits limits_;
  xml::FragmentParser parser_{xmpp::kClientNs};
};

}  // namespace xmppd::router
