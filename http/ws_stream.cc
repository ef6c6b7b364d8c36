// RFC 7395 framing <-> a plain XMPP client stream (ws_stream.h says what is trusted).
#include "http/ws_stream.h"

#include <utility>

#include "xmpp/namespaces.h"

namespace xmppd::http {
namespace {

constexpr std::string_view kXmlLang = "http://www.w3.org/XML/1998/namespace lang";

void append_attribute(std::string& out, std::string_view name, const std::string* value) {
  if (value == nullptr) return;
  out += ' ';
  out += name;
  out += "='";
  xml::escape(out, *value, true);
  out += '\'';
}

std::string lowercase(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string close_message() { return "<close xmlns='" + std::string(kFramingNs) + "'/>"; }

}  // namespace

// The router's output is one XMPP stream (restarted after SASL): parsed as it comes.
struct WsStream::RouterSide final : xml::StreamParser::Handler {
  RouterSide(WsStream& owner, std::size_t limit) : owner(owner), parser(*this, xml::ParserLimits{limit}) {}
  void stream_opened(const xml::Element& header) override { owner.router_opened(header); }
  void element(xml::Element element, std::size_t) override { owner.router_element(element); }
  void stream_closed() override { owner.router_stream_closed(); }

  WsStream& owner;
  xml::StreamParser parser;
};

WsStream::WsStream(std::size_t max_message, std::size_t max_router_element)
    : max_message_(max_message),
      client_parser_(xmpp::kClientNs),
      router_(std::make_unique<RouterSide>(*this, max_router_element)) {}

WsStream::~WsStream() = default;

bool WsStream::fail(std::string condition, std::string text, std::uint16_t code) {
  if (!failed()) failure_ = Failure{std::move(condition), std::move(text), code};
  return false;
}

bool WsStream::client_message(std::string_view message, std::string& to_router) {
  if (failed()) return false;
  if (client_ == ClientState::kClosed) return fail("policy-violation", "a message after <close/>", kCloseProtocolError);
  std::string why;
  xml::ParseError kind = xml::ParseError::kNone;
  std::optional<xml::Element> element = client_parser_.parse(message, max_message_, &why, &kind);
  if (!element) {
    // RFC 7395 §3.3.3: every message is one complete element; anything else is bad payload.
    const char* condition = kind == xml::ParseError::kRestrictedXml ? "restricted-xml"
                            : kind == xml::ParseError::kTooBig || kind == xml::ParseError::kTooComplex
                                ? "policy-violation"
                                : "not-well-formed";
    return fail(condition, why, kind == xml::ParseError::kTooBig ? kCloseTooBig : kCloseInvalidPayload);
  }
  if (element->is(kFramingNs, "open")) {
    if (client_ != ClientState::kAwaitOpen) return fail("policy-violation", "a second <open/>", kCloseProtocolError);
    if (std::string to = lowercase(element->attribute_or("to")); !hosts_.empty() && !hosts_.contains(to))
      return fail("host-unknown", "WebSocket is not enabled for " + (to.empty() ? std::string("this host") : to), kCloseNormal);
    open_stream(*element, to_router);
    return true;
  }
  if (client_ != ClientState::kOpen)
    return fail("policy-violation", "the stream must begin with <open/>", kCloseProtocolError);
  if (element->is(kFramingNs, "close")) {
    client_ = ClientState::kClosed;
    to_router += "</stream:stream>";
    return true;
  }
  if (element->ns() == kFramingNs) return fail("unsupported-stanza-type", "only <open/> and <close/> are framing", kCloseProtocolError);
  element->serialize(to_router, xmpp::kClientNs);
  return true;
}

// <open/> becomes the header of a client stream; only the attributes RFC 7395 names pass,
// each escaped again, so that nothing but a well-formed header reaches the router.
void WsStream::open_stream(const xml::Element& open, std::string& to_router) {
  client_ = ClientState::kOpen;
  to_router += "<?xml version='1.0'?><stream:stream xmlns='";
  to_router += xmpp::kClientNs;
  to_router += "' xmlns:stream='";
  to_router += xml::kStreamNs;
  to_router += '\'';
  append_attribute(to_router, "to", open.attribute("to"));
  append_attribute(to_router, "from", open.attribute("from"));
  append_attribute(to_router, "version", open.attribute("version"));
  append_attribute(to_router, "xml:lang", open.attribute(kXmlLang));
  to_router += '>';
}

bool WsStream::router_bytes(std::string_view bytes, std::vector<std::string>& to_client) {
  if (failed()) return false;
  out_ = &to_client;
  bool ok = router_->parser.feed(bytes);
  out_ = nullptr;
  if (!ok) return fail("internal-server-error", "the server's stream broke: " + router_->parser.error_text(), kCloseInternalError);
  return true;
}

void WsStream::router_opened(const xml::Element& header) {
  std::string out = "<open xmlns='";
  out += kFramingNs;
  out += '\'';
  append_attribute(out, "from", header.attribute("from"));
  append_attribute(out, "to", header.attribute("to"));
  append_attribute(out, "id", header.attribute("id"));
  append_attribute(out, "version", header.attribute("version"));
  append_attribute(out, "xml:lang", header.attribute(kXmlLang));
  out += "/>";
  router_opened_ = true;
  out_->push_back(std::move(out));
}

void WsStream::router_element(const xml::Element& element) {
  std::string out;
  // Each message is a document of its own: stanzas say xmlns='jabber:client', stream-level
  // elements declare the stream prefix (RFC 7395 §3.3.3).
  if (element.ns() == xml::kStreamNs)
    element.serialize_prefixed(out, "stream");
  else
    element.serialize(out);
  out_->push_back(std::move(out));
  // RFC 6120 §6.4.6: after <success/> the client opens a new stream, and so does the router.
  // The router writes nothing more before the client's new header, so nothing is lost by
  // the parser's reset dropping the rest of this read.
  if (element.is(xmpp::kSaslNs, "success")) {
    router_->parser.reset();
    if (client_ == ClientState::kOpen) client_ = ClientState::kAwaitOpen;
  }
}

void WsStream::router_stream_closed() {
  router_closed_ = true;
  out_->push_back(close_message());
}

std::vector<std::string> WsStream::failure_messages() const {
  std::vector<std::string> out;
  if (router_closed_) return out;  // the stream is over already
  if (!router_opened_) out.push_back("<open xmlns='" + std::string(kFramingNs) + "' version='1.0'/>");
  std::string error = "<stream:error xmlns:stream='";
  error += xml::kStreamNs;
  error += "'><";
  error += failure_.condition;
  error += " xmlns='";
  error += xmpp::kStreamErrorNs;
  error += "'/><text xmlns='";
  error += xmpp::kStreamErrorNs;
  error += "' xml:lang='en'>";
  xml::escape(error, failure_.text, false);
  error += "</text></stream:error>";
  out.push_back(std::move(error));
  out.push_back(close_message());
  return out;
}

}  // namespace xmppd::http
