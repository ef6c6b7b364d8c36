#include "bench/loadgen/scram_client.h"

#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <fstream>

namespace loadgen {

using namespace xmppd::auth;

namespace {

// RFC 5802 §5.1: ',' and '=' in a username are escaped.
std::string escape_username(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

}  // namespace

std::string SaltedPasswordCache::key(ScramHash hash, std::string_view password, std::string_view salt,
                                     std::uint32_t iterations) {
  // The password itself is not kept, only a keyed digest of it.
  return std::string(hash_name(hash)) + " " + std::to_string(iterations) + " " + base64_encode(salt) + " " +
         base64_encode(hmac(ScramHash::kSha256, "loadgen scram cache", password));
}

void SaltedPasswordCache::open(const std::string& path) {
  path_ = path;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t last = line.rfind(' ');
    if (last == std::string::npos) continue;
    auto value = base64_decode(std::string_view(line).substr(last + 1));
    if (value) map_[line.substr(0, last)] = std::move(*value);
  }
}

void SaltedPasswordCache::save() {
  if (path_.empty() || added_.empty()) return;
  if (std::FILE* f = std::fopen(path_.c_str(), "a")) {
    std::fwrite(added_.data(), 1, added_.size(), f);
    std::fclose(f);
  }
  added_.clear();
}

std::string SaltedPasswordCache::salted(ScramHash hash, std::string_view password, std::string_view salt,
                                        std::uint32_t iterations) {
  std::string k = key(hash, password, salt, iterations);
  if (auto it = map_.find(k); it != map_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  SecretBytes value = salted_password(hash, password, salt, iterations);
  if (value.empty()) return {};
  std::string bytes(value.view());
  if (!path_.empty()) added_ += k + " " + base64_encode(bytes) + "\n";
  map_.emplace(std::move(k), bytes);
  return bytes;
}

std::string ScramClient::first_message(std::string_view username) {
  unsigned char random[18];
  RAND_bytes(random, sizeof random);
  nonce_ = base64_encode(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
  client_first_bare_ = "n=" + escape_username(username) + ",r=" + nonce_;
  return base64_encode("n,," + client_first_bare_);
}

std::optional<std::string> ScramClient::final_message(std::string_view challenge, std::string_view password,
                                                      SaltedPasswordCache& cache, std::string& error) {
  auto server_first = base64_decode(challenge);
  if (!server_first) {
    error = "SCRAM: challenge is not base64";
    return std::nullopt;
  }
  std::string_view r, s;
  std::uint32_t iterations = 0;
  std::string_view rest = *server_first;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    if (part.size() >= 2 && part[1] == '=') {
      std::string_view value = part.substr(2);
      if (part[0] == 'r') r = value;
      else if (part[0] == 's') s = value;
      else if (part[0] == 'i') std::from_chars(value.data(), value.data() + value.size(), iterations);
      else if (part[0] == 'm') {
        error = "SCRAM: mandatory extension in server-first-message";
        return std::nullopt;
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  auto salt = base64_decode(s);
  if (r.substr(0, nonce_.size()) != nonce_ || r.size() == nonce_.size() || !salt || iterations == 0) {
    error = "SCRAM: bad server-first-message " + *server_first;
    return std::nullopt;
  }
  std::string without_proof = "c=biws,r=" + std::string(r);
  std::string auth_message = client_first_bare_ + "," + *server_first + "," + without_proof;
  std::string salted = cache.salted(hash_, password, *salt, iterations);
  if (salted.empty()) {
    error = "SCRAM: PBKDF2 failed";
    return std::nullopt;
  }
  SecretBytes ckey = client_key(hash_, salted);
  std::string proof = client_proof(hash_, ckey.view(), auth_message);
  expected_server_final_ = "v=" + base64_encode(server_signature(hash_, server_key(hash_, salted), auth_message));
  cleanse(salted);
  return base64_encode(without_proof + ",p=" + base64_encode(proof));
}

bool ScramClient::verify_success(std::string_view success) const {
  auto decoded = base64_decode(success);
  return decoded && *decoded == expected_server_final_;
}

}  // namespace loadgen
