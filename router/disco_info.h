// A disco#info answer (XEP-0030 §3.1) built from what an entity offers: identities, features
// and XEP-0128 extension forms, always in that order. The router's own services (the MUC
// service, the file sharing service) describe themselves with it, as a host's disco is built
// from its modules (router/modules/disco.cc). It trusts its caller and parses nothing.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xml/element.h"

namespace xmppd::router {

inline constexpr std::string_view kDiscoInfoNs = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view kDiscoItemsNs = "http://jabber.org/protocol/disco#items";

class DiscoInfo {
 public:
  // A field of an extension form: its var and its one value.
  using Field = std::pair<std::string_view, std::string>;

  DiscoInfo& identity(std::string_view category, std::string_view type, std::string_view name = {});
  DiscoInfo& features(std::initializer_list<std::string_view> vars);
  // A form of type result whose FORM_TYPE (hidden) is `form_type`, then `fields` in order.
  DiscoInfo& form(std::string_view form_type, std::initializer_list<Field> fields);

  // The <query/> element.
  xml::Element query() const;
  // The result of the disco#info request `iq`, with the query in it.
  xml::Element result(const xml::Element& iq) const;

 private:
  std::vector<xml::Element> identities_, features_, forms_;
};

}  // namespace xmppd::router
