// Incremental parsing of an XMPP stream with expat: the stream header, then each top-level
// element as a whole, without holding the stream in memory.
//
// RFC 6120 §11 is enforced while parsing: a DOCTYPE, a processing instruction, a comment or
// an entity reference other than the five predefined ones is `restricted-xml`; anything
// malformed is `not-well-formed`; an XML declaration naming another encoding than UTF-8 is
// `unsupported-encoding` (§11.6); a top-level element over the size limit is
// `policy-violation`, found while its bytes arrive rather than once it is complete; too
// deep a nesting, too many attributes or nodes, or more memory than the budget is
// `policy-violation` too.
//
// The memory budget exists because bytes on the wire say little about memory once parsed:
// 4 bytes of `<a/>` become an element of a hundred bytes or more. Every name, value and run
// of text counts, with kNodeCost for each node, and a namespace URI counts once per stream
// (it is interned: every element in it shares one string).
#pragma once

#include <expat.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xml/element.h"

namespace xmppd::xml {

inline constexpr std::string_view kStreamNs = "http://etherx.jabber.org/streams";

enum class ParseError {
  kNone,
  kNotWellFormed,
  kRestrictedXml,
  kTooBig,        // policy-violation: the stanza size limit
  kTooComplex,    // policy-violation: depth, attribute or node count, memory budget
  kBadStreamHeader,  // the first element is not <stream:stream>
  kUnsupportedEncoding,
};

struct ParserLimits {
  std::size_t max_element_bytes;  // raw bytes of one top-level element
  std::size_t max_depth = 32;     // element nesting inside a top-level element
  std::size_t max_attributes = 64;
  std::size_t max_nodes = 10000;  // elements and runs of text in one top-level element
  // Memory one parsed top-level element may hold: its names, values, text and node costs.
  std::size_t memory_budget() const { return kMemoryPerWireByte * max_element_bytes + kMemoryFloor; }
  static constexpr std::size_t kMemoryPerWireByte = 8;
  static constexpr std::size_t kMemoryFloor = 16 << 10;  // room for the nodes of the smallest stanzas
};

class StreamParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // The header's attributes, and its default namespace as attribute "xmlns".
    virtual void stream_opened(const Element& header) = 0;
    // A complete top-level element and how many bytes it took on the wire.
    virtual void element(Element element, std::size_t bytes) = 0;
    virtual void stream_closed() = 0;
  };

  StreamParser(Handler& handler, ParserLimits limits);
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;
  ~StreamParser();

  // Parses what arrived. False once the stream is in error; error() says which. A handler
  // may call reset() (STARTTLS, SASL success), after which the rest of `bytes` is ignored:
  // the peer must not send more before the new stream.
  bool feed(std::string_view bytes);
  void reset();
  // Between stanzas, frees expat and what it holds (about 10 KiB) until bytes come again:
  // an idle stream then costs no parser. The next feed() makes a new one and brings it to
  // where this one was with the header's namespace declarations, unseen by the handler.
  // False (and nothing changes) unless the stream is open with nothing pending.
  bool hibernate();
  bool hibernating() const { return parser_ == nullptr; }
  ParseError error() const { return error_; }
  const std::string& error_text() const { return error_text_; }
  void set_limits(ParserLimits limits) { limits_ = limits; }
  // Top-level elements come without their content (children and text), which is still
  // parsed and held to every rule and limit: for a process that only checks stanzas.
  void set_top_only(bool top_only) { top_only_ = top_only; }

 private:
  static void XMLCALL on_start(void* self, const XML_Char* name, const XML_Char** attributes);
  static void XMLCALL on_end(void* self, const XML_Char* name);
  static void XMLCALL on_text(void* self, const XML_Char* text, int length);
  static void XMLCALL on_namespace(void* self, const XML_Char* prefix, const XML_Char* uri);
  static void XMLCALL on_doctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*, int);
  static void XMLCALL on_comment(void* self, const XML_Char*);
  static void XMLCALL on_pi(void* self, const XML_Char*, const XML_Char*);
  static void XMLCALL on_xml_decl(void* self, const XML_Char* version, const XML_Char* encoding, int standalone);
  static void XMLCALL on_entity_decl(void* self, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                                     const XML_Char*, const XML_Char*, const XML_Char*);

  static constexpr std::size_t kSlice = 4096;
  // expat keeps every element and attribute name it has seen in tables that live as long as
  // the parser: a long stream of ever new names would grow them without end. After this many
  // bytes the parser is replaced between two stanzas, as hibernate() and wake() do.
  static constexpr std::int64_t kRenewBytes = 64 << 10;

  // Namespaces kept between elements beyond this many bytes are let go at the next stanza.
  static constexpr std::size_t kInternedBytes = 16 << 10;

  void create();
  void make_parser();
  Element make_element(const XML_Char* name, const XML_Char** attributes, std::size_t count);
  Namespace intern(std::string_view uri);
  bool charge(std::size_t bytes, bool new_node);
  bool wake();
  bool parse(std::string_view bytes);
  bool check_pending();
  void fail(ParseError error, std::string text);
  bool check_size();
  std::size_t position() const;
  std::size_t event_end() const;

  Handler& handler_;
  ParserLimits limits_;
  XML_Parser parser_ = nullptr;
  ParseError error_ = ParseError::kNone;
  std::string error_text_;
  bool reset_requested_ = false;
  std::size_t depth_ = 0;              // 0 before the header, 1 inside the stream
  std::size_t element_start_ = 0;      // byte index where the current top-level element began
  std::size_t boundary_ = 0;           // byte index after the last complete element or header
  std::size_t fed_ = 0;                // bytes given to this parser
  std::string pending_;                // fed but not yet given to expat
  bool in_tag_ = false;                // the last '<' or '>' fed was '<'.
  std::string header_default_ns_;
  // The header's namespace declarations, to declare again when waking.
  std::vector<std::pair<std::string, std::string>> header_namespaces_;
  bool waking_ = false;      // the parser is reading the header made up by wake()
  bool top_only_ = false;
  std::int64_t origin_ = 0;  // stream position of the current parser's first byte
  std::vector<Element> open_;          // the top-level element being built and its open descendants
  // Namespace URIs seen on this stream, keyed by a view of the shared string itself.
  std::unordered_map<std::string_view, Namespace> namespaces_;
  std::size_t namespace_bytes_ = 0;
  // What the top-level element being parsed holds so far.
  std::size_t nodes_ = 0;
  std::size_t held_bytes_ = 0;
  bool in_text_ = false;  // the last event was character data (one run of text, one node)
};

}  // namespace xmppd::xml
