// The incremental XMPP stream parser: the header, whole top-level elements and their size on
// the wire, RFC 6120 §11 restricted XML, the size/depth/attribute limits against a peer that
// sends anything, reset() for STARTTLS and SASL, and independence from how bytes are split.
#include "xml/stream_parser.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.h"
#include "xml/element_test_util.h"

namespace xmppd::xml {

// Names the error in gtest's failure messages.
void PrintTo(ParseError error, std::ostream* os) {
  switch (error) {
    case ParseError::kNone:
      *os << "kNone";
      return;
    case ParseError::kNotWellFormed:
      *os << "kNotWellFormed";
      return;
    case ParseError::kRestrictedXml:
      *os << "kRestrictedXml";
      return;
    case ParseError::kTooBig:
      *os << "kTooBig";
      return;
    case ParseError::kTooComplex:
      *os << "kTooComplex";
      return;
    case ParseError::kBadStreamHeader:
      *os << "kBadStreamHeader";
      return;
    case ParseError::kUnsupportedEncoding:
      *os << "kUnsupportedEncoding";
      return;
  }
  *os << "ParseError(" << static_cast<int>(error) << ")";
}

namespace {

constexpr std::string_view kXmlLang = "http://www.w3.org/XML/1998/namespace lang";
constexpr std::string_view kXmlDecl = "<?xml version='1.0'?>";
constexpr std::string_view kClientHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.org' version='1.0'>";
constexpr std::size_t kDefaultLimit = 64 * 1024;

ParserLimits limits(std::size_t max_element_bytes = kDefaultLimit, std::size_t max_depth = 32,
                    std::size_t max_attributes = 64, std::size_t max_nodes = 10000) {
  return ParserLimits{max_element_bytes, max_depth, max_attributes, max_nodes};
}

using testing::attr;
using testing::child_text;
using testing::dump;

std::string serialized(const Element& e) {
  std::string out;
  e.serialize(out);
  return out;
}

struct Recorder : StreamParser::Handler {
  std::vector<Element> headers;
  std::vector<Element> elements;
  std::vector<std::size_t> sizes;
  int closed = 0;
  std::vector<std::string> log;  // every event in order, comparable between runs
  std::function<void(const Element&)> after_element;

  void stream_opened(const Element& header) override {
    headers.push_back(header);
    log.push_back("opened " + dump(header));
  }
  void element(Element element, std::size_t bytes) override {
    log.push_back("element " + std::to_string(bytes) + " " + dump(element) + " " + serialized(element));
    sizes.push_back(bytes);
    elements.push_back(std::move(element));
    if (after_element) after_element(elements.back());
  }
  void stream_closed() override {
    ++closed;
    log.push_back("closed");
  }
};

struct Harness {
  explicit Harness(ParserLimits l = limits()) : parser(rec, l) {}
  Recorder rec;
  StreamParser parser;

  // Feeds `bytes` in pieces of `piece` bytes (0: all at once); false as soon as feed() is.
  bool feed(std::string_view bytes, std::size_t piece = 0) {
    if (piece == 0) return parser.feed(bytes);
    for (std::size_t i = 0; i < bytes.size(); i += piece)
      if (!parser.feed(bytes.substr(i, piece))) return false;
    return true;
  }
};

// The event log, the result of the last feed() and the error.
struct Outcome {
  std::vector<std::string> log;
  bool ok;
  ParseError error;
  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << (o.ok ? "ok" : "failed") << ", error ";
  PrintTo(o.error, os);
  for (const std::string& event : o.log) *os << "\n    " << event.substr(0, 200);
}

// Feeds the stream in pieces of the given sizes (the rest at the end), until a feed fails.
Outcome run_split(std::string_view stream, const std::vector<std::size_t>& cuts, ParserLimits l = limits()) {
  Harness h(l);
  bool ok = true;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    if (!ok || at >= stream.size()) break;
    ok = h.parser.feed(stream.substr(at, cut));
    at += cut;
  }
  if (ok && at < stream.size()) ok = h.parser.feed(stream.substr(at));
  return {h.rec.log, ok, h.parser.error()};
}

Outcome run_whole(std::string_view stream, ParserLimits l = limits()) { return run_split(stream, {}, l); }

Outcome run_bytewise(std::string_view stream, ParserLimits l = limits()) {
  return run_split(stream, std::vector<std::size_t>(stream.size(), 1), l);
}

std::vector<std::size_t> random_cuts(std::size_t total, unsigned seed, std::size_t max_piece) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> piece(1, max_piece);
  std::vector<std::size_t> cuts;
  for (std::size_t sum = 0; sum < total;) {
    cuts.push_back(piece(rng));
    sum += cuts.back();
  }
  return cuts;
}

// The stream for a failure message, cut short.
std::string shown(std::string_view stream) {
  if (stream.size() <= 300) return std::string(stream);
  return std::string(stream.substr(0, 300)) + "... (" + std::to_string(stream.size()) + " bytes)";
}

// Checks that the stream fails with `expected` however it is split, and reports no element
// after the first `elements_before` ones.
void expect_error_any_split(std::string_view stream, ParseError expected, std::size_t elements_before = 0,
                            ParserLimits l = limits()) {
  std::vector<Outcome> outcomes = {run_whole(stream, l), run_bytewise(stream, l)};
  for (unsigned seed = 1; seed <= 5; ++seed)
    outcomes.push_back(run_split(stream, random_cuts(stream.size(), seed, 17), l));
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    EXPECT_FALSE(o.ok) << "split #" << i << " of: " << shown(stream);
    EXPECT_EQ(o.error, expected) << "split #" << i << " of: " << shown(stream);
    std::size_t elements = 0;
    for (const std::string& event : o.log) elements += event.starts_with("element ");
    EXPECT_EQ(elements, elements_before) << "split #" << i << " of: " << shown(stream);
  }
}

std::string header() { return std::string(kClientHeader); }

// ---------------------------------------------------------------------------------------
// The stream header

TEST(StreamParserHeader, AttributesAndDefaultNamespaceAreReported) {
  Harness h;
  ASSERT_TRUE(
      h.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
             "to='example.org' from='juliet@example.com' version='1.0' id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' "
             "xml:lang='en'>"));
  ASSERT_EQ(h.rec.headers.size(), 1u);
  const Element& s = h.rec.headers[0];
  EXPECT_TRUE(s.is(kStreamNs, "stream"));
  EXPECT_EQ(attr(s, "to"), "example.org");
  EXPECT_EQ(attr(s, "from"), "juliet@example.com");
  EXPECT_EQ(attr(s, "version"), "1.0");
  EXPECT_EQ(attr(s, "id"), "++TR84Sm6A3hnt3Q065SnAbbk3Y=");
  EXPECT_EQ(attr(s, kXmlLang), "en");
  EXPECT_EQ(s.attribute("xml:lang"), nullptr);
  EXPECT_EQ(attr(s, "xmlns"), "jabber:client");
  // The stream prefix's declaration is not an attribute.
  EXPECT_EQ(s.attributes().size(), 6u);
  EXPECT_EQ(h.rec.elements.size(), 0u);
  EXPECT_EQ(h.rec.closed, 0);
  EXPECT_EQ(h.parser.error(), ParseError::kNone);
}

TEST(StreamParserHeader, ServerNamespaceWithDialbackPrefix) {
  Harness h;
  ASSERT_TRUE(
      h.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' "
             "xmlns:db='jabber:server:dialback' from='a.example' to='b.example' version='1.0'>"));
  ASSERT_EQ(h.rec.headers.size(), 1u);
  const Element& s = h.rec.headers[0];
  EXPECT_EQ(attr(s, "xmlns"), "jabber:server");
  EXPECT_EQ(s.attribute("xmlns:db"), nullptr);
  EXPECT_EQ(s.attributes().size(), 4u);
}

