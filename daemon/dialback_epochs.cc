#include "daemon/dialback_epochs.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "common/log.h"
#include "xmpp/dialback_key.h"

namespace xmppd::parent {
namespace {

void wipe(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace

DialbackEpochs::DialbackEpochs(const std::string& configured) { use_secret(configured); }

DialbackEpochs::~DialbackEpochs() {
  wipe(configured_);
  wipe(secret_);
  wipe(current_);
  wipe(previous_);
}

void DialbackEpochs::use_secret(const std::string& configured) {
  wipe(configured_);
  wipe(secret_);
  configured_ = configured;
  secret_ = configured.empty() ? xmpp::random_dialback_secret() : configured;
  if (secret_.empty()) log::fatal("cannot make a dialback secret");
}

bool DialbackEpochs::reconfigure(const std::string& configured) {
  if (configured == configured_) return false;
  use_secret(configured);
  advance();
  return true;
}

void DialbackEpochs::advance() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  advance(static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(now).count())));
}

void DialbackEpochs::advance(std::uint64_t wall_us, std::chrono::steady_clock::time_point now) {
  epoch_ = std::max(epoch_ + 1, wall_us);
  began_ = now;
  std::string next = xmpp::epoch_key(secret_, epoch_);
  if (next.empty()) log::fatal("cannot derive a dialback epoch key");
  wipe(previous_);
  previous_ = std::move(current_);
  current_ = std::move(next);
}

std::chrono::steady_clock::duration DialbackEpochs::next_epoch_in(std::chrono::steady_clock::time_point now) const {
  const auto due = began_ + kEpochLength;
  return due > now ? due - now : std::chrono::steady_clock::duration::zero();
}

ipc::DialbackKeys DialbackEpochs::keys() const {
  ipc::DialbackKeys keys;
  keys.set_epoch(epoch_);
  keys.set_current(current_);
  keys.set_previous(previous_);
  return keys;
}

}  // namespace xmppd::parent
