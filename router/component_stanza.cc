#include "router/component_stanza.h"

#include <cctype>

#include "xmpp/namespaces.h"

namespace xmppd::router {

std::optional<std::string> handshake_digest(std::string_view text) {
  constexpr std::size_t kSha1Hex = 40;
  if (text.size() != kSha1Hex) return std::nullopt;
  std::string digest;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    digest.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return digest;
}

const char* accepted_handshake_refusal(const std::map<std::string, std::string, std::less<>>& tags,
                                       std::string_view domain, std::string_view checked_tag) {
  auto it = tags.find(domain);
  if (it == tags.end()) return "host-unknown";
  return it->second == checked_tag ? nullptr : "reset";
}

ComponentStanza read_component_stanza(const xml::Element& element, std::string_view domain,
                                      xml::FragmentParser& reparser, std::size_t max_bytes) {
  using Verdict = ComponentStanza::Verdict;
  ComponentStanza out;
  if (element.ns() != xmpp::kComponentNs ||
      (element.name() != "message" && element.name() != "presence" && element.name() != "iq"))
    return out;
  const std::string* from_text = element.attribute("from");
  out.from = from_text != nullptr ? xmpp::Jid::parse(*from_text) : std::nullopt;
  if (!out.from || out.from->domain() != domain) {
    out.verdict = Verdict::kInvalidFrom;
    out.from.reset();
    return out;
  }
  // Serialized with the component namespace implicit and read back with jabber:client in its
  // place: the stanza and its children in that namespace move, other payloads keep theirs.
  std::string text;
  element.serialize(text, xmpp::kComponentNs);
  out.stanza = reparser.parse(text, max_bytes);
  if (!out.stanza) {
    out.verdict = Verdict::kTooBig;
    return out;
  }
  const std::string* to_text = out.stanza->attribute("to");
  auto to = to_text != nullptr ? xmpp::Jid::parse(*to_text) : std::nullopt;
  if (!to) {
    out.verdict = to_text == nullptr ? Verdict::kNoTo : Verdict::kBadTo;
    return out;
  }
  out.stanza->set_attribute("from", out.from->full());
  out.stanza->set_attribute("to", to->full());
  out.verdict = Verdict::kRoute;
  return out;
}

}  // namespace xmppd::router