TEST(StreamParserHeader, XmlDeclarationBeforeTheHeaderChangesNothing) {
  const std::string bare = header() + "<presence/>";
  for (std::string decl : {std::string(kXmlDecl), std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
                           std::string("<?xml version='1.0' encoding='utf-8' standalone='yes'?>")}) {
    Harness with, without;
    ASSERT_TRUE(with.feed(decl + bare)) << decl << " " << with.parser.error_text();
    ASSERT_TRUE(without.feed(bare));
    ASSERT_EQ(with.rec.headers.size(), 1u) << decl;
    EXPECT_EQ(with.rec.log, without.rec.log) << decl;
    ASSERT_EQ(with.rec.sizes.size(), 1u);
    EXPECT_EQ(with.rec.sizes[0], std::string_view("<presence/>").size());
  }
}

TEST(StreamParserHeader, NoDefaultNamespaceMeansNoXmlnsAttribute) {
  Harness h;
  ASSERT_TRUE(h.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='example.org'>"));
  ASSERT_EQ(h.rec.headers.size(), 1u);
  EXPECT_EQ(h.rec.headers[0].attribute("xmlns"), nullptr);
  EXPECT_EQ(h.rec.headers[0].attributes().size(), 1u);
}

TEST(StreamParserHeader, FirstElementMustBeStreamInTheStreamsNamespace) {
  for (std::string_view bad : {
           "<stream:stream xmlns:stream='urn:not:streams' xmlns='jabber:client'>",
           "<stream xmlns='jabber:client'>",
           "<message xmlns='jabber:client'/>",
           "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>",
           "<stream:stream xmlns:stream='http://etherx.jabber.org/streams/' xmlns='jabber:client'>",
       }) {
    expect_error_any_split(bad, ParseError::kBadStreamHeader);
    Harness h;
    EXPECT_FALSE(h.feed(bad)) << bad;
    EXPECT_EQ(h.parser.error(), ParseError::kBadStreamHeader) << bad;
    EXPECT_TRUE(h.rec.headers.empty()) << bad;
    EXPECT_FALSE(h.parser.error_text().empty());
  }
}

// ---------------------------------------------------------------------------------------
// Top-level elements

TEST(StreamParserElements, ReportedWholeWithNamespaceAttributesChildrenAndText) {
  Harness h;
  const std::string message =
      "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' xml:lang='en'>"
      "<body>Wherefore art thou, Romeo?</body>"
      "<thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>"
      "<active xmlns='http://jabber.org/protocol/chatstates'/>"
      "</message>";
  ASSERT_TRUE(h.feed(header() + message));
  ASSERT_EQ(h.rec.elements.size(), 1u);
  const Element& m = h.rec.elements[0];
  EXPECT_TRUE(m.is("jabber:client", "message"));
  ASSERT_EQ(m.attributes().size(), 4u);
  EXPECT_EQ(m.attributes()[0], (std::pair<std::string, std::string>("from", "juliet@example.com/balcony")));
  EXPECT_EQ(m.attributes()[1], (std::pair<std::string, std::string>("to", "romeo@example.net")));
  EXPECT_EQ(m.attributes()[2], (std::pair<std::string, std::string>("type", "chat")));
  EXPECT_EQ(m.attributes()[3], (std::pair<std::string, std::string>(std::string(kXmlLang), "en")));
  std::vector<const Element*> children = m.children();
  ASSERT_EQ(children.size(), 3u);
  EXPECT_TRUE(children[0]->is("jabber:client", "body"));
  EXPECT_EQ(children[0]->text(), "Wherefore art thou, Romeo?");
  EXPECT_TRUE(children[1]->is("jabber:client", "thread"));
  EXPECT_EQ(children[1]->text(), "e0ffe42b28561960c6b12b944a092794b9683a38");
  EXPECT_TRUE(children[2]->is("http://jabber.org/protocol/chatstates", "active"));
  EXPECT_TRUE(children[2]->children().empty());
  EXPECT_EQ(m.text(), "");
  EXPECT_EQ(h.rec.sizes[0], message.size());
}

TEST(StreamParserElements, DeepChildrenAndMixedContent) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<iq type='result' id='r1'><query xmlns='jabber:iq:roster'>"
                                "<item jid='a@x'><group>Friends</group><group>Work</group></item>"
                                "<item jid='b@x'/></query></iq>"
                                "<message><body>one <b xmlns='urn:x'>two</b> three</body></message>"));
  ASSERT_EQ(h.rec.elements.size(), 2u);
  const Element* query = h.rec.elements[0].child("jabber:iq:roster", "query");
  ASSERT_NE(query, nullptr);
  std::vector<const Element*> items = query->children();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(items[0]->is("jabber:iq:roster", "item"));
  EXPECT_EQ(attr(*items[0], "jid"), "a@x");
  ASSERT_EQ(items[0]->children().size(), 2u);
  EXPECT_EQ(items[0]->children()[0]->text(), "Friends");
  EXPECT_EQ(items[0]->children()[1]->text(), "Work");
  EXPECT_EQ(attr(*items[1], "jid"), "b@x");
  const Element* body = h.rec.elements[1].child("jabber:client", "body");
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->text(), "one  three");
  ASSERT_NE(body->child("urn:x", "b"), nullptr);
  EXPECT_EQ(child_text(*body, "urn:x", "b"), "two");
  EXPECT_EQ(serialized(h.rec.elements[1]),
            "<message xmlns='jabber:client'><body>one <b xmlns='urn:x'>two</b> three</body></message>");
}

TEST(StreamParserElements, PrefixedNamesAndNamespacedAttributes) {
  Harness h;
  ASSERT_TRUE(h.feed(header() +
                     "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                     "</stream:features>"
                     "<db:result xmlns:db='jabber:server:dialback' from='a' to='b'>key</db:result>"
                     "<message xmlns:e='urn:ext' e:hint='x' type='normal'/>"));
  ASSERT_EQ(h.rec.elements.size(), 3u);
  EXPECT_TRUE(h.rec.elements[0].is(kStreamNs, "features"));
  const Element* tls = h.rec.elements[0].child("urn:ietf:params:xml:ns:xmpp-tls", "starttls");
  ASSERT_NE(tls, nullptr);
  EXPECT_NE(tls->child("urn:ietf:params:xml:ns:xmpp-tls", "required"), nullptr);
  EXPECT_TRUE(h.rec.elements[1].is("jabber:server:dialback", "result"));
  EXPECT_EQ(h.rec.elements[1].text(), "key");
  const Element& m = h.rec.elements[2];
  ASSERT_NE(m.attribute("urn:ext hint"), nullptr);
  EXPECT_EQ(attr(m, "urn:ext hint"), "x");
  EXPECT_EQ(m.attribute("hint"), nullptr);
  EXPECT_EQ(m.attribute("xmlns:e"), nullptr);
  EXPECT_EQ(m.attributes().size(), 2u);
}

TEST(StreamParserElements, CharacterReferencesAndPredefinedEntitiesAreDecoded) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<message to='a&amp;b&lt;c&gt;d&apos;e&quot;f&#x41;&#66;'>"
                                "<body>&#x41;&#66;&#x10348;&#xe9; &amp; &lt; &gt; &apos; &quot;</body></message>"));
  ASSERT_EQ(h.rec.elements.size(), 1u);
  EXPECT_EQ(attr(h.rec.elements[0], "to"), "a&b<c>d'e\"fAB");
  EXPECT_EQ(child_text(h.rec.elements[0], "jabber:client", "body"), "AB\xF0\x90\x8D\x88\xC3\xA9 & < > ' \"");
}

