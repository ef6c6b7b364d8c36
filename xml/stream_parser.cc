#include "xml/stream_parser.h"

#include <algorithm>
#include <cstring>

namespace xmppd::xml {
namespace {

constexpr char kSeparator = '\x01';

StreamParser* self_of(void* p) { return static_cast<StreamParser*>(p); }

}  // namespace

StreamParser::StreamParser(Handler& handler, ParserLimits limits) : handler_(handler), limits_(limits) { create(); }

StreamParser::~StreamParser() {
  if (parser_ != nullptr) XML_ParserFree(parser_);
}

// expat has refused duplicate attributes already: they go in as they come. The name comes
// as "ns\x01local" with namespace processing, or as "local" in no namespace.
Element StreamParser::make_element(const XML_Char* name, const XML_Char** attributes, std::size_t count) {
  std::string_view qualified(name);
  std::size_t sep = qualified.find(kSeparator);
  std::string_view ns = sep == std::string_view::npos ? std::string_view() : qualified.substr(0, sep);
  std::string local(sep == std::string_view::npos ? qualified : qualified.substr(sep + 1));
  std::size_t bytes = local.size();
  Element::Attributes list;
  list.reserve(count / 2);
  for (std::size_t i = 0; i < count; i += 2) {
    std::string key(attributes[i]);  // "ns local" for a namespaced one
    if (std::size_t at = key.find(kSeparator); at != std::string::npos) key[at] = ' ';
    list.emplace_back(std::move(key), attributes[i + 1]);
    bytes += sizeof(list.back()) + list.back().first.size() + list.back().second.size();
  }
  Namespace shared = intern(ns);
  charge(bytes, true);
  return Element(std::move(shared), std::move(local), std::move(list));
}

// A URI seen before on this stream is shared; a new one is charged to the element that
// brings it. The table is bounded: past kInternedBytes it is emptied between stanzas.
Namespace StreamParser::intern(std::string_view uri) {
  if (uri.empty()) return make_namespace(uri);
  if (auto it = namespaces_.find(uri); it != namespaces_.end()) return it->second;
  Namespace shared = make_namespace(uri);
  charge(uri.size() + kNodeCost, false);
  namespaces_.emplace(*shared, shared);
  namespace_bytes_ += uri.size();
  return shared;
}

// Counts what the element being parsed holds; false (and the stream fails) past a limit.
bool StreamParser::charge(std::size_t bytes, bool new_node) {
  if (error_ != ParseError::kNone) return false;
  held_bytes_ += bytes + (new_node ? kNodeCost : 0);
  if (new_node && ++nodes_ > limits_.max_nodes) {
    fail(ParseError::kTooComplex, "stanza of more than " + std::to_string(limits_.max_nodes) + " nodes");
    return false;
  }
  if (held_bytes_ > limits_.memory_budget()) {
    fail(ParseError::kTooComplex, "stanza over its memory budget of " + std::to_string(limits_.memory_budget()) +
                                      " bytes once parsed");
    return false;
  }
  return true;
}

void StreamParser::create() {
  make_parser();
  namespaces_.clear();
  namespace_bytes_ = 0;
  depth_ = 0;
  open_.clear();
  reset_requested_ = false;
  fed_ = boundary_ = element_start_ = 0;
  origin_ = 0;
  pending_.clear();
  in_tag_ = false;
  header_default_ns_.clear();
  header_namespaces_.clear();
}

void StreamParser::make_parser() {
  if (parser_ != nullptr) XML_ParserFree(parser_);
  parser_ = XML_ParserCreateNS("UTF-8", kSeparator);
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, on_start, on_end);
  XML_SetCharacterDataHandler(parser_, on_text);
  XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
  XML_SetCommentHandler(parser_, on_comment);
  XML_SetProcessingInstructionHandler(parser_, on_pi);
  XML_SetEntityDeclHandler(parser_, on_entity_decl);
  XML_SetXmlDeclHandler(parser_, on_xml_decl);
  XML_SetStartNamespaceDeclHandler(parser_, on_namespace);
  // No external entity is ever fetched (expat does not by default; say so).
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
  // Debian's expat defers reparsing a token after a small feed (the fix for CVE-2023-52425),
  // which would hold a complete stanza back until more bytes arrive: a stream protocol must
  // act on each element at once. feed() batches small pieces instead, which keeps the
  // quadratic cost that deferral guards against away.
  // (meson.build refuses an expat without the switch.)
  XML_SetReparseDeferralEnabled(parser_, XML_FALSE);
}

