#include "xml/element.h"

namespace xmppd::xml {

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

void escape(std::string& out, std::string_view text, bool attribute) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += attribute ? "&apos;" : "'"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      // A reader normalises raw CR (and, in attributes, tab and LF); references survive.
      case '\r': out += "&#13;"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      default: out.push_back(c);
    }
  }
}

void Element::serialize(std::string& out, std::string_view default_ns) const {
  out += '<';
  out += name_;
  if (ns_ != default_ns) {
    out += " xmlns='";
    escape(out, ns_, true);
    out += '\'';
  }
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
  if (nodes_.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const Node& n : nodes_) {
    if (const auto* e = std::get_if<Element>(&n))
      e->serialize(out, ns_);
    else
      escape(out, std::get<std::string>(n), false);
  }
  out += "</";
  out += name_;
  out += '>';
}

}  // namespace xmppd::xml
