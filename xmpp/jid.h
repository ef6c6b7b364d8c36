// XMPP addresses (RFC 7622): localpart@domainpart/resourcepart, prepared for comparison.
//
// Preparation here is the ASCII part of PRECIS: case folding of ASCII letters in the
// localpart and domainpart, the localpart's forbidden characters, length limits, and
// valid UTF-8. Full Unicode case mapping and normalisation (PRECIS UsernameCaseMapped,
// IDNA2008 for domains) need libidn2 and are not done yet: non-ASCII is kept as given.
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::xmpp {

class Jid {
 public:
  static std::optional<Jid> parse(std::string_view text);

  const std::string& local() const { return local_; }
  const std::string& domain() const { return domain_; }
  const std::string& resource() const { return resource_; }
  std::string bare() const;
  std::string full() const;
  bool has_local() const { return !local_.empty(); }
  bool has_resource() const { return !resource_.empty(); }

 private:
  std::string local_, domain_, resource_;
};

// Each part prepared on its own; nullopt if it is not a valid part.
std::optional<std::string> prepare_localpart(std::string_view local);
std::optional<std::string> prepare_domainpart(std::string_view domain);
std::optional<std::string> prepare_resourcepart(std::string_view resource);

// Text a person reads that goes into a stanza or the log (a kick's reason): at most
// kMaxPart bytes of UTF-8 without control characters, as a resourcepart must be; anything
// else would be malformed XML or raw bytes in the log.
bool valid_text(std::string_view text);

}  // namespace xmppd::xmpp