TEST(StreamParserElements, CdataSectionIsText) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<message><body><![CDATA[<b>&amp;</b>]]></body></message>"));
  ASSERT_EQ(h.rec.elements.size(), 1u);
  EXPECT_EQ(child_text(h.rec.elements[0], "jabber:client", "body"), "<b>&amp;</b>");
}

TEST(StreamParserElements, ByteCountIsTheExactLengthOnTheWire) {
  const std::vector<std::string> pieces = {
      "<presence/>",
      "<presence  />",
      "<iq type = \"get\"  id='1' ><ping xmlns='urn:xmpp:ping'/></iq >",
      "<message><body>line one\r\nline two\rthree</body></message   >",
      "<message><body>&#x41;&amp;&#66;</body></message>",                      // wire length, not decoded length
      "<message><body>\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80</body></message>",  // bytes, not characters
      "<db:verify xmlns:db='jabber:server:dialback' id='x'>0123</db:verify>",
      "<message><body><![CDATA[x<y]]></body></message>",
  };
  const std::vector<std::string> gaps = {"", " ", "\n", "\r\n\t ", "", "  ", "\n\n", ""};
  std::string stream = std::string(kXmlDecl) + "\n" + header();
  for (std::size_t i = 0; i < pieces.size(); ++i) stream += gaps[i] + pieces[i];
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
    Harness h;
    ASSERT_TRUE(h.feed(stream, piece)) << h.parser.error_text();
    ASSERT_EQ(h.rec.sizes.size(), pieces.size()) << "pieces of " << piece;
    for (std::size_t i = 0; i < pieces.size(); ++i)
      EXPECT_EQ(h.rec.sizes[i], pieces[i].size()) << pieces[i] << " in pieces of " << piece;
  }
}

// ---------------------------------------------------------------------------------------
// However the bytes are split

std::string rich_stream() {
  return std::string(kXmlDecl) + "\n" +
         "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' "
         "version='1.0' xml:lang='fr'>\n"
         "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
         "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>  \r\n"
         "<message to='a@b' type='chat' xml:lang='de'><body>Gr\xC3\xBC\xC3\x9F"
         "e &amp; \xE2\x82\xAC &#x1F600; "
         "&lt;tag&gt;</body><x xmlns='urn:x' a='&apos;&quot;'/>tail</message>\n"
         "<iq type='get' id='q&#x31;'><query xmlns='jabber:iq:version'/></iq>"
         "<presence><show>away</show><status>\xF0\x9F\x8C\x99 back <![CDATA[soon & <later>]]></status></presence>\t"
         "<message><body>" +
         std::string(300, 'z') +
         "</body></message>"
         "</stream:stream>";
}

TEST(StreamParserSplits, OneByteAtATimeRandomSplitsAndWholeGiveTheSameEvents) {
  const std::string stream = rich_stream();
  const Outcome whole = run_whole(stream);
  ASSERT_TRUE(whole.ok);
  ASSERT_EQ(whole.error, ParseError::kNone);
  ASSERT_EQ(whole.log.size(), 7u);  // opened, five elements, closed
  EXPECT_TRUE(whole.log.front().starts_with("opened "));
  EXPECT_EQ(whole.log.back(), "closed");
  EXPECT_EQ(run_bytewise(stream), whole);
  for (unsigned seed = 1; seed <= 50; ++seed)
    EXPECT_EQ(run_split(stream, random_cuts(stream.size(), seed, 1 + seed % 40)), whole) << "seed " << seed;
}

TEST(StreamParserSplits, AnErrorIsTheSameHoweverSplit) {
  const std::string stream = header() + "<message><body>ok</body></message><iq><!-- x --></iq>";
  const Outcome whole = run_whole(stream);
  EXPECT_FALSE(whole.ok);
  EXPECT_EQ(whole.error, ParseError::kRestrictedXml);
  EXPECT_EQ(run_bytewise(stream), whole);
  for (unsigned seed = 1; seed <= 20; ++seed)
    EXPECT_EQ(run_split(stream, random_cuts(stream.size(), seed, 9)), whole) << "seed " << seed;
}

// The peer waits for an answer once it has sent a stanza: each must be reported as soon as
// its last byte is fed, not when more bytes arrive (expat's reparse deferral would hold it).
TEST(StreamParserSplits, EachEventIsReportedAsSoonAsItsLastByteIsFed) {
  const std::string stream = std::string(kXmlDecl) + header() +
                             "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                             "<message to='romeo@example.net' type='chat'><body>hi</body></message>"
                             "<iq type='get' id='" +
                             std::string(3000, 'i') +
                             "'/>"
                             "</stream:stream>";
  // Where each event's last byte is: header, three elements, the closing tag.
  std::vector<std::size_t> ends;
  for (std::string_view end : {"version='1.0'>", "xmpp-tls'/>", "</message>", "i'/>", "</stream:stream>"}) {
    const std::size_t at = stream.find(end);
    ASSERT_NE(at, std::string::npos) << end;
    ends.push_back(at + end.size());
  }
  ASSERT_EQ(run_whole(stream).log.size(), ends.size());
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{30}, std::size_t{100}, std::size_t{1000}}) {
    Harness h;
    for (std::size_t fed = 0; fed < stream.size();) {
      ASSERT_TRUE(h.parser.feed(stream.substr(fed, piece)));
      fed = std::min(stream.size(), fed + piece);
      const auto complete = static_cast<std::size_t>(
          std::count_if(ends.begin(), ends.end(), [&](std::size_t end) { return end <= fed; }));
      ASSERT_EQ(h.rec.log.size(), complete) << "after " << fed << " bytes in pieces of " << piece;
    }
  }
  // The case that hangs STARTTLS: the request in two reads of 30 and 21 bytes.
  Harness h;
  ASSERT_TRUE(h.feed(header()));
  const std::string starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
  ASSERT_TRUE(h.feed(starttls.substr(0, 30)));
  EXPECT_TRUE(h.rec.elements.empty());
  ASSERT_TRUE(h.feed(starttls.substr(30)));
  ASSERT_EQ(h.rec.elements.size(), 1u);
  EXPECT_TRUE(h.rec.elements[0].is("urn:ietf:params:xml:ns:xmpp-tls", "starttls"));
}

// ---------------------------------------------------------------------------------------
// Text between top-level elements

TEST(StreamParserWhitespace, KeepAlivesBetweenElementsAreAccepted) {
  Harness h;
  ASSERT_TRUE(h.feed(header()));
  for (std::string_view ping : {" ", "\n", "\r\n", "\t", "   \n  "}) {
    ASSERT_TRUE(h.feed(ping)) << h.parser.error_text();
    ASSERT_TRUE(h.feed("<presence/>"));
    ASSERT_TRUE(h.feed(ping));
  }
  // Thousands of keep-alives add up to more than the element limit, without being an element.
  Harness small(limits(256));
  ASSERT_TRUE(small.feed(header()));
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(small.feed(" ")) << i << " " << small.parser.error_text();
  ASSERT_TRUE(small.feed(std::string(10000, '\n')));
  ASSERT_TRUE(small.feed("<presence/>"));
  EXPECT_EQ(small.rec.sizes, std::vector<std::size_t>{11});
  EXPECT_EQ(h.rec.elements.size(), 5u);
  EXPECT_EQ(h.parser.error(), ParseError::kNone);
}

TEST(StreamParserWhitespace, OtherTextBetweenElementsIsNotWellFormed) {
  for (std::string_view junk : {"x", " hello ", "&#x41;", "&amp;", "\xC2\xA0" /* no-break space */, "\n.\n"}) {
    expect_error_any_split(header() + "<presence/>" + std::string(junk) + "<presence/>", ParseError::kNotWellFormed, 1);
    expect_error_any_split(header() + std::string(junk), ParseError::kNotWellFormed);
  }
}

