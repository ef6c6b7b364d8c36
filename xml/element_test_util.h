// Test helpers shared by the xml unit tests: lookups that fail the test rather than the
// binary, and a full dump of an element for comparisons.
#pragma once

#include <string>
#include <string_view>

#include "xml/element.h"

namespace xmppd::xml::testing {

// An attribute's value, or "(absent)".
inline std::string attr(const Element& e, std::string_view name) {
  const std::string* value = e.attribute(name);
  return value != nullptr ? *value : "(absent)";
}

// The text of a child, or "(no such child)".
inline std::string child_text(const Element& e, std::string_view ns, std::string_view name) {
  const Element* child = e.child(ns, name);
  return child != nullptr ? child->text() : "(no such child)";
}

// Everything about an element, namespaced attributes and document order included.
inline std::string dump(const Element& e) {
  std::string out = "{" + e.ns() + "}" + e.name();
  for (const auto& [key, value] : e.attributes()) out += " [" + key + "]=[" + value + "]";
  out += " text=[" + e.text() + "] (";
  for (const Element* child : e.children()) out += dump(*child) + " ";
  out += ")";
  return out;
}

}  // namespace xmppd::xml::testing
