// The disco#info builder of the router's services (disco_info.h).
#include "router/disco_info.h"

#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kDataNs = "jabber:x:data";

xml::Element field(std::string_view var, std::string_view value, std::string_view type = {}) {
  xml::Element f(kDataNs, "field", {{"var", std::string(var)}});
  if (!type.empty()) f.set_attribute("type", std::string(type));
  f.add_child(xml::Element(kDataNs, "value")).add_text(value);
  return f;
}

}  // namespace

DiscoInfo& DiscoInfo::identity(std::string_view category, std::string_view type, std::string_view name) {
  xml::Element& e = identities_.emplace_back(
      kDiscoInfoNs, "identity",
      xml::Element::Attributes{{"category", std::string(category)}, {"type", std::string(type)}});
  if (!name.empty()) e.set_attribute("name", std::string(name));
  return *this;
}

DiscoInfo& DiscoInfo::features(std::initializer_list<std::string_view> vars) {
  for (std::string_view var : vars)
    features_.emplace_back(kDiscoInfoNs, "feature", xml::Element::Attributes{{"var", std::string(var)}});
  return *this;
}

DiscoInfo& DiscoInfo::form(std::string_view form_type, std::initializer_list<Field> fields) {
  xml::Element& x = forms_.emplace_back(kDataNs, "x", xml::Element::Attributes{{"type", "result"}});
  x.add_child(field("FORM_TYPE", form_type, "hidden"));
  for (const auto& [var, value] : fields) x.add_child(field(var, value));
  return *this;
}

xml::Element DiscoInfo::query() const {
  xml::Element out(kDiscoInfoNs, "query");
  for (const auto* part : {&identities_, &features_, &forms_})
    for (const xml::Element& e : *part) out.add_child(e);
  return out;
}

xml::Element DiscoInfo::result(const xml::Element& iq) const {
  xml::Element reply = xmpp::reply(iq, "result");
  reply.add_child(query());
  return reply;
}

}  // namespace xmppd::router
