// Server dialback keys (XEP-0185, as adopted by XEP-0220), and the epoch keys they are made
// from: pure derivations, shared by the parent and the s2s worker. A library of its own
// (xmppd_dialback_key, OpenSSL only), so that the parent links nothing of a role's code and no
// XML parser.
//
// The s2s worker is the Authoritative Server for its own domains: it hands out keys in
// <db:result/> and later confirms them in <db:verify/>. Computing the key from a secret,
// instead of remembering each one, keeps no state per stream and lets any process that
// shares the secret answer the verify.
//
// The worker parses hostile bytes, so it never holds the long-term secret (dialback_secret):
// the parent derives a key per epoch from it (epoch_key, daemon/dialback_epochs.h) and hands
// the worker the current and the previous one (s2s-worker/dialback_key_ring.h). Whoever takes
// over the worker learns keys that stop being accepted two epochs later. docs/design.md says
// why this split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xmppd::xmpp {

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
// Only the parent calls it.
std::string random_dialback_secret();

// The key of one epoch: hex(HMAC-SHA256(key = secret, data = "xmppd dialback epoch " + the
// epoch in decimal)), lowercase, 64 characters; "" if `secret` is empty or OpenSSL fails.
// Only the parent calls it: it alone holds `secret`.
std::string epoch_key(std::string_view secret, std::uint64_t epoch);

}  // namespace xmppd::xmpp
