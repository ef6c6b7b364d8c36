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
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "router/auth_link.h"
#include "router/component.h"
#include "stream/session.h"
#include "xml/fragment.h"

namespace xmppd::router {

class Routing;
class ComponentStream;

// The external components connected now, by domain, and the tag of each configured one's
// secret (RouterSettings component_secret_tags): a reload ends the streams of components
// removed (or made a MUC service or file share) and of those whose secret changed, and
// xmppctl show components lists them.
class ConnectedComponents {
 public:
  using Tags = std::map<std::string, std::string, std::less<>>;
  ComponentStream* find(std::string_view domain) const;
  const std::map<std::string, ComponentStream*, std::less<>>& all() const { return streams_; }
  // Every external component configured, connected or not (domain -> secret tag).
  const Tags& configured() const { return tags_; }
  // A reload: `tags` has every external component configured now. A stream whose domain is
  // not among them ends with host-gone (RFC 6120 §4.9.3.5, as Prosody ends a removed host's
  // sessions); one whose secret's tag changed ends with reset (§4.9.3.16: its credentials
  // changed), so that it reconnects with the new secret.
  void reconfigure(Tags tags);

 private:
  friend class ComponentStream;
  std::map<std::string, ComponentStream*, std::less<>> streams_;
  Tags tags_;
};

class ComponentStream final : public stream::StreamHandler, public Component {
 public:
  // `max_stanza_bytes`: the stream's own limit (c2s_stanza_size_limit), which a stanza must
  // still keep once in jabber:client.
  ComponentStream(stream::Session& session, AuthLink& auth, Routing& routing, ConnectedComponents& connected,
                  std::size_t max_stanza_bytes);
  ~ComponentStream() override;

  // stream::StreamHandler
  void features(std::string&) override {}  // XEP-0114 streams have none
  void element(xml::Element element) override;
  void closed() override;

  // Component: a stanza for the component's domain, written in its stream's namespace.
  void receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) override;

  const std::string& domain() const { return domain_; }
  const std::string& peer() const { return session_.peer(); }
  std::time_t since() const { return since_; }                // when the handshake was accepted
  std::uint64_t stanzas_in() const { return stanzas_in_; }    // routed from the component
  std::uint64_t stanzas_out() const { return stanzas_out_; }  // sent to it
  const std::string& secret_tag() const { return secret_tag_; }
  // Ends a connected stream with a stream error (a reload: ConnectedComponents::reconfigure).
  void end(std::string_view condition, std::string_view text);

 private:
  enum class State { kHandshake, kChecking, kConnected, kEnded };

  void handshake(const xml::Element& element);
  void verdict(AuthLink::ComponentCheck check, const std::string& secret_tag);
  void cancel_check();
  void stanza(const xml::Element& element);
  void detach();

  stream::Session& session_;
  std::string domain_;
  AuthLink& auth_;
  Routing& routing_;
  ConnectedComponents& connected_;
  std::string secret_tag_;  // of the secret it authenticated with, as configured then
  std::time_t since_ = 0;
  std::uint64_t stanzas_in_ = 0, stanzas_out_ = 0;
  State state_ = State::kHandshake;
  std::uint64_t check_ = 0;  // the helper's check while kChecking (AuthLink::cancel_component)
  xml::FragmentParser reparser_;
  std::size_t max_stanza_bytes_;
  // The auth helper's answer may come after this stream is gone; it checks this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xmppd::router
