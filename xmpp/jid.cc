#include "xmpp/jid.h"

#include "common/utf8_text.h"

namespace xmppd::xmpp {
namespace {

constexpr std::size_t kMaxPart = 1023;

// C0 controls, DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F), which every
// JID profile prohibits (RFC 3920 appendices A-B, C.2.1 and C.2.2; RFC 7622's PRECIS classes):
// a peer that prepares JIDs refuses a stanza from such an address, and may drop its stream.
bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return true;
  }
  return false;
}

std::string fold_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

bool valid_text(std::string_view text) { return text.size() <= kMaxPart && valid_utf8(text) && !has_control(text); }

std::optional<std::string> prepare_localpart(std::string_view local) {
  if (local.empty() || local.size() > kMaxPart || !valid_utf8(local) || has_control(local)) return std::nullopt;
  for (char c : local)
    if (c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' || c == '@' || c == ' ')
      return std::nullopt;
  return fold_ascii(local);
}

std::optional<std::string> prepare_domainpart(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > kMaxPart || !valid_utf8(domain) || has_control(domain)) return std::nullopt;
  std::string out = fold_ascii(domain);
  // IP literals ("[::1]") and DNS names; labels of at most 63 octets, none empty.
  if (out.front() == '[') return out.back() == ']' ? std::optional<std::string>(out) : std::nullopt;
  std::size_t start = 0;
  while (start <= out.size()) {
    std::size_t dot = out.find('.', start);
    std::size_t end = dot == std::string::npos ? out.size() : dot;
    if (end == start || end - start > 63) return std::nullopt;
    for (std::size_t i = start; i < end; ++i) {
      unsigned char c = static_cast<unsigned char>(out[i]);
      if (c < 0x80 && !std::isalnum(c) && c != '-' && c != '_') return std::nullopt;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::optional<std::string> prepare_resourcepart(std::string_view resource) {
  if (resource.empty() || resource.size() > kMaxPart || !valid_utf8(resource) || has_control(resource))
    return std::nullopt;
  return std::string(resource);
}

std::optional<Jid> Jid::parse(std::string_view text) {
  Jid jid;
  std::size_t slash = text.find('/');
  std::string_view rest = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto resource = prepare_resourcepart(text.substr(slash + 1));
    if (!resource) return std::nullopt;
    jid.resource_ = std::move(*resource);
  }
  std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    auto local = prepare_localpart(rest.substr(0, at));
    if (!local) return std::nullopt;
    jid.local_ = std::move(*local);
    rest.remove_prefix(at + 1);
  }
  auto domain = prepare_domainpart(rest);
  if (!domain) return std::nullopt;
  jid.domain_ = std::move(*domain);
  return jid;
}

std::string Jid::bare() const { return local_.empty() ? domain_ : local_ + "@" + domain_; }

std::string Jid::full() const { return resource_.empty() ? bare() : bare() + "/" + resource_; }

}  // namespace xmppd::xmpp
