#include "s2s-worker/dialback_key_ring.h"

#include <openssl/crypto.h>

#include <utility>

#include "xmpp/dialback_key.h"

namespace xmppd::s2s {

DialbackKeyRing::~DialbackKeyRing() {
  wipe(current_);
  wipe(previous_);
}

void DialbackKeyRing::wipe(std::string& key) {
  OPENSSL_cleanse(key.data(), key.size());
  key.clear();
}

void DialbackKeyRing::set(std::string current, std::string previous) {
  wipe(current_);
  wipe(previous_);
  current_ = std::move(current);
  previous_ = std::move(previous);
}

std::string DialbackKeyRing::make(std::string_view receiving, std::string_view originating,
                                  std::string_view stream_id) const {
  return xmpp::dialback_key(current_, receiving, originating, stream_id);
}

// Both are computed, so that the time taken does not tell which epoch a key belongs to.
bool DialbackKeyRing::matches(std::string_view receiving, std::string_view originating, std::string_view stream_id,
                              std::string_view received_key) const {
  const bool current = xmpp::dialback_key_matches(current_, receiving, originating, stream_id, received_key);
  const bool previous = xmpp::dialback_key_matches(previous_, receiving, originating, stream_id, received_key);
  return current || previous;
}

}  // namespace xmppd::s2s
