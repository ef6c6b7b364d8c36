// The vcard-temp view of a user's vcard4 and avatar PEP nodes (xmppctl/vcard_from_pep.h).
// Runs in the unprivileged import child: the items were written by a network-facing Prosody.
#include "xmppctl/vcard_from_pep.h"

#include <string_view>

#include "router/modules/pep_node.h"
#include "router/modules/vcard_photo.h"
#include "xml/fragment.h"

namespace xmppd::ctl::prosody_import {
namespace {

constexpr std::string_view kVcardNs = "vcard-temp";
constexpr std::string_view kVcard4Ns = "urn:ietf:params:xml:ns:vcard-4.0";
constexpr std::string_view kVcard4Node = "urn:xmpp:vcard4";
constexpr std::string_view kMetadataNode = "urn:xmpp:avatar:metadata";
constexpr std::string_view kDataNode = "urn:xmpp:avatar:data";
constexpr std::string_view kNickNs = "http://jabber.org/protocol/nick";
constexpr std::size_t kMaxBytes = 1 << 20;

// The node, when anyone may read it. xmppd serves vcard-temp to anyone, as Prosody does; but
// Prosody built its answer with the reader's access to each node, so a node only some could
// read (its owner, contacts) is left out: the import never widens who sees what.
const PepNode* find_node(const std::vector<PepNode>& nodes, std::string_view name, std::string& warnings) {
  for (const PepNode& node : nodes) {
    if (node.node != name) continue;
    auto config = router::pep::NodeConfig::parse(node.config);
    if (config && config->access_model == "open") return &node;
    if (!node.items.empty())
      warnings += "node " + node.node + " is not open to anyone; it is left out of the vcard-temp vCard\n";
    return nullptr;
  }
  return nullptr;
}

// The node's item `id`, or its newest (the last: items are kept oldest first) when id is "".
std::optional<xml::Element> item(const std::vector<PepNode>& nodes, std::string_view name, std::string& warnings,
                                 std::string_view id = "") {
  const PepNode* node = find_node(nodes, name, warnings);
  if (node == nullptr || node->items.empty()) return std::nullopt;
  for (auto it = node->items.rbegin(); it != node->items.rend(); ++it)
    if (id.empty() || it->first == id) {
      std::string why;
      return xml::parse_fragment(it->second, "", kMaxBytes, &why);
    }
  return std::nullopt;
}

std::string child_text(const xml::Element* parent, std::string_view name) {
  const xml::Element* child = parent != nullptr ? parent->child(kVcard4Ns, name) : nullptr;
  return child != nullptr ? child->text() : "";
}

// As Prosody's text_tag: the element is there even when the text is not.
void text_tag(xml::Element& parent, std::string name, std::string_view text) {
  xml::Element e(kVcardNs, std::move(name));
  if (!text.empty()) e.add_text(text);
  parent.add_child(std::move(e));
}

// vcard4's parameters/type/text "home" or "work" as vcard-temp's <HOME/> or <WORK/>.
void add_type(const xml::Element& field, xml::Element& out) {
  const xml::Element* parameters = field.child(kVcard4Ns, "parameters");
  const std::string type = child_text(parameters != nullptr ? parameters->child(kVcard4Ns, "type") : nullptr, "text");
  if (type == "home") out.add_child(xml::Element(kVcardNs, "HOME"));
  if (type == "work") out.add_child(xml::Element(kVcardNs, "WORK"));
}

// The fields whose vcard4 value is one child: name, and that child's name.
std::string_view simple_value(std::string_view name) {
  if (name == "nickname" || name == "title" || name == "role" || name == "categories" || name == "note") return "text";
  if (name == "url") return "uri";
  if (name == "bday") return "date";
  return "";
}

std::string upper(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

void add_field(const xml::Element& field, xml::Element& vcard) {
  const std::string& name = field.name();
  if (std::string_view value = simple_value(name); !value.empty()) {
    if (const xml::Element* v = field.child(kVcard4Ns, value)) text_tag(vcard, upper(name), v->text());
  } else if (name == "email" && field.child(kVcard4Ns, "text") != nullptr) {
    xml::Element email(kVcardNs, "EMAIL");
    text_tag(email, "USERID", child_text(&field, "text"));
    email.add_child(xml::Element(kVcardNs, "INTERNET"));
    add_type(field, email);
    vcard.add_child(std::move(email));
  } else if (name == "tel" && field.child(kVcard4Ns, "uri") != nullptr) {
    std::string number = child_text(&field, "uri");
    if (number.starts_with("tel:")) number.erase(0, 4);
    xml::Element tel(kVcardNs, "TEL");
    text_tag(tel, "NUMBER", number);
    add_type(field, tel);
    vcard.add_child(std::move(tel));
  } else if (name == "adr") {
    xml::Element adr(kVcardNs, "ADR");
    static constexpr std::pair<std::string_view, std::string_view> kParts[] = {
        {"POBOX", "pobox"},     {"EXTADD", "ext"},    {"STREET", "street"}, {"LOCALITY", "locality"},
        {"REGION", "region"},   {"PCODE", "code"},    {"CTRY", "country"}};
    for (const auto& [temp, four] : kParts) text_tag(adr, std::string(temp), child_text(&field, four));
    add_type(field, adr);
    vcard.add_child(std::move(adr));
  } else if (name == "impp") {
    const std::string uri = child_text(&field, "uri");
    if (uri.starts_with("xmpp:")) text_tag(vcard, "JABBERID", std::string_view(uri).substr(5));
  } else if (name == "org") {
    xml::Element org(kVcardNs, "ORG");
    text_tag(org, "ORGNAME", child_text(&field, "text"));
    vcard.add_child(std::move(org));
  }
}

void add_vcard4(const xml::Element& vcard4, xml::Element& vcard) {
  text_tag(vcard, "FN", child_text(vcard4.child(kVcard4Ns, "fn"), "text"));
  const xml::Element* n = vcard4.child(kVcard4Ns, "n");
  xml::Element name(kVcardNs, "N");
  static constexpr std::pair<std::string_view, std::string_view> kParts[] = {
      {"FAMILY", "surname"}, {"GIVEN", "given"}, {"MIDDLE", "additional"}, {"PREFIX", "prefix"}, {"SUFFIX", "suffix"}};
  for (const auto& [temp, four] : kParts) text_tag(name, std::string(temp), child_text(n, four));
  vcard.add_child(std::move(name));
  for (const xml::Element* field : vcard4.children())
    if (field->ns() == kVcard4Ns) add_field(*field, vcard);
}

// The first <info/> of the newest metadata, as PHOTO; nullopt when there is none.
std::optional<xml::Element> photo(const std::vector<PepNode>& nodes, std::string& warnings) {
  std::optional<xml::Element> metadata = item(nodes, kMetadataNode, warnings);
  const xml::Element* info = metadata ? metadata->child(kMetadataNode, "info") : nullptr;
  if (info == nullptr) return std::nullopt;
  xml::Element out(kVcardNs, "PHOTO");
  if (const std::string* type = info->attribute("type")) text_tag(out, "TYPE", *type);
  if (const std::string* url = info->attribute("url")) {
    text_tag(out, "EXTVAL", *url);
  } else if (const std::string* id = info->attribute("id")) {
    std::optional<xml::Element> data = item(nodes, kDataNode, warnings, *id);
    if (data && data->is(kDataNode, "data")) {
      // Checked here as the router checks a vCard it is given: a bad BINVAL would make the
      // stored vCard one the router refuses to hash.
      xml::Element probe(kVcardNs, "vCard");
      xml::Element probe_photo(kVcardNs, "PHOTO");
      text_tag(probe_photo, "BINVAL", data->text());
      probe.add_child(std::move(probe_photo));
      std::string why;
      if (router::vcard_photo(probe, why))
        text_tag(out, "BINVAL", data->text());
      else
        warnings += "the avatar's data (item " + id->substr(0, 64) + ") is not base64; the vCard has no photo\n";
    }
  }
  return out;
}

}  // namespace

std::optional<xml::Element> vcard_from_pep(const std::vector<PepNode>& nodes, std::string& warnings) {
  std::optional<xml::Element> vcard4 = item(nodes, kVcard4Node, warnings);
  if (vcard4 && !vcard4->is(kVcard4Ns, "vcard")) vcard4.reset();
  std::optional<xml::Element> picture = photo(nodes, warnings);
  if (!vcard4 && !picture) return std::nullopt;
  xml::Element vcard(kVcardNs, "vCard");
  if (vcard4) {
    add_vcard4(*vcard4, vcard);
  } else if (std::optional<xml::Element> nick = item(nodes, kNickNs, warnings); nick && nick->is(kNickNs, "nick")) {
    if (std::string text = nick->text(); !text.empty()) text_tag(vcard, "NICKNAME", text);
  }
  if (picture) vcard.add_child(std::move(*picture));
  return vcard;
}

}  // namespace xmppd::ctl::prosody_import