// ---------------------------------------------------------------------------------------
// RFC 6120 §11: restricted XML

TEST(StreamParserRestricted, DoctypeIsRejected) {
  for (std::string doctype : {
           std::string("<!DOCTYPE stream:stream>"),
           std::string("<!DOCTYPE stream SYSTEM 'http://attacker.example/x.dtd'>"),
           std::string("<!DOCTYPE stream [ ]>"),
           std::string("<!DOCTYPE stream [<!ELEMENT stream ANY>]>"),
           std::string("<!DOCTYPE stream [<!ENTITY x 'y'>]>"),
           std::string("<!DOCTYPE stream [<!ENTITY % p SYSTEM 'http://attacker.example/p'> %p;]>"),
       }) {
    expect_error_any_split(doctype + header(), ParseError::kRestrictedXml);
    expect_error_any_split(std::string(kXmlDecl) + doctype + header(), ParseError::kRestrictedXml);
  }
}

TEST(StreamParserRestricted, BillionLaughsIsRejectedBeforeAnyExpansion) {
  std::string dtd = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>";
  dtd += "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>";
  for (int i = 2; i <= 9; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " '";
    for (int j = 0; j < 10; ++j) dtd += "&lol" + std::to_string(i - 1) + ";";
    dtd += "'>";
  }
  dtd += "]>";
  const std::string stream = dtd + header() + "<message><body>&lol9;</body></message>";
  expect_error_any_split(stream, ParseError::kRestrictedXml);
  Harness h;
  EXPECT_FALSE(h.feed(stream));
  EXPECT_TRUE(h.rec.headers.empty());
}

TEST(StreamParserRestricted, DoctypeInsideTheStreamIsNotWellFormed) {
  // Not a DOCTYPE to XML there, only a syntax error; either way the stream ends.
  expect_error_any_split(header() + "<!DOCTYPE x>", ParseError::kNotWellFormed);
}

TEST(StreamParserRestricted, CommentsAreRejectedEverywhere) {
  expect_error_any_split("<!-- hi -->" + header(), ParseError::kRestrictedXml);
  expect_error_any_split(std::string(kXmlDecl) + "<!---->" + header(), ParseError::kRestrictedXml);
  expect_error_any_split(header() + "<presence/><!-- between --><presence/>", ParseError::kRestrictedXml, 1);
  expect_error_any_split(header() + "<message><body>a<!-- inside -->b</body></message>", ParseError::kRestrictedXml);
  expect_error_any_split(header() + "<message><!-- first --><body/></message>", ParseError::kRestrictedXml);
}

TEST(StreamParserRestricted, ProcessingInstructionsAreRejectedEverywhere) {
  expect_error_any_split("<?xml-stylesheet href='x.xsl'?>" + header(), ParseError::kRestrictedXml);
  expect_error_any_split(std::string(kXmlDecl) + "<?pi?>" + header(), ParseError::kRestrictedXml);
  expect_error_any_split(header() + "<presence/><?pi data?><presence/>", ParseError::kRestrictedXml, 1);
  expect_error_any_split(header() + "<message><body>a<?pi data?>b</body></message>", ParseError::kRestrictedXml);
}

TEST(StreamParserRestricted, UndefinedEntityReferencesAreRestricted) {
  expect_error_any_split(header() + "<message><body>&foo;</body></message>", ParseError::kRestrictedXml);
  expect_error_any_split(header() + "<message to='&foo;'/>", ParseError::kRestrictedXml);
  expect_error_any_split(header() + "<presence/><message><body>&nbsp;</body></message>", ParseError::kRestrictedXml, 1);
}

// ---------------------------------------------------------------------------------------
// Malformed XML

TEST(StreamParserMalformed, MalformedXmlIsNotWellFormed) {
  for (std::string_view bad : {
           "<message><body></message></body>",  // mismatched
           "<message></presence>",
           "<message to=a@b/>",                 // unquoted attribute
           "<message to='a@b\" type='chat'/>",  // mismatched quotes
           "<message to='a'b'/>",
           "<message to='a<b'/>",                    // '<' in an attribute value
           "<message to='a' to='b'/>",               // duplicate attribute
           "<message><body>a & b</body></message>",  // bare ampersand
           "<message><body>&#0;</body></message>",   // not a character
           "<message><body>&#xD800;</body></message>",
           "<message><body>\x01</body></message>",
           "<foo:bar/>",                          // unbound prefix
           "<message xmlns:xml='urn:not-xml'/>",  // xml prefix rebound
           "<1message/>",
           "< message/>",
           "<message><body>]]></body></message>",
           "</stream:features>",
       }) {
    expect_error_any_split(header() + "<presence/>" + std::string(bad), ParseError::kNotWellFormed, 1);
  }
  expect_error_any_split("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to=example.org>",
                         ParseError::kNotWellFormed);
  expect_error_any_split("garbage\n", ParseError::kNotWellFormed);
  // A TLS ClientHello sent to a plain stream.
  expect_error_any_split("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", ParseError::kNotWellFormed);
}

TEST(StreamParserMalformed, SecondRootAfterTheStreamClosesIsNotWellFormed) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<presence/></stream:stream>"));
  EXPECT_EQ(h.rec.closed, 1);
  EXPECT_TRUE(h.feed("\r\n "));  // whitespace after the end is harmless
  EXPECT_FALSE(h.feed(header()));
  EXPECT_EQ(h.parser.error(), ParseError::kNotWellFormed);
  EXPECT_EQ(h.rec.headers.size(), 1u);
  expect_error_any_split(header() + "</stream:stream><presence/>", ParseError::kNotWellFormed);
  expect_error_any_split(header() + "</stream:stream>text", ParseError::kNotWellFormed);
}

TEST(StreamParserMalformed, ClosingTheStreamInsideAStanzaIsNotWellFormed) {
  expect_error_any_split(header() + "<message><body>hi</stream:stream>", ParseError::kNotWellFormed);
}

// ---------------------------------------------------------------------------------------
// Limits

// A top-level element of exactly `size` bytes: a message with a body of the right length.
std::string message_of(std::size_t size) {
  const std::string open = "<message><body>", close = "</body></message>";
  return open + std::string(size - open.size() - close.size(), 'x') + close;
}

// An empty element of exactly `size` bytes.
std::string empty_of(std::size_t size) {
  const std::string open = "<presence a='", close = "'/>";
  return open + std::string(size - open.size() - close.size(), 'y') + close;
}

TEST(StreamParserLimits, ElementOfExactlyTheLimitPasses) {
  constexpr std::size_t kLimit = 200;
  for (const std::string& element : {message_of(kLimit), empty_of(kLimit)}) {
    ASSERT_EQ(element.size(), kLimit);
    const std::string stream = header() + element + " " + element;
    std::vector<Outcome> outcomes = {run_whole(stream, limits(kLimit)), run_bytewise(stream, limits(kLimit))};
    for (unsigned seed = 1; seed <= 10; ++seed)
      outcomes.push_back(run_split(stream, random_cuts(stream.size(), seed, 50), limits(kLimit)));
    for (const Outcome& o : outcomes) {
      EXPECT_TRUE(o.ok) << element;
      EXPECT_EQ(o.error, ParseError::kNone);
      ASSERT_EQ(o.log.size(), 3u);
      EXPECT_TRUE(o.log[1].starts_with("element 200 ")) << o.log[1];
      EXPECT_TRUE(o.log[2].starts_with("element 200 ")) << o.log[2];
    }
  }
}

TEST(StreamParserLimits, EmptyElementOneByteOverTheLimitIsTooBig) {
  constexpr std::size_t kLimit = 200;
  expect_error_any_split(header() + empty_of(kLimit) + empty_of(kLimit + 1), ParseError::kTooBig, 1, limits(kLimit));
}

