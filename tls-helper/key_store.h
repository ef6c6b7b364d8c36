// The private keys and certificate chains the tls helper serves, loaded from file contents
// the parent passed as descriptors.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control.pb.h"
#include "tls-helper/signing_input.h"
#include "tls_signer.pb.h"

namespace xmppd::tls_helper {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

struct HeldKey {
  std::string host;
  ipc::Service service;
  std::uint32_t key_id;
  ipc::KeyType type;
  EvpPkeyPtr key;
  std::vector<std::string> chain;  // DER, leaf first
  // What the servers that may present this key can negotiate; see credential_versions().
  ServerVersions versions = ServerVersions::kTls13Allowed;
};

struct LoadReport {
  std::vector<std::string> errors;    // each names its file
  std::vector<std::string> warnings;
};

// Parses every credential of `settings` from `files` (path → contents). Refuses a key that
// does not match its certificate, an RSA key under 2048 bits, an EC key off P-256/P-384/
// P-521, any other key type, and an encrypted key. An expired or not yet valid certificate
// is only a warning: a server with a lapsed certificate should still start, and say so.
// Key ids are taken from `next_key_id` onwards, so ids are never reused. Each key gets the
// versions of its host (credential_versions()).
std::optional<std::vector<HeldKey>> load_keys(const ipc::TlsSettings& settings,
                                              const std::map<std::string, std::string>& files,
                                              std::uint32_t& next_key_id, LoadReport& report, std::time_t now);

// How long the keys of the generation before a reload still sign. A handshake that began
// before the reload was given the old certificate and must sign with its key; handshakes
// have their own deadline well under this. Past it the old keys are gone: a key replaced
// because it leaked is then of no use to whoever holds a compromised router or worker.
inline constexpr std::chrono::seconds kPreviousGenerationGrace{60};

// The TLS versions a server presenting this credential's certificate may negotiate, for the
// downgrade-sentinel check: per host, as the network processes switch a connection to the
// host's context, versions and all, before libssl chooses the version
// (tls/server_contexts.cc). Only a host limited to TLS 1.2 ("tlsv1_2") is exempt.
ServerVersions credential_versions(const ipc::Credential& credential);

class KeyStore {
 public:
  using Clock = std::chrono::steady_clock;

  // The keys of the generation before stay usable for kPreviousGenerationGrace from `now`,
  // for handshakes begun before the reload; any older generation is dropped at once.
  void replace(std::vector<HeldKey> keys, Clock::time_point now);
  // A key of the current generation, or of the previous one while its grace lasts.
  const HeldKey* find(std::uint32_t key_id, Clock::time_point now) const;
  // Frees the previous generation's keys once their grace is over.
  void retire_expired(Clock::time_point now);
  // When the previous generation must be retired; nullopt when there is none.
  std::optional<Clock::time_point> previous_retires_at() const;
  ipc::CertificateSet certificates_for(ipc::Service service, std::uint64_t generation) const;

 private:
  std::vector<HeldKey> current_, previous_;
  Clock::time_point previous_until_{};
};

// Hashes and signs `message` as the scheme says, with the key's type checked against it.
std::optional<std::vector<std::uint8_t>> sign(const HeldKey& key, ipc::SignatureScheme scheme,
                                              std::string_view digest, std::span<const std::uint8_t> message,
                                              std::string& error);

}  // namespace xmppd::tls_helper
