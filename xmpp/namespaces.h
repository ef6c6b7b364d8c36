// The XML namespaces of RFC 6120 and of the extensions that more than one process speaks.
#pragma once

#include <string_view>

#include "xml/stream_parser.h"

namespace xmppd::xmpp {

inline constexpr std::string_view kClientNs = "jabber:client";
inline constexpr std::string_view kServerNs = "jabber:server";
inline constexpr std::string_view kComponentNs = "jabber:component:accept";  // XEP-0114
using xml::kStreamNs;  // the stream element itself, which the parser must know
inline constexpr std::string_view kStreamErrorNs = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view kStanzaErrorNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view kTlsNs = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr std::string_view kBindNs = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr std::string_view kSessionNs = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr std::string_view kDialbackNs = "jabber:server:dialback";  // XEP-0220

}  // namespace xmppd::xmpp
