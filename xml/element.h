// A complete XML element received on a stream (a stanza or a stream-level element), small
// and owned: names and namespaces resolved, attributes in document order, children and
// character data in order.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace xmppd::xml {

// A namespace URI shared by every element in it: a parser gives all the elements of one
// namespace the same string, so that a long URI costs its bytes once, not once per element.
using Namespace = std::shared_ptr<const std::string>;
Namespace make_namespace(std::string_view uri);

class Element {
 public:
  using Attributes = std::vector<std::pair<std::string, std::string>>;

  Element(std::string_view ns, std::string name) : ns_(make_namespace(ns)), name_(std::move(name)) {}
  // Attribute names must be distinct (as a parser has checked).
  Element(Namespace ns, std::string name, Attributes attributes = {})
      : ns_(std::move(ns)), name_(std::move(name)), attributes_(std::move(attributes)) {}
  Element(std::string_view ns, std::string name, Attributes attributes)
      : Element(make_namespace(ns), std::move(name), std::move(attributes)) {}

  const std::string& ns() const { return *ns_; }
  const Namespace& shared_ns() const { return ns_; }
  const std::string& name() const { return name_; }
  bool is(std::string_view ns, std::string_view name) const { return *ns_ == ns && name_ == name; }

  // Attributes without a namespace by local name; namespaced ones as "ns local".
  const std::string* attribute(std::string_view name) const;
  std::string attribute_or(std::string_view name, std::string_view fallback = {}) const {
    const std::string* value = attribute(name);
    return value != nullptr ? *value : std::string(fallback);
  }
  const Attributes& attributes() const { return attributes_; }
  void set_attribute(std::string name, std::string value);

  // The reference is valid until the next add_child or add_text on this element.
  Element& add_child(Element child);
  void add_text(std::string_view text);
  const Element* child(std::string_view ns, std::string_view name) const;
  std::vector<const Element*> children() const;
  // All character data directly inside this element.
  std::string text() const;

  // Serialization with the minimal escaping XML needs; `default_ns` is the namespace in
  // scope, which is then not repeated.
  void serialize(std::string& out, std::string_view default_ns = {}) const { serialize_as(out, default_ns, {}); }
  // The same with this element's namespace bound to `prefix` ("<stream:error
  // xmlns:stream='...'>") and no default namespace in scope: what RFC 7395 sends for
  // stream-level elements, each a document of its own.
  void serialize_prefixed(std::string& out, std::string_view prefix) const { serialize_as(out, {}, prefix); }

 private:
  using Node = std::variant<Element, std::string>;
  // The one serializer behind both: an empty `prefix` is the unprefixed form.
  void serialize_as(std::string& out, std::string_view default_ns, std::string_view prefix) const;
  void serialize_attributes(std::string& out) const;
  void serialize_content(std::string& out, std::string_view default_ns) const;
  Namespace ns_;
  std::string name_;
  Attributes attributes_;
  std::vector<Node> nodes_;
};

// What one node (an element or a run of text) costs in memory beyond its bytes, with room
// for the slack of growing vectors: for parsers that hold what they build to a budget.
inline constexpr std::size_t kNodeCost = 2 * sizeof(Element);

// Escapes text for character data (& < >) or for an attribute value in single quotes.
void escape(std::string& out, std::string_view text, bool attribute);

}  // namespace xmppd::xml