bool StreamParser::hibernate() {
  // Only where expat holds nothing: everything fed ended an element, or was whitespace
  // between elements. A '>' in an attribute value or a partial reference between stanzas
  // leaves bytes inside expat that a new parser would never see.
  if (parser_ == nullptr || depth_ != 1 || !open_.empty() || !pending_.empty() || in_tag_ || reset_requested_ ||
      error_ != ParseError::kNone || boundary_ != fed_)
    return false;
  // The made-up header must open the stream element under the same prefix as the real one,
  // or the peer's closing tag would not match it.
  bool prefixed = false;
  for (const auto& [prefix, uri] : header_namespaces_) prefixed |= !prefix.empty() && uri == kStreamNs;
  if (!prefixed) return false;
  XML_ParserFree(parser_);
  parser_ = nullptr;
  pending_.shrink_to_fit();
  return true;
}

bool StreamParser::wake() {
  make_parser();
  std::string prefix;
  std::string header = "<";
  for (const auto& [p, uri] : header_namespaces_)
    if (!p.empty() && uri == kStreamNs) prefix = p;
  header += prefix + ":stream";
  for (const auto& [p, uri] : header_namespaces_) {
    header += p.empty() ? " xmlns='" : " xmlns:" + p + "='";
    escape(header, uri, true);
    header += "'";
  }
  header += ">";
  // The parser's byte 0 is that many bytes before the stream position where it resumes.
  origin_ = static_cast<std::int64_t>(fed_) - static_cast<std::int64_t>(header.size());
  waking_ = true;
  XML_Status status = XML_Parse(parser_, header.data(), static_cast<int>(header.size()), XML_FALSE);
  waking_ = false;
  if (status != XML_STATUS_OK || depth_ != 1) {
    fail(ParseError::kNotWellFormed, "cannot resume the stream");
    return false;
  }
  return true;
}

void StreamParser::reset() {
  reset_requested_ = true;
  if (parser_ != nullptr) XML_StopParser(parser_, XML_FALSE);
}

void StreamParser::fail(ParseError error, std::string text) {
  if (error_ != ParseError::kNone) return;
  error_ = error;
  error_text_ = std::move(text);
  if (parser_ != nullptr) XML_StopParser(parser_, XML_FALSE);
}

std::size_t StreamParser::position() const {
  return static_cast<std::size_t>(origin_ + XML_GetCurrentByteIndex(parser_));
}

bool StreamParser::check_size() {
  if (depth_ < 2 || event_end() - element_start_ <= limits_.max_element_bytes) return true;
  fail(ParseError::kTooBig, "stanza over " + std::to_string(limits_.max_element_bytes) + " bytes");
  return false;
}

bool StreamParser::feed(std::string_view bytes) {
  if (reset_requested_) create();
  if (error_ != ParseError::kNone) return false;
  if (parser_ != nullptr && static_cast<std::int64_t>(fed_) - origin_ > kRenewBytes) hibernate();
  if (parser_ == nullptr && !wake()) return false;
  fed_ += bytes.size();
  pending_.append(bytes);
  // Inside a tag or an element a token can only end at '>' (tags) or '<' (text): until one
  // arrives, or enough bytes gather, expat is not asked again, so a huge token sent a byte
  // at a time is reparsed once per slice rather than once per byte. Between elements bytes
  // go through at once: keep-alives and stray text are dealt with when they arrive.
  std::size_t last = bytes.find_last_of("<>");
  bool boundary = last != std::string_view::npos;
  bool inside = in_tag_ || depth_ >= 2;
  if (boundary) in_tag_ = bytes[last] == '<';
  if (!boundary && inside && pending_.size() < kSlice) return check_pending();
  std::string input = std::move(pending_);
  pending_.clear();
  return parse(input);
}