TEST(StreamParserLimits, ElementWellOverTheLimitIsTooBig) {
  constexpr std::size_t kLimit = 200;
  expect_error_any_split(header() + message_of(kLimit) + message_of(kLimit + 50), ParseError::kTooBig, 1,
                         limits(kLimit));
  expect_error_any_split(header() + "<message><body>" + std::string(kLimit, 'x') + "</body></message>",
                         ParseError::kTooBig, 0, limits(kLimit));
}

// The bytes of the end tag count too, whether they arrive with the rest or after it.
TEST(StreamParserLimits, ElementOneByteOverTheLimitIsTooBig) {
  constexpr std::size_t kLimit = 200;
  expect_error_any_split(header() + message_of(kLimit) + message_of(kLimit + 1), ParseError::kTooBig, 1,
                         limits(kLimit));
  // An end tag padded with whitespace, which XML allows.
  expect_error_any_split(header() + "<message><body>x</body></message" + std::string(kLimit, ' ') + ">",
                         ParseError::kTooBig, 0, limits(kLimit));
}

// Feeds `chunk` repeatedly (up to 10 MB) in 4 KiB pieces after `prefix`; returns how many
// bytes in all had been fed when feed() first returned false (0 if it never did).
std::size_t bytes_until_failure(Harness& h, const std::string& prefix, char filler) {
  if (!h.parser.feed(prefix)) return prefix.size();
  const std::string piece(4096, filler);
  std::size_t fed = prefix.size();
  while (fed < 10 * 1024 * 1024) {
    fed += piece.size();
    if (!h.parser.feed(piece)) return fed;
  }
  return 0;
}

TEST(StreamParserLimits, NeverEndingTokensFailOnceOverTheLimit) {
  struct Case {
    const char* what;
    std::string prefix;
    char filler;
  };
  const std::string h0 = header();
  for (const Case& c : {
           Case{"attribute value", h0 + "<message to='", 'a'},
           Case{"start tag", h0 + "<message ", ' '},
           Case{"element name", h0 + "<m", 'm'},
           Case{"text", h0 + "<message><body>", 't'},
           Case{"end tag", h0 + "<message></message", ' '},
           Case{"CDATA", h0 + "<message><body><![CDATA[", 'c'},
           Case{"header attribute", "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='", 'h'},
           Case{"header", "<stream:stream ", ' '},
           Case{"nothing but a start", "<", 's'},
       }) {
    Harness h;
    std::size_t fed = bytes_until_failure(h, c.prefix, c.filler);
    EXPECT_NE(fed, 0u) << c.what << ": never failed";
    EXPECT_LE(fed, h0.size() + kDefaultLimit + 2 * 4096) << c.what;
    EXPECT_GT(fed, kDefaultLimit) << c.what;
    EXPECT_EQ(h.parser.error(), ParseError::kTooBig) << c.what;
    EXPECT_TRUE(h.rec.elements.empty()) << c.what;
  }
}

std::size_t heap_in_use() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

TEST(StreamParserLimits, OneHugeFeedDoesNotMakeTheParserHoldIt) {
  const std::string huge = header() + "<message to='" + std::string(10 * 1024 * 1024, 'a');
  Harness h;
  const std::size_t before = heap_in_use();
  EXPECT_FALSE(h.parser.feed(huge));
  const std::size_t after = heap_in_use();
  EXPECT_EQ(h.parser.error(), ParseError::kTooBig);
  EXPECT_LT(after > before ? after - before : 0, std::size_t{1024 * 1024});
}

// The header is held to the element limit while it arrives; so it is once complete too,
// however it was split.
TEST(StreamParserLimits, HeaderOverTheLimitIsTooBig) {
  constexpr std::size_t kLimit = 1024;
  const std::string open = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='", close = "'>";
  const std::string at_limit = open + std::string(kLimit - open.size() - close.size(), 'i') + close;
  ASSERT_EQ(at_limit.size(), kLimit);
  EXPECT_TRUE(run_bytewise(at_limit, limits(kLimit)).ok);
  EXPECT_TRUE(run_whole(at_limit, limits(kLimit)).ok);
  expect_error_any_split(open + std::string(kLimit, 'i') + close, ParseError::kTooBig, 0, limits(kLimit));
}

// A chain of `levels` nested elements.
std::string nested(std::size_t levels) {
  std::string out;
  for (std::size_t i = 0; i < levels; ++i) out += "<e" + std::to_string(i) + ">";
  for (std::size_t i = levels; i-- > 0;) out += "</e" + std::to_string(i) + ">";
  return out;
}

TEST(StreamParserLimits, DepthOverTheLimitIsTooComplex) {
  // max_depth counts the top-level element itself: a chain of max_depth elements passes.
  for (std::size_t max_depth : {std::size_t{1}, std::size_t{4}, std::size_t{32}}) {
    Harness ok(limits(kDefaultLimit, max_depth));
    ASSERT_TRUE(ok.feed(header() + nested(max_depth))) << max_depth << " " << ok.parser.error_text();
    ASSERT_EQ(ok.rec.elements.size(), 1u);
    const Element* e = &ok.rec.elements[0];
    std::size_t levels = 1;
    while (!e->children().empty()) {
      e = e->children()[0];
      ++levels;
    }
    EXPECT_EQ(levels, max_depth);
    expect_error_any_split(header() + "<presence/>" + nested(max_depth + 1), ParseError::kTooComplex, 1,
                           limits(kDefaultLimit, max_depth));
  }
  // The default, against an attacker's thousands of levels.
  expect_error_any_split(header() + nested(5000), ParseError::kTooComplex, 0, limits(1024 * 1024));
}

std::string with_attributes(std::size_t n) {
  std::string out = "<message";
  for (std::size_t i = 0; i < n; ++i) out += " a" + std::to_string(i) + "='" + std::to_string(i) + "'";
  return out + "/>";
}

TEST(StreamParserLimits, AttributeCountOverTheLimitIsTooComplex) {
  Harness ok(limits(kDefaultLimit, 32, 5));
  ASSERT_TRUE(ok.feed(header() + with_attributes(5) + "<message><body " + with_attributes(5).substr(9) + "</message>"))
      << ok.parser.error_text();
  ASSERT_EQ(ok.rec.elements.size(), 2u);
  EXPECT_EQ(ok.rec.elements[0].attributes().size(), 5u);
  expect_error_any_split(header() + with_attributes(6), ParseError::kTooComplex, 0, limits(kDefaultLimit, 32, 5));
  expect_error_any_split(header() + "<message><body" + with_attributes(6).substr(8) + "</message>",
                         ParseError::kTooComplex, 0, limits(kDefaultLimit, 32, 5));
  // The header too: to, from, version, id over a limit of 3.
  expect_error_any_split(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='a' from='b' version='1.0' id='c'>",
      ParseError::kTooComplex, 0, limits(kDefaultLimit, 32, 3));
  expect_error_any_split(header() + with_attributes(1000), ParseError::kTooComplex);
}

TEST(StreamParserErrors, FeedKeepsReturningFalseAfterAnError) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<presence/>"));
  EXPECT_FALSE(h.feed("<message><!-- no --></message>"));
  EXPECT_EQ(h.parser.error(), ParseError::kRestrictedXml);
  const std::string text = h.parser.error_text();
  EXPECT_FALSE(text.empty());
  const std::vector<std::string> log = h.rec.log;
  for (std::string_view more : {"<presence/>", " ", "", "</stream:stream>", "<a><b>&foo;"}) {
    EXPECT_FALSE(h.feed(more)) << more;
    EXPECT_EQ(h.parser.error(), ParseError::kRestrictedXml) << more;
  }
  EXPECT_EQ(h.parser.error_text(), text);
  EXPECT_EQ(h.rec.log, log);
  // Not even a new stream after reset(): an error ends the connection.
  h.parser.reset();
  EXPECT_FALSE(h.feed(header() + "<presence/>"));
  EXPECT_EQ(h.parser.error(), ParseError::kRestrictedXml);
  EXPECT_EQ(h.rec.log, log);
}

