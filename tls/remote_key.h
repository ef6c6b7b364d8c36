// Private keys that live in another process.
//
// The router and the s2s worker present certificates whose private keys only the tls helper
// holds. A small built-in OpenSSL provider ("xmppd-remote-key") supplies key management and
// signature implementations for RSA, EC and Ed25519 keys whose key data is the public half
// plus a key id. When libssl signs a handshake, the provider hands the whole to-be-signed
// message to a RemoteSigner, which asks the tls helper. (The legacy RSA_METHOD and
// EC_KEY_METHOD hooks were rejected: they have no Ed25519 path, and for RSA-PSS they pass an
// already padded block, which would make the helper a raw RSA oracle. See docs/design.md.)
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tls_signer.pb.h"

namespace xmppd::tls {

class RemoteSigner {
 public:
  virtual ~RemoteSigner() = default;
  // Signs `message` (not a digest) with the key `key_id`. False on any failure.
  virtual bool sign(std::uint32_t key_id, ipc::SignatureScheme scheme, std::string_view digest,
                    std::span<const std::uint8_t> message, std::vector<std::uint8_t>& signature) = 0;
};

// Registers the provider next to OpenSSL's default provider, which stays the default for
// everything else. Call once, before any SSL_CTX is made and before the sandbox (it may
// read OpenSSL's configuration file).
bool init_remote_keys();

// The process's one path to the key holder; null while there is none (signing then fails).
void set_remote_signer(RemoteSigner* signer);

// A key object for the public key of `leaf` whose signatures are made by the remote signer
// with key `key_id`. Null if the key type is not RSA, EC or Ed25519.
EVP_PKEY* make_remote_key(X509* leaf, std::uint32_t key_id);

}  // namespace xmppd::tls
