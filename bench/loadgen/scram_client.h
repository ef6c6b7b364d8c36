// The client side of SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel
// binding ("n,,"), on top of the project's SCRAM computations (auth-helper/scram.h).
//
// A real client derives the salted password once per account and caches it; so does the load
// generator, in memory and optionally in a file (--scram-cache), so that PBKDF2 (thousands
// of HMACs per login) does not make the client the bottleneck of a login-rate measurement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth-helper/scram.h"

namespace loadgen {

class SaltedPasswordCache {
 public:
  // Loads `path` if it exists; save() writes back what was added since.
  void open(const std::string& path);
  void save();
  // PBKDF2 of the password, from the cache when this (hash, salt, iterations, password) was
  // seen before. Empty if OpenSSL failed.
  std::string salted(xmppd::auth::ScramHash hash, std::string_view password, std::string_view salt,
                     std::uint32_t iterations);
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  static std::string key(xmppd::auth::ScramHash hash, std::string_view password, std::string_view salt,
                         std::uint32_t iterations);
  std::unordered_map<std::string, std::string> map_;
  std::string path_;
  std::string added_;  // lines not yet in the file
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

class ScramClient {
 public:
  explicit ScramClient(xmppd::auth::ScramHash hash) : hash_(hash) {}
  // The base64 payload of <auth/>.
  std::string first_message(std::string_view username);
  // The base64 payload of <response/> for the base64 `challenge`, or nullopt with `error`.
  std::optional<std::string> final_message(std::string_view challenge, std::string_view password,
                                           SaltedPasswordCache& cache, std::string& error);
  // Whether the base64 additional data of <success/> carries the expected server signature.
  bool verify_success(std::string_view success) const;

 private:
  xmppd::auth::ScramHash hash_;
  std::string nonce_;
  std::string client_first_bare_;
  std::string expected_server_final_;
};

}  // namespace loadgen