TEST(StreamParserErrors, TheFirstErrorWins) {
  // Too many attributes and an undefined entity in one tag: whichever is found first stays.
  Harness h(limits(kDefaultLimit, 32, 1));
  EXPECT_FALSE(h.feed(header() + "<message a='1' b='2'><body>&foo;</body></message><!-- -->"));
  EXPECT_EQ(h.parser.error(), ParseError::kTooComplex);
}

// ---------------------------------------------------------------------------------------
// reset(): STARTTLS and SASL restart the stream

TEST(StreamParserReset, FromWithinElementDropsTheRestOfTheFeed) {
  Harness h;
  h.rec.after_element = [&](const Element& e) {
    if (e.is("urn:ietf:params:xml:ns:xmpp-tls", "starttls")) h.parser.reset();
  };
  // What follows <starttls/> in the same read is plaintext injected before the handshake.
  ASSERT_TRUE(h.feed(header() +
                     "<presence/><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                     "<message><body>injected</body></message><junk & garbage" +
                     std::string(10000, '!')));
  EXPECT_EQ(h.parser.error(), ParseError::kNone);
  ASSERT_EQ(h.rec.elements.size(), 2u);
  EXPECT_TRUE(h.rec.elements[1].is("urn:ietf:params:xml:ns:xmpp-tls", "starttls"));
  EXPECT_EQ(h.rec.headers.size(), 1u);
  // A new stream begins: header (with a declaration), elements, counted from zero.
  ASSERT_TRUE(h.feed(std::string(kXmlDecl) + header() + "<message><body>secure</body></message>"))
      << h.parser.error_text();
  EXPECT_EQ(h.rec.headers.size(), 2u);
  ASSERT_EQ(h.rec.elements.size(), 3u);
  EXPECT_EQ(child_text(h.rec.elements[2], "jabber:client", "body"), "secure");
  EXPECT_EQ(h.rec.sizes[2], std::string_view("<message><body>secure</body></message>").size());
}

