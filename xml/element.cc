#include "xml/element.h"

#include <array>

namespace xmppd::xml {

Namespace make_namespace(std::string_view uri) {
  // Most elements built in code are in no namespace or in a constant one: the empty one is
  // shared by all, the others are cheap to make.
  static const Namespace kNone = std::make_shared<const std::string>();
  if (uri.empty()) return kNone;
  return std::make_shared<const std::string>(uri);
}

const std::string* Element::attribute(std::string_view name) const {
  for (const auto& [key, value] : attributes_)
    if (key == name) return &value;
  return nullptr;
}

void Element::set_attribute(std::string name, std::string value) {
  for (auto& [key, existing] : attributes_)
    if (key == name) {
      existing = std::move(value);
      return;
    }
  attributes_.emplace_back(std::move(name), std::move(value));
}

Element& Element::add_child(Element child) {
  nodes_.emplace_back(std::move(child));
  return std::get<Element>(nodes_.back());
}

void Element::add_text(std::string_view text) {
  if (!nodes_.empty())
    if (auto* last = std::get_if<std::string>(&nodes_.back())) {
      last->append(text);
      return;
    }
  nodes_.emplace_back(std::string(text));
}

const Element* Element::child(std::string_view ns, std::string_view name) const {
  for (const Node& n : nodes_)
    if (const auto* e = std::get_if<Element>(&n); e && e->is(ns, name)) return e;
  return nullptr;
}

std::vector<const Element*> Element::children() const {
  std::vector<const Element*> out;
  for (const Node& n : nodes_)
    if (const auto* e = std::get_if<Element>(&n)) out.push_back(e);
  return out;
}

std::string Element::text() const {
  std::string out;
  for (const Node& n : nodes_)
    if (const auto* t = std::get_if<std::string>(&n)) out += *t;
  return out;
}

namespace {

// Which bytes escape() must replace: 1 in character data and attributes, 2 in attributes only.
constexpr std::array<unsigned char, 256> kEscaped = [] {
  std::array<unsigned char, 256> table{};
  for (unsigned char c : {'&', '<', '>', '\r'}) table[c] = 1;
  for (unsigned char c : {'\'', '"', '\t', '\n'}) table[c] = 2;
  return table;
}();

}  // namespace

void escape(std::string& out, std::string_view text, bool attribute) {
  const unsigned char limit = attribute ? 2 : 1;
  std::size_t run = 0;  // start of the bytes that go out as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char mark = kEscaped[static_cast<unsigned char>(text[i])];
    if (mark == 0 || mark > limit) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (text[i]) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&apos;"; break;
      case '"': out += "&quot;"; break;
      // A reader normalises raw CR (and, in attributes, tab and LF); references survive.
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
    }
  }
  out.append(text.data() + run, text.size() - run);
}

void Element::serialize_as(std::string& out, std::string_view default_ns, std::string_view prefix) const {
  out += '<';
  if (prefix.empty()) {
    out += name_;
    if (*ns_ != default_ns) {
      out += " xmlns='";
      escape(out, *ns_, true);
      out += '\'';
    }
  } else {
    out += prefix;
    out += ':';
    out += name_;
    out += " xmlns:";
    out += prefix;
    out += "='";
    escape(out, *ns_, true);
    out += '\'';
  }
  serialize_attributes(out);
  if (nodes_.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  // A prefixed element binds no default namespace: its children name their own.
  serialize_content(out, prefix.empty() ? std::string_view(*ns_) : std::string_view());
  out += "</";
  if (!prefix.empty()) {
    out += prefix;
    out += ':';
  }
  out += name_;
  out += '>';
}

void Element::serialize_attributes(std::string& out) const {
  for (const auto& [key, value] : attributes_) {
    // Namespaced attributes ("ns local") other than xml:lang are not kept on output.
    std::string_view name = key;
    if (name.starts_with("http://www.w3.org/XML/1998/namespace ")) {
      out += " xml:";
      name.remove_prefix(name.find(' ') + 1);
    } else if (name.find(' ') != std::string_view::npos) {
      continue;
    } else {
      out += ' ';
    }
    out += name;
    out += "='";
    escape(out, value, true);
    out += '\'';
  }
}

void Element::serialize_content(std::string& out, std::string_view default_ns) const {
  for (const Node& n : nodes_) {
    if (const auto* e = std::get_if<Element>(&n))
      e->serialize(out, default_ns);
    else
      escape(out, std::get<std::string>(n), false);
  }
}

}  // namespace xmppd::xml
