// External components' secrets (XEP-0114 component_secret) and the check of their
// handshakes. The secrets come from the parent's Configure and never leave this process: the
// router, which reads the component's stream, relays the stream id and the digest the
// component sent, and gets back only whether it matched.
//
// Trusts: the parent for the secrets; nothing of the router's request but that it is a
// request (the domain may be unknown, the digest anything).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace xmppd::auth {

// hex(SHA-1(stream_id + secret)), lowercase: what XEP-0114 §3 says the component sends.
std::string component_handshake_digest(std::string_view stream_id, std::string_view secret);

class ComponentSecrets {
 public:
  // Replaces every secret (a reload).
  void set(std::map<std::string, std::string, std::less<>> secrets) { secrets_ = std::move(secrets); }
  // Whether `digest` is the handshake of `domain`'s secret for `stream_id`. Compared in
  // constant time over the expected digest's length (CRYPTO_memcmp), so that the time taken
  // tells nothing of how much of a guess was right; an unknown domain, an empty stream id or a
  // digest of the wrong length is simply no.
  bool check(std::string_view domain, std::string_view stream_id, std::string_view digest) const;
  std::size_t size() const { return secrets_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> secrets_;
};

}  // namespace xmppd::auth