TEST(StreamParserReset, TheNewStreamNeedsItsOwnHeader) {
  Harness h;
  h.rec.after_element = [&](const Element&) { h.parser.reset(); };
  ASSERT_TRUE(h.feed(header() + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
  EXPECT_FALSE(h.feed("<message><body>no header</body></message>"));
  EXPECT_EQ(h.parser.error(), ParseError::kBadStreamHeader);
  EXPECT_EQ(h.rec.elements.size(), 1u);
}

TEST(StreamParserReset, ByteCountingStartsOverAfterReset) {
  constexpr std::size_t kLimit = 256;
  Harness h(limits(kLimit));
  h.rec.after_element = [&](const Element& e) {
    if (e.name() == "starttls") h.parser.reset();
  };
  // Far more than the limit before the reset, in elements each under it.
  std::string first = header();
  for (int i = 0; i < 10; ++i) first += " " + message_of(kLimit - 10);
  first += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
  ASSERT_TRUE(h.feed(first)) << h.parser.error_text();
  ASSERT_EQ(h.rec.elements.size(), 11u);
  const std::string second = header() + message_of(kLimit) + empty_of(kLimit);
  ASSERT_TRUE(h.feed(second)) << h.parser.error_text();
  ASSERT_EQ(h.rec.sizes.size(), 13u);
  EXPECT_EQ(h.rec.sizes[11], kLimit);
  EXPECT_EQ(h.rec.sizes[12], kLimit);
  // And the limit still holds in the new stream.
  EXPECT_FALSE(h.feed(empty_of(kLimit + 1)));
  EXPECT_EQ(h.parser.error(), ParseError::kTooBig);
}

TEST(StreamParserReset, ResetInTheMiddleOfAByteAtATimeFeed) {
  Harness h;
  h.rec.after_element = [&](const Element& e) {
    if (e.name() == "proceed") h.parser.reset();
  };
  ASSERT_TRUE(h.feed(header() + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 1));
  ASSERT_TRUE(h.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='second'>", 1))
      << h.parser.error_text();
  ASSERT_TRUE(h.feed("<presence/>", 1));
  ASSERT_EQ(h.rec.headers.size(), 2u);
  EXPECT_EQ(attr(h.rec.headers[1], "to"), "second");
  // The first header's default namespace does not carry over to the second.
  EXPECT_EQ(h.rec.headers[1].attribute("xmlns"), nullptr);
  const std::size_t proceed = std::string_view("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").size();
  ASSERT_EQ(h.rec.sizes, (std::vector<std::size_t>{proceed, 11}));
  EXPECT_TRUE(h.rec.elements[1].is("", "presence"));
}

TEST(StreamParserReset, BetweenFeeds) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
  ASSERT_EQ(h.rec.elements.size(), 1u);
  h.parser.reset();
  ASSERT_TRUE(h.feed(std::string(kXmlDecl) +
                     "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                     "to='example.org' version='1.0'>"))
      << h.parser.error_text();
  ASSERT_EQ(h.rec.headers.size(), 2u);
  EXPECT_EQ(attr(h.rec.headers[1], "xmlns"), "jabber:server");
  ASSERT_TRUE(h.feed("  <iq type='get' id='b'/>"));
  ASSERT_EQ(h.rec.elements.size(), 2u);
  EXPECT_TRUE(h.rec.elements[1].is("jabber:server", "iq"));
  EXPECT_EQ(h.rec.sizes[1], std::string_view("<iq type='get' id='b'/>").size());
  // reset() in the middle of an unfinished element forgets it.
  ASSERT_TRUE(h.feed("<message><body>half"));
  h.parser.reset();
  ASSERT_TRUE(h.feed(header() + "<presence/>")) << h.parser.error_text();
  EXPECT_EQ(h.rec.headers.size(), 3u);
  EXPECT_EQ(h.rec.sizes.back(), 11u);
  EXPECT_EQ(h.rec.elements.size(), 3u);
}

// ---------------------------------------------------------------------------------------
// The end of the stream

TEST(StreamParserClose, ClosingTagReportsStreamClosed) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<presence/>"));
  EXPECT_EQ(h.rec.closed, 0);
  ASSERT_TRUE(h.feed("</stream:stream>"));
  EXPECT_EQ(h.rec.closed, 1);
  EXPECT_EQ(h.rec.log.back(), "closed");
  EXPECT_EQ(h.parser.error(), ParseError::kNone);

  Harness split;
  ASSERT_TRUE(split.feed(header() + "<presence/>\n</stream:stream>", 1));
  EXPECT_EQ(split.rec.log, (std::vector<std::string>{h.rec.log[0], h.rec.log[1], "closed"}));
}

TEST(StreamParserClose, ImmediatelyAfterTheHeader) {
  Harness h;
  ASSERT_TRUE(h.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'></stream:stream>"));
  EXPECT_EQ(h.rec.headers.size(), 1u);
  EXPECT_EQ(h.rec.closed, 1);
  Harness empty;
  ASSERT_TRUE(empty.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>"));
  EXPECT_EQ(empty.rec.headers.size(), 1u);
  EXPECT_EQ(empty.rec.closed, 1);
}

// ---------------------------------------------------------------------------------------
// UTF-8

TEST(StreamParserUtf8, MultiByteTextIsPreserved) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBD";
  const std::string element = "<message to='\xC3\xBC@example.org'><body>" + text + "</body></message>";
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
    Harness h;
    ASSERT_TRUE(h.feed(header() + element, piece)) << h.parser.error_text();
    ASSERT_EQ(h.rec.elements.size(), 1u);
    EXPECT_EQ(child_text(h.rec.elements[0], "jabber:client", "body"), text) << piece;
    EXPECT_EQ(attr(h.rec.elements[0], "to"), "\xC3\xBC@example.org");
    EXPECT_EQ(h.rec.sizes[0], element.size());
  }
}

TEST(StreamParserUtf8, InvalidUtf8IsNotWellFormed) {
  for (std::string_view bad : {
           "\x80",                  // a lone continuation byte
           "\xC3",                  // truncated, followed by ASCII
           "\xC3\xC3\xA9",          // truncated, followed by a lead byte
           "\xC0\xAF",              // overlong '/'
           "\xE0\x80\xAF",          // overlong, three bytes
           "\xED\xA0\x80",          // a UTF-16 surrogate
           "\xF4\x90\x80\x80",      // over U+10FFFF
           "\xF8\x88\x80\x80\x80",  // five bytes
           "\xFF", "\xFE",
           "\xEF\xBF\xBE",  // U+FFFE, not a character
       }) {
    expect_error_any_split(header() + "<presence/><message><body>a" + std::string(bad) + "b</body></message>",
                           ParseError::kNotWellFormed, 1);
    expect_error_any_split(header() + "<message to='" + std::string(bad) + "'/>", ParseError::kNotWellFormed);
    expect_error_any_split(
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='" + std::string(bad) + "'>",
        ParseError::kNotWellFormed);
  }
}


// ---------------------------------------------------------------------------------------
// Hibernation: an idle stream gives its parser back and resumes where it was

TEST(StreamParserHibernate, ResumesWithTheSameEventsSizesAndNamespaces) {
  std::string first = "<message to='a@example.org'><body>one</body></message>";
  std::string second = "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>";
  Harness h;
  ASSERT_TRUE(h.feed(header() + first));
  EXPECT_FALSE(h.parser.hibernating());
  ASSERT_TRUE(h.parser.hibernate());
  EXPECT_TRUE(h.parser.hibernating());
  ASSERT_TRUE(h.feed(" " + second));
  EXPECT_FALSE(h.parser.hibernating());
  ASSERT_EQ(h.rec.elements.size(), 2u);
  EXPECT_EQ(h.rec.headers.size(), 1u);  // the made-up header is not reported
  EXPECT_TRUE(h.rec.elements[1].is("jabber:client", "iq"));
  EXPECT_EQ(h.rec.sizes[1], second.size());
  ASSERT_TRUE(h.feed("</stream:stream>"));
  EXPECT_EQ(h.rec.closed, 1);
}

TEST(StreamParserHibernate, SameOutcomeAsWithoutHibernatingForAnySplit) {
  std::string stanzas = "<presence/><message><body>x</body></message><iq type='result' id='2'/>";
  std::string tail = "<message to='b@example.org'>\xC3\xBC</message></stream:stream>";
  Outcome plain = run_whole(header() + stanzas + tail);
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
    Harness h;
    ASSERT_TRUE(h.feed(header() + stanzas));
    ASSERT_TRUE(h.parser.hibernate());
    bool ok = h.feed(tail, piece);
    EXPECT_EQ((Outcome{h.rec.log, ok, h.parser.error()}), plain) << piece;
  }
}

TEST(StreamParserHibernate, OtherStreamPrefixesAndServerNamespaces) {
  std::string head =
      "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:server' "
      "xmlns:db='jabber:server:dialback' to='example.org' version='1.0'>";
  Harness h;
  ASSERT_TRUE(h.feed(head + "<message/>"));
  ASSERT_TRUE(h.parser.hibernate());
  ASSERT_TRUE(h.feed("<db:result from='a' to='b'>k</db:result></s:stream>"));
  ASSERT_EQ(h.rec.elements.size(), 2u);
  EXPECT_TRUE(h.rec.elements[1].is("jabber:server:dialback", "result"));
  EXPECT_EQ(h.rec.closed, 1);
}

TEST(StreamParserHibernate, OnlyBetweenElementsOfAnOpenStream) {
  Harness h;
  EXPECT_FALSE(h.parser.hibernate());  // no stream yet
  ASSERT_TRUE(h.feed(header() + "<message><body>half"));
  EXPECT_FALSE(h.parser.hibernate());  // inside a stanza
  ASSERT_TRUE(h.feed("</body></message><presence"));
  EXPECT_FALSE(h.parser.hibernate());  // inside a tag
  ASSERT_TRUE(h.feed("/>"));
  EXPECT_TRUE(h.parser.hibernate());
}

TEST(StreamParserHibernate, LimitsAndErrorsStillApplyAfterWaking) {
  Harness h(limits(200));
  ASSERT_TRUE(h.feed(header() + "<presence/>"));
  ASSERT_TRUE(h.parser.hibernate());
  std::string big = "<message><body>" + std::string(200, 'x') + "</body></message>";
  EXPECT_FALSE(h.feed(big));
  EXPECT_EQ(h.parser.error(), ParseError::kTooBig);
  Harness bad;
  ASSERT_TRUE(bad.feed(header() + "<presence/>"));
  ASSERT_TRUE(bad.parser.hibernate());
  EXPECT_FALSE(bad.feed("<!-- no -->"));
  EXPECT_EQ(bad.parser.error(), ParseError::kRestrictedXml);
}

TEST(StreamParserHibernate, ResetWhileHibernatingStartsANewStream) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<presence/>"));
  ASSERT_TRUE(h.parser.hibernate());
  h.parser.reset();
  ASSERT_TRUE(h.feed(header() + "<presence/>"));
  EXPECT_EQ(h.rec.headers.size(), 2u);
  EXPECT_EQ(h.rec.elements.size(), 2u);
}

// expat remembers every name it has seen for as long as the parser lives: a stream of
// stanzas with ever new element and attribute names must not make it grow without end.
TEST(StreamParserLimits, EverNewNamesDoNotGrowTheParser) {
  struct Counter final : StreamParser::Handler {
    void stream_opened(const Element&) override {}
    void element(Element, std::size_t) override { ++elements; }
    void stream_closed() override {}
    std::size_t elements = 0;
  } counter;
  StreamParser parser(counter, limits());
  ASSERT_TRUE(parser.feed(header()));
  const std::size_t before = heap_in_use();
  constexpr std::size_t kStanzas = 200000;  // about 11 MB of stanzas
  std::string batch;
  for (std::size_t i = 0; i < kStanzas; ++i) {
    std::string n = std::to_string(i);
    batch += "<m" + n + " a" + n + "='1' xmlns:p" + n + "='urn:" + n + "'/>";
    if (batch.size() > 8192 || i + 1 == kStanzas) {
      ASSERT_TRUE(parser.feed(batch)) << parser.error_text();
      batch.clear();
    }
  }
  const std::size_t after = heap_in_use();
  EXPECT_EQ(counter.elements, kStanzas);
  EXPECT_LT(after > before ? after - before : 0, std::size_t{1} << 20);
}

TEST(StreamParserHibernate, AfterAWhitespaceKeepAlive) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + "<presence/>"));
  ASSERT_TRUE(h.feed(" \n"));
  EXPECT_TRUE(h.parser.hibernate());
}

// expat may hold bytes that neither '<' nor '>' tells of: the parser is not replaced then.
std::string filler_past_renewal() {
  std::string filler;
  while (filler.size() < (70 << 10)) filler += "<message><body>" + std::string(200, 'f') + "</body></message>";
  return filler;
}

