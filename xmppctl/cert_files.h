// Certificate and key files as `check certs` and `cert import` judge them: read from disk
// (xmppctl runs as root, like the parent that opens the same files), then the facts an admin
// acts on: does the key match, which hosts do the names cover, when does it expire, does the
// chain verify. Key material is read only to compare it with the certificate, with OpenSSL,
// and is never printed. The file layouts `cert import` looks for are here too, as pure logic.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::ctl {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// A certificate file: the leaf first, then whatever chain follows it in the file.
struct CertificateChain {
  std::vector<X509Ptr> certificates;
  X509* leaf() const { return certificates.empty() ? nullptr : certificates.front().get(); }
};

// The whole of a small regular file (at most 1 MiB), read once into a buffer sized up front,
// so that no reallocation leaves copies of a key behind; false with `error` otherwise.
bool read_file(const std::string& path, std::string& out, std::string& error);
// Overwrites a buffer that held key material (OPENSSL_cleanse), then empties it.
void scrub(std::string& secret);

// Reads every PEM certificate of `path`; false (with `error`) if it cannot be read or holds none.
bool read_chain(const std::string& path, CertificateChain& out, std::string& error);
// Reads an unencrypted PEM private key; an encrypted one is refused (the server could not use it).
bool read_key(const std::string& path, KeyPtr& out, std::string& error);

// The same from bytes already read (cert import judges exactly the bytes it installs); `name`
// is the file they came from, for the error.
bool parse_chain(std::string_view pem, const std::string& name, CertificateChain& out, std::string& error);
bool parse_key(std::string_view pem, const std::string& name, KeyPtr& out, std::string& error);

// X509_check_private_key, without leaving OpenSSL's error queue behind.
bool key_matches(X509* leaf, EVP_PKEY* key);

// Whole days from `now` to the end of the certificate's validity; negative once expired.
long days_left(X509* leaf, std::time_t now);
// Whether `now` is before the certificate's notBefore.
bool not_yet_valid(X509* leaf, std::time_t now);
// notAfter as "2026-12-31".
std::string expiry_date(X509* leaf);

// Whether the certificate names `host` the way a client or server checks it (RFC 6125 with
// XMPP's identifiers: tls/peer_verify.h's match_identity).
bool covers(X509* leaf, std::string_view host);
// Whether it names `host` as clients check it: a DNS-ID (or a CN-ID). An SRV-ID
// (_xmpp-server) or an XmppAddr satisfies servers only.
bool covers_for_clients(X509* leaf, std::string_view host);
// Whether peers accept it as a client certificate (for our outbound s2s SASL EXTERNAL): no
// extended key usage at all, or one that includes clientAuth.
bool allows_client_auth(X509* leaf);

// A certificate expiring in fewer days than this is a warning in `check certs`; certbot renews
// at 30 days left, so a certificate under 14 means renewal or its import has stopped working.
inline constexpr long kExpiryWarningDays = 14;

// --- cert import's search (pure logic) ---

struct CandidatePair {
  std::string certificate, key;
};

// The names a certificate for `host` may be filed under: the host itself, then its parent
// domain (where a wildcard certificate *.parent lives), as daemon/credentials.cc looks for them.
std::vector<std::string> names_for(std::string_view host);

// The pairs to try in `dir` for `name`, best first, in the layouts Prosody's cert import knows:
// DIR/NAME/fullchain.pem + privkey.pem (certbot's live/ directory), DIR/NAME.crt + NAME.key,
// DIR/NAME/NAME.crt + NAME/NAME.key.
std::vector<CandidatePair> candidate_pairs(std::string_view dir, std::string_view name);

}  // namespace xmppd::ctl
