// Server dialback keys (XEP-0185, as adopted by XEP-0220), and the epoch keys they are made
// from.
//
// The s2s worker is the Authoritative Server for its own domains: it hands out keys in
// <db:result/> and later confirms them in <db:verify/>. Computing the key from a secret,
// instead of remembering each one, keeps no state per stream and lets any process that
// shares the secret answer the verify.
//
// The worker parses hostile bytes, so it never holds the long-term secret (dialback_secret):
// the parent derives a key per epoch from it (epoch_key) and hands the worker the current
// and the previous one (DialbackKeyRing). Whoever takes over the worker learns keys that stop
// being accepted two epochs later. docs/design.md says why this split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xmppd::s2s {

// hex(HMAC-SHA256(key = hex(SHA256(secret)), data = receiving + " " + originating + " " + stream_id)),
// lowercase, 64 characters. XEP-0185 §2. Returns "" if `secret` is empty (such keys would be
// forgeable by anyone) or if OpenSSL fails.
std::string dialback_key(std::string_view secret, std::string_view receiving, std::string_view originating,
                         std::string_view stream_id);

// Whether `received_key` is the key for these inputs, compared in constant time. The caller
// trims XML whitespace around the key first. Never true when dialback_key() would return "".
bool dialback_key_matches(std::string_view secret, std::string_view receiving, std::string_view originating,
                          std::string_view stream_id, std::string_view received_key);

// A fresh secret for when dialback_secret is not configured: 32 bytes from RAND_bytes, as
// lowercase hex. Returns "" if the random generator fails; the caller must then not start.
std::string random_dialback_secret();

// The key of one epoch: hex(HMAC-SHA256(key = secret, data = "xmppd dialback epoch " + the
// epoch in decimal)), lowercase, 64 characters; "" if `secret` is empty or OpenSSL fails.
// Only the parent calls it: it alone holds `secret`.
std::string epoch_key(std::string_view secret, std::uint64_t epoch);

// The worker's side: dialback keys are made with the current epoch's key, and a received key
// is accepted if it was made with the current or the previous one (a key handed out just
// before the epoch changed is still confirmed), never an older one.
class DialbackKeyRing {
 public:
  DialbackKeyRing() = default;
  DialbackKeyRing(const DialbackKeyRing&) = delete;
  DialbackKeyRing& operator=(const DialbackKeyRing&) = delete;
  ~DialbackKeyRing();  // wipes the keys

  // Replaces both keys, wiping the old ones. `previous` may be empty (the first epoch).
  void set(std::string current, std::string previous);
  bool empty() const { return current_.empty(); }

  // dialback_key() with the current epoch's key; "" before set().
  std::string make(std::string_view receiving, std::string_view originating, std::string_view stream_id) const;
  // Whether `received_key` is the key of these inputs under the current or the previous epoch.
  bool matches(std::string_view receiving, std::string_view originating, std::string_view stream_id,
               std::string_view received_key) const;

 private:
  static void wipe(std::string& key);
  std::string current_, previous_;
};

}  // namespace xmppd::s2s
