// Server dialback keys (XEP-0185, as adopted by XEP-0220).
//
// The s2s worker is the Authoritative Server for its own domains: it hands out keys in
// <db:result/> and later confirms them in <db:verify/>. Computing the key from a secret,
// instead of remembering each one, keeps no state per stream and lets any process that
// shares the secret answer the verify.
#pragma once

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

}  // namespace xmppd::s2s
