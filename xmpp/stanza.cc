#include "xmpp/stanza.h"

#include <string>

namespace xmppd::xmpp {

xml::Element reply(const xml::Element& stanza, std::string_view type) {
  xml::Element out(stanza.shared_ns(), stanza.name());
  out.set_attribute("type", std::string(type));
  if (const std::string* id = stanza.attribute("id")) out.set_attribute("id", *id);
  if (const std::string* from = stanza.attribute("to")) out.set_attribute("from", *from);
  if (const std::string* to = stanza.attribute("from")) out.set_attribute("to", *to);
  return out;
}

xml::Element error_reply(const xml::Element& stanza, std::string_view type, std::string_view condition,
                         std::string_view text) {
  xml::Element out = reply(stanza, "error");
  xml::Element error(std::string(kClientNs), "error");
  error.set_attribute("type", std::string(type));
  error.add_child(xml::Element(std::string(kStanzaErrorNs), std::string(condition)));
  if (!text.empty()) {
    xml::Element t(std::string(kStanzaErrorNs), "text");
    t.add_text(text);
    error.add_child(std::move(t));
  }
  out.add_child(std::move(error));
  return out;
}

bool is_error(const xml::Element& stanza) {
  const std::string* type = stanza.attribute("type");
  return type != nullptr && *type == "error";
}

}  // namespace xmppd::xmpp
