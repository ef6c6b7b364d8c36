#include "router/modules/caps.h"

#include <openssl/evp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/base64.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";

std::vector<std::string> values(const xml::Element& field) {
  std::vector<std::string> out;
  for (const xml::Element* v : field.children())
    if (v->name() == "value") out.push_back(v->text());
  return out;
}

}  // namespace

std::string caps_ver(const xml::Element& query) {
  std::vector<std::string> identities, features;
  std::vector<std::pair<std::string, const xml::Element*>> forms;
  for (const xml::Element* e : query.children()) {
    if (e->is(kInfoNs, "identity")) {
      identities.push_back(e->attribute_or("category") + "/" + e->attribute_or("type") + "/" +
                           e->attribute_or("http://www.w3.org/XML/1998/namespace lang") + "/" + e->attribute_or("name"));
    } else if (e->is(kInfoNs, "feature")) {
      features.push_back(e->attribute_or("var"));
    } else if (e->is("jabber:x:data", "x")) {
      for (const xml::Element* f : e->children())
        if (f->attribute_or("var") == "FORM_TYPE" && !values(*f).empty()) forms.emplace_back(values(*f).front(), e);
    }
  }
  std::sort(identities.begin(), identities.end());
  std::sort(features.begin(), features.end());
  std::sort(forms.begin(), forms.end());
  std::string s;
  for (const std::string& i : identities) s += i + "<";
  for (const std::string& f : features) s += f + "<";
  for (const auto& [type, form] : forms) {
    s += type + "<";
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
    for (const xml::Element* f : form->children())
      if (f->name() == "field" && f->attribute_or("var") != "FORM_TYPE") fields.emplace_back(f->attribute_or("var"), values(*f));
    std::sort(fields.begin(), fields.end());
    for (auto& [var, vals] : fields) {
      s += var + "<";
      std::sort(vals.begin(), vals.end());
      for (const std::string& v : vals) s += v + "<";
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(s.data(), s.size(), digest, &size, EVP_sha1(), nullptr);
  return base64_encode(std::string_view(reinterpret_cast<char*>(digest), size));
}

}  // namespace xmppd::router
