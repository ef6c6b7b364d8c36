// Dialback elements (XEP-0220): what a received <db:result/> or <db:verify/> says, read from
// the element alone (the two domains prepared, the stream id, the key without the XML
// whitespace around it), and the ones the worker sends. Apart from the stream code so that
// the fuzz target (fuzz/dialback_fuzzer.cc) reads and writes them exactly as the streams do.
#pragma once

#include <string>
#include <string_view>

#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::s2s {

// XML whitespace (space, tab, CR, LF) removed from both ends.
inline std::string trim_xml_space(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

// A domain named in an attribute, prepared (lowercased, checked); "" when it is not one.
inline std::string domain_attribute(const xml::Element& e, std::string_view name) {
  auto domain = xmpp::prepare_domainpart(e.attribute_or(name));
  return domain ? *domain : std::string();
}

struct DialbackFields {
  std::string remote;  // 'from': the domain the peer speaks for
  std::string local;   // 'to': ours
  std::string id;      // the stream id (db:verify only)
  std::string key;
};

inline DialbackFields dialback_fields(const xml::Element& e) {
  return {domain_attribute(e, "from"), domain_attribute(e, "to"), e.attribute_or("id"), trim_xml_space(e.text())};
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