bool StreamParser::check_pending() {
  std::size_t since = fed_ - (depth_ >= 2 ? element_start_ : boundary_);
  if (since <= limits_.max_element_bytes) return true;
  fail(ParseError::kTooBig, "element over " + std::to_string(limits_.max_element_bytes) + " bytes");
  return false;
}

// Parsed in slices, and the bytes since the last complete element checked after each:
// expat holds an unfinished token (a huge attribute value, say) without reporting it.
bool StreamParser::parse(std::string_view bytes) {
  std::size_t offset = fed_ - bytes.size();  // stream position of bytes[0]
  while (!bytes.empty()) {
    std::string_view slice = bytes.substr(0, kSlice);
    bytes.remove_prefix(slice.size());
    offset += slice.size();
    XML_Status status = XML_Parse(parser_, slice.data(), static_cast<int>(slice.size()), XML_FALSE);
    if (reset_requested_) {
      create();
      return true;
    }
    if (status != XML_STATUS_OK) {
      if (error_ == ParseError::kNone) {
        XML_Error code = XML_GetErrorCode(parser_);
        // An entity that was never declared: only the five predefined ones exist here.
        fail(code == XML_ERROR_UNDEFINED_ENTITY ? ParseError::kRestrictedXml : ParseError::kNotWellFormed,
             XML_ErrorString(code));
      }
      return false;
    }
    std::size_t since = offset - (depth_ >= 2 ? element_start_ : boundary_);
    if (since > limits_.max_element_bytes) {
      fail(ParseError::kTooBig, "element over " + std::to_string(limits_.max_element_bytes) + " bytes");
      return false;
    }
  }
  return true;
}

// The byte just after the event being reported.
std::size_t StreamParser::event_end() const {
  return position() + static_cast<std::size_t>(XML_GetCurrentByteCount(parser_));
}

void XMLCALL StreamParser::on_start(void* p, const XML_Char* name, const XML_Char** attributes) {
  StreamParser* self = self_of(p);
  if (self->error_ != ParseError::kNone || self->reset_requested_) return;
  std::size_t count = 0;
  while (attributes[count] != nullptr) count += 2;
  if (count / 2 > self->limits_.max_attributes) {
    self->fail(ParseError::kTooComplex, "too many attributes");
    return;
  }
  if (self->waking_) {
    self->depth_ = 1;
    return;
  }
  if (self->depth_ == 0) {
    Element e = self->make_element(name, attributes, count);
    if (!e.is(kStreamNs, "stream")) {
      self->fail(ParseError::kBadStreamHeader, "the stream does not begin with <stream:stream>");
      return;
    }
    if (self->event_end() > self->limits_.max_element_bytes) {
      self->fail(ParseError::kTooBig, "stream header over " + std::to_string(self->limits_.max_element_bytes) + " bytes");
      return;
    }
    if (!self->header_default_ns_.empty()) e.set_attribute("xmlns", self->header_default_ns_);
    self->depth_ = 1;
    self->boundary_ = self->event_end();
    self->handler_.stream_opened(e);
    return;
  }
  if (self->depth_ == 1) {
    self->element_start_ = self->position();
    self->nodes_ = self->held_bytes_ = 0;
    if (self->namespace_bytes_ > kInternedBytes) {
      self->namespaces_.clear();
      self->namespace_bytes_ = 0;
    }
  }
  self->in_text_ = false;
  if (self->depth_ - 1 >= self->limits_.max_depth) {
    self->fail(ParseError::kTooComplex, "elements nested too deep");
    return;
  }
  ++self->depth_;
  if (self->depth_ > 2 && self->top_only_) {
    // Content that is checked but not kept still counts toward the node cap.
    self->charge(0, true);
  } else {
    Element element = self->make_element(name, attributes, count);
    if (self->error_ != ParseError::kNone) return;
    self->open_.push_back(std::move(element));
  }
  self->check_size();
}

