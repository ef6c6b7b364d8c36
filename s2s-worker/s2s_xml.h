// The words of server-to-server streams: namespaces and the few elements both directions
// build (dialback, XEP-0220, in dialback_xml.h; SASL EXTERNAL, XEP-0178; stream limits, XEP-0478).
#pragma once

#include <string>
#include <string_view>

#include "s2s-worker/dialback_xml.h"
#include "stream/session.h"
#include "xml/element.h"
#include "xmpp/jid.h"
#include "xmpp/namespaces.h"

namespace xmppd::s2s {

using xmpp::kDialbackNs;
using xmpp::kSaslNs;
using xmpp::kServerNs;
using xmpp::kStanzaErrorNs;
using xmpp::kStreamErrorNs;
using xmpp::kStreamNs;
using xmpp::kTlsNs;
inline constexpr std::string_view kDialbackFeatureNs = "urn:xmpp:features:dialback";
inline constexpr std::string_view kLimitsNs = "urn:xmpp:stream-limits:0";
inline constexpr std::string_view kAppErrorsNs = "urn:xmpp:errors";

// Inbound streams silent for this long are closed (advertised as XEP-0478's idle-seconds);
// outbound streams that carried no stanza for as long are closed too. Whitespace keep-alives
// go out after kKeepAliveSeconds of silence on our side, so a live peer never gets near it.
inline constexpr int kIdleSeconds = static_cast<int>(stream::kServerIdleTimeout.count());
inline constexpr int kKeepAliveSeconds = 60;

inline constexpr std::string_view kS2sDisabledText = "Server-to-server communication is disabled for this host";

}  // namespace xmppd::s2s
