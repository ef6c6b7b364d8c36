// JID preparation (xmpp/jid.h): trusts nothing in its input; every part is checked here. ASCII
// is prepared by hand (the hot path: every stanza's to and from), anything else by libidn's
// stringprep profiles, exactly as Prosody 0.12 prepares JIDs (util/jid.lua, util.encodings).
#include "xmpp/jid.h"

#include <idn-free.h>
#include <idna.h>
#include <stringprep.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

#include "common/utf8_text.h"

namespace xmppd::xmpp {
namespace {

constexpr std::size_t kMaxPart = 1023;

enum class Bytes { kAscii, kUnicode, kControl };

// One pass over a part: ASCII only (the fast path), with bytes >= 0x80 (libidn's), or with a
// control character: C0 controls and DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..
// C2 9F), on which clients that prepare JIDs (slixmpp) drop the stream.
Bytes classify(std::string_view s) {
  Bytes kind = Bytes::kAscii;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return Bytes::kControl;
    if (c < 0x80) continue;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) return Bytes::kControl;
    kind = Bytes::kUnicode;
  }
  return kind;
}

bool has_control(std::string_view s) { return classify(s) == Bytes::kControl; }

std::string fold_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// One stringprep profile run on valid UTF-8 of at most kMaxPart bytes. libidn prepares in
// place in a buffer of kMaxPart + 1 bytes (with its NUL) and fails, rather than overruns, if
// the prepared form is longer; unassigned code points are allowed, as Prosody allows them.
std::optional<std::string> stringprep_part(std::string_view in, const Stringprep_profile* profile) {
  std::array<char, kMaxPart + 1> buffer{};
  std::copy(in.begin(), in.end(), buffer.begin());
  if (stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile) != STRINGPREP_OK)
    return std::nullopt;
  std::string out(buffer.data());
  if (out.empty() || out.size() > kMaxPart) return std::nullopt;
  return out;
}

bool has_localpart_forbidden(std::string_view s) {
  return s.find_first_of("\"&'/:<>@ ") != std::string_view::npos;
}

// DNS labels of a domain in its ASCII form: at most 63 octets, none empty, letters, digits,
// '-' and '_' (SRV-style names) only.
bool valid_labels(std::string_view ascii) {
  std::size_t start = 0;
  while (true) {
    std::size_t dot = ascii.find('.', start);
    std::size_t end = dot == std::string_view::npos ? ascii.size() : dot;
    if (end == start || end - start > 63) return false;
    for (std::size_t i = start; i < end; ++i) {
      auto c = static_cast<unsigned char>(ascii[i]);
      if (!std::isalnum(c) && c != '-' && c != '_') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

struct IdnFree {
  void operator()(char* p) const { idn_free(p); }
};

// A non-ASCII domain: Nameprep (kept in Unicode, as Prosody keeps it), then the IDNA ToASCII
// form must be a valid DNS name, so that the domain can be looked up and named to peers.
std::optional<std::string> prepare_unicode_domain(std::string_view domain) {
  auto prepared = stringprep_part(domain, stringprep_nameprep);
  if (!prepared) return std::nullopt;
  // U+3002 IDEOGRAPHIC FULL STOP (what Nameprep leaves of the other IDNA dots) would be a
  // second spelling of '.': refused rather than two names for one domain.
  if (prepared->find("\xe3\x80\x82") != std::string::npos || prepared->back() == '.') return std::nullopt;
  char* raw = nullptr;
  if (idna_to_ascii_8z(prepared->c_str(), &raw, IDNA_ALLOW_UNASSIGNED) != IDNA_SUCCESS) {
    if (raw) idn_free(raw);
    return std::nullopt;
  }
  std::unique_ptr<char, IdnFree> ascii(raw);
  std::string_view ace(ascii.get());
  if (ace.empty() || ace.size() > kMaxPart || !valid_labels(ace)) return std::nullopt;
  return prepared;
}

}  // namespace

bool valid_text(std::string_view text) { return text.size() <= kMaxPart && valid_utf8(text) && !has_control(text); }

std::optional<std::string> prepare_localpart(std::string_view local) {
  if (local.empty() || local.size() > kMaxPart || has_localpart_forbidden(local)) return std::nullopt;
  Bytes kind = classify(local);
  if (kind == Bytes::kAscii) return fold_ascii(local);
  if (kind == Bytes::kControl || !valid_utf8(local)) return std::nullopt;
  // Nodeprep forbids the same ASCII characters, and maps nothing to them.
  return stringprep_part(local, stringprep_xmpp_nodeprep);
}

std::optional<std::string> prepare_domainpart(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);  // RFC 7622 §3.2
  if (domain.empty() || domain.size() > kMaxPart) return std::nullopt;
  Bytes kind = classify(domain);
  if (kind == Bytes::kControl) return std::nullopt;
  if (kind == Bytes::kUnicode) return valid_utf8(domain) ? prepare_unicode_domain(domain) : std::nullopt;
  std::string out = fold_ascii(domain);
  // IP literals ("[::1]") and DNS names.
  if (out.front() == '[') return out.back() == ']' ? std::optional<std::string>(out) : std::nullopt;
  if (!valid_labels(out)) return std::nullopt;
  return out;
}

std::optional<std::string> prepare_resourcepart(std::string_view resource) {
  if (resource.empty() || resource.size() > kMaxPart) return std::nullopt;
  Bytes kind = classify(resource);
  if (kind == Bytes::kAscii) return std::string(resource);
  if (kind == Bytes::kControl || !valid_utf8(resource)) return std::nullopt;
  return stringprep_part(resource, stringprep_xmpp_resourceprep);
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
