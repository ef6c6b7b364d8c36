// One external component's stream (XEP-0114), after the stream layer (stream/session.h) has
// answered its header in jabber:component:accept for a configured component domain: the
// handshake, checked by the auth helper (the router never holds the secret), then the
// component's stanzas into Routing and the stanzas for its domain out to it.
//
// Trusts: nothing the component sends. Its 'from' must be its own domain or an address at
// it (no subdomain), checked here before Routing sees the stanza; the auth helper's answer
// is taken as it comes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "router/auth_link.h"
#include "router/component.h"
#include "stream/session.h"
#include "xml/fragment.h"

namespace xmppd::router {

class Routing;

class ComponentStream final : public stream::StreamHandler, public Component {
 public:
  // `max_stanza_bytes`: the stream's own limit (c2s_stanza_size_limit), which a stanza must
  // still keep once in jabber:client.
  ComponentStream(stream::Session& session, AuthLink& auth, Routing& routing, std::size_t max_stanza_bytes);
  ~ComponentStream() override;

  // stream::StreamHandler
  void features(std::string&) override {}  // XEP-0114 streams have none
  void element(xml::Element element) override;
  void closed() override;

  // Component: a stanza for the component's domain, written in its stream's namespace.
  void receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) override;

  const std::string& domain() const { return domain_; }

 private:
  enum class State { kHandshake, kChecking, kConnected, kEnded };

  void handshake(const xml::Element& element);
  void verdict(std::optional<bool> ok);
  void stanza(const xml::Element& element);
  void detach();

  stream::Session& session_;
  std::string domain_;
  AuthLink& auth_;
  Routing& routing_;
  State state_ = State::kHandshake;
  xml::FragmentParser reparser_;
  std::size_t max_stanza_bytes_;
  // The auth helper's answer may come after this stream is gone; it checks this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xmppd::router
