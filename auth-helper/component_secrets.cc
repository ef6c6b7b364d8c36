#include "auth-helper/component_secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace xmppd::auth {

std::string component_handshake_digest(std::string_view stream_id, std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, stream_id.data(), stream_id.size()) == 1 &&
            EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 && EVP_DigestFinal_ex(ctx, md, &size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

bool ComponentSecrets::check(std::string_view domain, std::string_view stream_id, std::string_view digest) const {
  auto it = secrets_.find(domain);
  if (it == secrets_.end() || stream_id.empty()) return false;
  const std::string expected = component_handshake_digest(stream_id, it->second);
  if (expected.empty() || digest.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), digest.data(), expected.size()) == 0;
}

Clock::duration HandshakeThrottle::delay_after(unsigned failures) {
  if (failures == 0) return Clock::duration::zero();
  const unsigned shift = std::min(failures - 1, 5u);  // 2^5 s is past the cap already
  return std::min<Clock::duration>(std::chrono::seconds(1u << shift), kMaxDelay);
}

TimePoint HandshakeThrottle::answer_at(std::string_view domain, TimePoint now) const {
  auto it = entries_.find(domain);
  if (it == entries_.end() || now - it->second.last >= kForget) return now;
  return std::max(now, it->second.last + delay_after(it->second.failures));
}

void HandshakeThrottle::failed(std::string_view domain, TimePoint now) {
  auto it = entries_.find(domain);
  if (it == entries_.end()) it = entries_.emplace(std::string(domain), Entry{}).first;
  Entry& entry = it->second;
  if (now - entry.last >= kForget) entry.failures = 0;
  if (entry.failures < 1000) ++entry.failures;  // far past the cap; never wraps
  entry.last = now;
}

void HandshakeThrottle::succeeded(std::string_view domain) {
  if (auto it = entries_.find(domain); it != entries_.end()) entries_.erase(it);
}

void HandshakeThrottle::keep_only(const ComponentSecrets& secrets) {
  std::erase_if(entries_, [&](const auto& entry) { return !secrets.knows(entry.first); });
}

void ComponentHandshakes::check(std::uint64_t query, std::string_view domain, std::string_view stream_id,
                                std::string_view digest, TimePoint now) {
  Held handshake{query, std::string(domain), std::string(stream_id), std::string(digest)};
  const TimePoint at = throttle_.answer_at(domain, now);
  if (at <= now) {
    answer(handshake, now);
    return;
  }
  auto count = held_per_domain_.find(domain);
  if (held_.size() >= kMaxHeld || (count != held_per_domain_.end() && count->second >= kMaxHeldPerDomain)) {
    answer_(query, domain, false, {});
    return;
  }
  if (count == held_per_domain_.end()) count = held_per_domain_.emplace(std::string(domain), 0).first;
  ++count->second;
  held_.emplace(at, std::move(handshake));
}

void ComponentHandshakes::unheld(const std::string& domain) {
  auto count = held_per_domain_.find(domain);
  if (count != held_per_domain_.end() && --count->second == 0) held_per_domain_.erase(count);
}

// At most kMaxHeld to look through, and only when a stream goes away while waiting.
void ComponentHandshakes::cancel(std::uint64_t query) {
  for (auto it = held_.begin(); it != held_.end(); ++it) {
    if (it->second.query != query) continue;
    unheld(it->second.domain);
    held_.erase(it);
    return;
  }
}

void ComponentHandshakes::poll(TimePoint now) {
  while (!held_.empty() && held_.begin()->first <= now) {
    Held handshake = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    unheld(handshake.domain);
    answer(handshake, now);
  }
}

std::optional<TimePoint> ComponentHandshakes::next_wake() const {
  if (held_.empty()) return std::nullopt;
  return held_.begin()->first;
}

// Checked when answered, so with the secrets of then (a reload may have come meanwhile).
// Only a configured domain's failures count: the table stays as small as the configuration.
void ComponentHandshakes::answer(const Held& handshake, TimePoint now) {
  const bool ok = secrets_.check(handshake.domain, handshake.stream_id, handshake.digest);
  if (ok)
    throttle_.succeeded(handshake.domain);
  else if (secrets_.knows(handshake.domain))
    throttle_.failed(handshake.domain, now);
  answer_(handshake.query, handshake.domain, ok, ok ? secrets_.tag(handshake.domain) : std::string());
}

}  // namespace xmppd::auth
