// A small incremental scanner for the XML that XMPP servers send to a client: it finds the
// stream header, each complete top-level element and the stream's end in a byte buffer, and
// builds a flat tree of string_views into that buffer. Namespaces are not resolved (names
// are compared by local name) and entities are left as written; unescape() decodes the few
// texts that need it. This is a load generator's parser for well-formed server output, not
// a validating one: it keeps no state between calls, allocates nothing per stanza once its
// vectors have grown, and costs no memory per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

struct XmlAttr {
  std::string_view name;   // local name
  std::string_view value;  // raw, entities not decoded
};

struct XmlNode {
  std::string_view name;  // local name, prefix stripped
  std::string_view text;  // the first text (or CDATA) segment directly inside, raw
  std::uint32_t first_attr = 0;
  std::uint32_t attr_count = 0;
  std::int32_t first_child = -1;
  std::int32_t next_sibling = -1;
};

// The tree of the last element scanned; node 0 is the element itself.
class XmlTree {
 public:
  const XmlNode& root() const { return nodes_[0]; }
  std::string_view attr(const XmlNode& node, std::string_view name) const;
  // The first child of `node` named `name`, or nullptr.
  const XmlNode* child(const XmlNode& node, std::string_view name) const;
  const XmlNode* first_child(const XmlNode& node) const {
    return node.first_child < 0 ? nullptr : &nodes_[static_cast<std::size_t>(node.first_child)];
  }
  const XmlNode* next_sibling(const XmlNode& node) const {
    return node.next_sibling < 0 ? nullptr : &nodes_[static_cast<std::size_t>(node.next_sibling)];
  }

 private:
  friend class XmlScanner;
  std::vector<XmlNode> nodes_;
  std::vector<XmlAttr> attrs_;
};

enum class ScanResult {
  kIncomplete,    // need more bytes; `consumed` bytes (whitespace, declarations) may be dropped
  kStreamHeader,  // the opening <stream:stream ...> tag; tree root holds its attributes
  kElement,       // a complete top-level element
  kStreamEnd,     // </stream:stream>
  kError,         // not XML this scanner understands
};

class XmlScanner {
 public:
  // Scans `data` for the next item. With `expect_header`, the next tag is taken as the stream
  // header (only its opening tag is read). `consumed` is how many bytes of `data` the item (or,
  // for kIncomplete, the skipped prefix) took.
  ScanResult scan(std::string_view data, bool expect_header, std::size_t& consumed, XmlTree& tree);

 private:
  enum class Step { kOk, kIncomplete, kError };
  Step open_tag(XmlTree& tree, std::int32_t node, bool& empty);
  Step element(XmlTree& tree, std::int32_t node, int depth);
  Step skip_past(std::string_view marker);

  std::string_view data_;
  std::size_t pos_ = 0;
};

// Decodes the five predefined entities and numeric character references.
std::string unescape(std::string_view raw);

}  // namespace loadgen
