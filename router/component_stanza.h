// What the router reads of an external component's stream (XEP-0114) beyond the stream
// layer: the handshake's digest, and each stanza's addresses, checked against the domain the
// component authenticated for before the stanza goes to Routing. Apart from the stream
// (router/component_stream.h) so that a unit test and a fuzz target link it alone.
//
// Trusts: nothing of the element; `domain` is the authenticated component's.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "xml/element.h"
#include "xml/fragment.h"
#include "xmpp/jid.h"

namespace xmppd::router {

// Whether `text` is a handshake digest as XEP-0114 §3 has it: 40 hex digits (SHA-1). Upper
// case is taken and lowered; anything else is nullopt.
std::optional<std::string> handshake_digest(std::string_view text);

// Why a handshake the auth helper accepted, checked with the secret whose tag is `checked_tag`,
// may still not connect, or nullptr: "host-unknown" when a reload removed the domain, "reset"
// when the secret the router knows (`tags`, RouterSettings component_secret_tags) is not the
// one checked: the helper and the router took a reload at different times, and a secret a
// reload revoked must not get in. (A spurious reset the other way round costs a reconnect.)
const char* accepted_handshake_refusal(const std::map<std::string, std::string, std::less<>>& tags,
                                       std::string_view domain, std::string_view checked_tag);

struct ComponentStanza {
  enum class Verdict {
    kRoute,        // `stanza` is for Routing::from_component
    kNotAStanza,   // not message, presence or iq in jabber:component:accept: a stream error
    kInvalidFrom,  // 'from' missing, malformed or outside the domain: stream error invalid-from
    kNoTo,         // no 'to': answered with bad-request, the stream goes on
    kBadTo,        // a malformed 'to': answered with jid-malformed
    kTooBig,       // past the size limit once in jabber:client (escaping grew it)
  };
  Verdict verdict = Verdict::kNotAStanza;
  // kRoute: the stanza in jabber:client with 'from' and 'to' prepared. kNoTo, kBadTo: the
  // stanza in jabber:client as it came, for the error reply.
  std::optional<xml::Element> stanza;
  std::optional<xmpp::Jid> from;  // set from kNoTo on
};

// The component's stanza in jabber:client (as Routing takes stanzas), its 'from' held to
// `domain` or an address at it (not a subdomain, XEP-0114 §2). `reparser` reads the
// serialized stanza back with jabber:client in the component namespace's place (made with
// xmpp::kClientNs as its default namespace), at most `max_bytes`.
ComponentStanza read_component_stanza(const xml::Element& element, std::string_view domain,
                                      xml::FragmentParser& reparser, std::size_t max_bytes);

}  // namespace xmppd::router
