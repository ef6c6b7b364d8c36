// The words of server-to-server streams: namespaces and the few elements both directions
// build (dialback, XEP-0220; SASL EXTERNAL, XEP-0178; stream limits, XEP-0478).
#pragma once

#include <string>
#include <string_view>

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

// A domain named in an attribute, prepared (lowercased, checked); "" when it is not one.
inline std::string domain_attribute(const xml::Element& e, std::string_view name) {
  auto domain = xmpp::prepare_domainpart(e.attribute_or(name));
  return domain ? *domain : std::string();
}

// <db:result/> or <db:verify/> with its addresses, an optional id and type, and a key as text.
inline std::string dialback_element(std::string_view name, std::string_view from, std::string_view to,
                                    std::string_view id, std::string_view type, std::string_view key) {
  std::string out = "<db:";
  out += name;
  out += " from='";
  xml::escape(out, from, true);
  out += "' to='";
  xml::escape(out, to, true);
  if (!id.empty()) {
    out += "' id='";
    xml::escape(out, id, true);
  }
  if (!type.empty()) {
    out += "' type='";
    out += type;
  }
  out += "'";
  if (key.empty()) return out + "/>";
  out += ">";
  xml::escape(out, key, false);
  out += "</db:";
  out += name;
  out += ">";
  return out;
}

// XEP-0220 §2.4: a dialback answer of type 'error' with a stanza error condition.
inline std::string dialback_error(std::string_view name, std::string_view from, std::string_view to,
                                  std::string_view id, std::string_view type, std::string_view condition,
                                  std::string_view text) {
  std::string out = dialback_element(name, from, to, id, "error", {});
  out.erase(out.size() - 2);
  out += "><error type='";
  out += type;
  out += "'><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>";
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>";
    xml::escape(out, text, false);
    out += "</text>";
  }
  out += "</error></db:";
  out += name;
  out += ">";
  return out;
}

}  // namespace xmppd::s2s