void XMLCALL StreamParser::on_end(void* p, const XML_Char*) {
  StreamParser* self = self_of(p);
  if (self->error_ != ParseError::kNone || self->reset_requested_) return;
  if (self->depth_ == 1) {
    self->depth_ = 0;
    self->handler_.stream_closed();
    return;
  }
  if (!self->check_size()) return;
  self->in_text_ = false;
  --self->depth_;
  if (self->depth_ >= 2 && self->top_only_) return;
  Element done = std::move(self->open_.back());
  self->open_.pop_back();
  if (!self->open_.empty()) {
    self->open_.back().add_child(std::move(done));
    return;
  }
  self->boundary_ = self->event_end();
  self->handler_.element(std::move(done), self->boundary_ - self->element_start_);
}

void XMLCALL StreamParser::on_text(void* p, const XML_Char* text, int length) {
  StreamParser* self = self_of(p);
  if (self->error_ != ParseError::kNone || self->reset_requested_) return;
  if (self->open_.empty()) {
    // Between top-level elements only whitespace (keep-alives) may appear.
    for (int i = 0; i < length; ++i)
      if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
        self->fail(ParseError::kNotWellFormed, "text outside of any stanza");
        return;
      }
    self->boundary_ = self->event_end();
    return;
  }
  if (!self->check_size()) return;
  bool new_node = !self->in_text_;
  self->in_text_ = true;
  if (!self->charge(static_cast<std::size_t>(length), new_node) || self->top_only_) return;
  self->open_.back().add_text(std::string_view(text, static_cast<std::size_t>(length)));
}

// The stream header's default namespace (jabber:client or jabber:server) is a declaration,
// not an attribute, once namespaces are processed: keep it for the header.
void XMLCALL StreamParser::on_namespace(void* p, const XML_Char* prefix, const XML_Char* uri) {
  StreamParser* self = self_of(p);
  if (self->depth_ != 0 || self->waking_) return;
  if (prefix == nullptr) self->header_default_ns_ = uri != nullptr ? uri : "";
  self->header_namespaces_.emplace_back(prefix != nullptr ? prefix : "", uri != nullptr ? uri : "");
}

// The parser reads UTF-8 whatever the declaration says; one that says otherwise is refused
// rather than misread (RFC 6120 §11.6).
void XMLCALL StreamParser::on_xml_decl(void* p, const XML_Char*, const XML_Char* encoding, int) {
  if (encoding == nullptr) return;
  std::string_view name(encoding);
  static constexpr std::string_view kUtf8 = "utf-8";
  bool utf8 = name.size() == kUtf8.size() && std::equal(name.begin(), name.end(), kUtf8.begin(), [](char a, char b) {
                return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
              });
  if (!utf8) self_of(p)->fail(ParseError::kUnsupportedEncoding, "the stream must be UTF-8, not " + std::string(name));
}

void XMLCALL StreamParser::on_doctype(void* p, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  self_of(p)->fail(ParseError::kRestrictedXml, "a DOCTYPE is not allowed");
}

void XMLCALL StreamParser::on_comment(void* p, const XML_Char*) {
  self_of(p)->fail(ParseError::kRestrictedXml, "comments are not allowed");
}

void XMLCALL StreamParser::on_pi(void* p, const XML_Char*, const XML_Char*) {
  self_of(p)->fail(ParseError::kRestrictedXml, "processing instructions are not allowed");
}

void XMLCALL StreamParser::on_entity_decl(void* p, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                                          const XML_Char*, const XML_Char*, const XML_Char*) {
  self_of(p)->fail(ParseError::kRestrictedXml, "entity declarations are not allowed");
}

}  // namespace xmppd::xml