TEST(StreamParserRenewal, KeepsATagWithAGreaterThanInAnAttributeValue) {
  Harness h;
  ASSERT_TRUE(h.feed(header() + filler_past_renewal() + "<message to='j@c.example/a>"));
  ASSERT_TRUE(h.feed("b'><body>x</body></message>")) << h.parser.error_text();
  ASSERT_FALSE(h.rec.elements.empty());
  EXPECT_EQ(attr(h.rec.elements.back(), "to"), "j@c.example/a>b");
}

TEST(StreamParserRenewal, KeepsAPartialReferenceBetweenStanzas) {
  for (std::string_view partial : {"&abc", "&#0", "&#x41"}) {
    Harness h;
    ASSERT_TRUE(h.feed(header() + filler_past_renewal() + std::string(partial)));
    EXPECT_FALSE(h.feed("<presence/>")) << partial;
    EXPECT_NE(h.parser.error(), ParseError::kNone) << partial;
  }
}

// What a parsed element holds in memory is bounded, not only its bytes on the wire. The
// cases are the amplifications found against the router: each must fail within its budget
// (ParserLimits::memory_budget) and leave the heap a few MiB larger at most.
constexpr std::size_t kStanzaLimit = 256 * 1024;
constexpr std::size_t kFewMiB = 4 * 1024 * 1024;

struct Amplification {
  const char* what;
  std::string stanza;
};

std::vector<Amplification> amplifications() {
  std::string long_ns(120000, 'a'), long_prefix(100000, 'b');
  std::string children, prefixed, empties;
  for (int i = 0; i < 30000; ++i) children += "<y/>";
  for (int i = 0; i < 20000; ++i) prefixed += "<p:a/>";
  for (int i = 0; i < 60000; ++i) empties += "<a/>";
  return {
      {"a long default namespace inherited by 30,000 children",
       "<message><x xmlns='" + long_ns + "'>" + children + "</x></message>"},
      {"a long prefix declaration reused by 20,000 children",
       "<message xmlns:p='" + long_prefix + "'>" + prefixed + "</message>"},
      {"60,000 empty children", "<message>" + empties + "</message>"},
  };
}

TEST(StreamParserBudget, AmplificationsFailWithinAFewMiB) {
  for (const Amplification& a : amplifications()) {
    ASSERT_LT(a.stanza.size(), kStanzaLimit) << a.what;
    Harness h(limits(kStanzaLimit));
    ASSERT_TRUE(h.parser.feed(header()));
    const std::size_t before = heap_in_use();
    EXPECT_FALSE(h.parser.feed(a.stanza)) << a.what;
    const std::size_t after = heap_in_use();  // what was built up to the failure is still held
    EXPECT_EQ(h.parser.error(), ParseError::kTooComplex) << a.what;
    EXPECT_LT(after > before ? after - before : 0, kFewMiB) << a.what;
    EXPECT_TRUE(h.rec.elements.empty()) << a.what;
  }
}

// The same stanzas split anywhere, and in the mode that only checks them.
TEST(StreamParserBudget, AmplificationsFailHoweverSplitAndWhenOnlyChecked) {
  for (const Amplification& a : amplifications()) {
    Harness h(limits(kStanzaLimit));
    h.parser.set_top_only(true);
    EXPECT_FALSE(h.feed(header() + a.stanza, 1000)) << a.what;
    EXPECT_EQ(h.parser.error(), ParseError::kTooComplex) << a.what;
  }
}

TEST(StreamParserBudget, LargeLegitimateStanzasStillParse) {
  std::string items;
  for (int i = 0; i < 2000; ++i)
    items += "<item jid='user" + std::to_string(i) + "@example.org' name='User " + std::to_string(i) + "'/>";
  const std::string roster = "<iq type='result' id='r1'><query xmlns='jabber:iq:roster'>" + items + "</query></iq>";
  const std::string body = "<message><body>" + std::string(200000, 'x') + "</body></message>";
  Harness h(limits(kStanzaLimit));
  ASSERT_TRUE(h.parser.feed(header() + roster + body)) << h.parser.error_text();
  ASSERT_EQ(h.rec.elements.size(), 2u);
  EXPECT_EQ(h.rec.elements[0].child("jabber:iq:roster", "query")->children().size(), 2000u);
}

TEST(StreamParserBudget, NodeCapCountsElementsAndRunsOfText) {
  // <message> and its children: 1 + 4 nodes.
  EXPECT_TRUE(run_whole(header() + "<message><a/><b/><c/><d/></message>", limits(kDefaultLimit, 32, 64, 5)).ok);
  Outcome over = run_whole(header() + "<message><a/><b/><c/><d/><e/></message>", limits(kDefaultLimit, 32, 64, 5));
  EXPECT_FALSE(over.ok);
  EXPECT_EQ(over.error, ParseError::kTooComplex);
  // One run of text is one node, however many pieces expat reports it in.
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "a&amp;&#10;";
  EXPECT_TRUE(run_bytewise(header() + "<message><body>" + text + "</body></message>", limits(kDefaultLimit, 32, 64, 3)).ok);
}

TEST(StreamParserBudget, TheBudgetIsPerStanza) {
  std::string stream = header();
  for (int i = 0; i < 50; ++i) stream += "<message><a/><b/><c/></message>";
  Outcome o = run_whole(stream, limits(kDefaultLimit, 32, 64, 4));
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.error, ParseError::kNone);
}

TEST(StreamParserBudget, NamespacesAreSharedAcrossElementsAndStanzas) {
  Harness h;
  ASSERT_TRUE(h.parser.feed(header() +
                            "<message><x xmlns='urn:example:long-enough-to-leave-small-string'><a/></x></message>"
                            "<message><x xmlns='urn:example:long-enough-to-leave-small-string'/></message>"));
  ASSERT_EQ(h.rec.elements.size(), 2u);
  const Element* first = h.rec.elements[0].children()[0];
  const Element* inner = first->children()[0];
  const Element* second = h.rec.elements[1].children()[0];
  EXPECT_EQ(first->shared_ns().get(), inner->shared_ns().get());
  EXPECT_EQ(first->shared_ns().get(), second->shared_ns().get());
  EXPECT_EQ(second->ns(), "urn:example:long-enough-to-leave-small-string");
}

// Ever new namespaces do not grow the table without end: it is emptied between stanzas.
TEST(StreamParserBudget, TheNamespaceTableIsBounded) {
  Harness h;
  ASSERT_TRUE(h.parser.feed(header()));
  const std::size_t before = heap_in_use();
  for (int i = 0; i < 2000; ++i) {
    std::string ns = "urn:example:" + std::to_string(i) + ":" + std::string(1000, 'n');
    ASSERT_TRUE(h.parser.feed("<message><x xmlns='" + ns + "'/></message>")) << h.parser.error_text();
    h.rec.elements.clear();
    h.rec.log.clear();
    h.rec.sizes.clear();
  }
  const std::size_t after = heap_in_use();
  EXPECT_LT(after > before ? after - before : 0, std::size_t{1024 * 1024});
}

TEST(StreamParserEncoding, OnlyUtf8MayBeDeclared) {
  for (std::string_view ok : {"UTF-8", "utf-8", "Utf-8"}) {
    Outcome o = run_whole("<?xml version='1.0' encoding='" + std::string(ok) + "'?>" + header());
    EXPECT_TRUE(o.ok) << ok;
  }
  for (std::string_view bad : {"ISO-8859-1", "UTF-16", "US-ASCII", "utf8"}) {
    Outcome o = run_whole("<?xml version='1.0' encoding='" + std::string(bad) + "'?>" + header());
    EXPECT_FALSE(o.ok) << bad;
    EXPECT_EQ(o.error, ParseError::kUnsupportedEncoding) << bad;
  }
  EXPECT_TRUE(run_whole(std::string(kXmlDecl) + header()).ok);
}

}  // namespace
}  // namespace xmppd::xml
