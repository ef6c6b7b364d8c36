#include "tls/dane.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include "tls/peer_verify.h"

namespace xmppd::tls {
namespace {

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using CtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;

constexpr std::uint8_t kDaneTa = 2;
constexpr std::uint8_t kDaneEe = 3;

DaneVerification verdict(DaneStatus status, std::string detail) {
  ERR_clear_error();  // what OpenSSL queued about refused records is said in `detail`
  return DaneVerification{status, std::move(detail)};
}

bool has_name_constraints(STACK_OF(X509) * certs) {
  for (int i = 0; certs && i < sk_X509_num(certs); ++i)
    if (X509_get_ext_by_NID(sk_X509_value(certs, i), NID_name_constraints, -1) >= 0) return true;
  return false;
}

const char* usage_name(std::uint8_t usage) {
  switch (usage) {
    case 0:
      return "PKIX-TA(0)";
    case 1:
      return "PKIX-EE(1)";
    case kDaneTa:
      return "DANE-TA(2)";
    case kDaneEe:
      return "DANE-EE(3)";
    default:
      return nullptr;
  }
}

}  // namespace

std::string describe(const DaneRecord& record) {
  auto numbered = [](const char* name, std::uint8_t value) {
    return name != nullptr ? std::string(name) : "unknown(" + std::to_string(value) + ")";
  };
  const char* selector = record.selector == 0 ? "Cert(0)" : record.selector == 1 ? "SPKI(1)" : nullptr;
  const char* matching = record.matching_type == 0   ? "Full(0)"
                         : record.matching_type == 1 ? "SHA2-256(1)"
                         : record.matching_type == 2 ? "SHA2-512(2)"
                                                     : nullptr;
  return numbered(usage_name(record.usage), record.usage) + " " + numbered(selector, record.selector) + " " +
         numbered(matching, record.matching_type);
}

DaneVerification verify_dane(X509* leaf, STACK_OF(X509) * untrusted_chain, const std::vector<DaneRecord>& records,
                             std::string_view domain, std::string_view host, std::optional<time_t> at) {
  if (leaf == nullptr) return verdict(DaneStatus::kNoMatch, "no certificate");
  // OpenSSL keeps a connection's TLSA records in its SSL object: a throwaway one holds them
  // here, and its DANE state is lent to a verification of our own (the handshake's SSL has
  // its own trust store, which DANE must not depend on).
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_dane_enable(ctx.get()) <= 0) return verdict(DaneStatus::kNoMatch, "cannot set up DANE");
  SslPtr ssl(SSL_new(ctx.get()));
  const std::string base(domain);
  if (!ssl || SSL_dane_enable(ssl.get(), base.c_str()) <= 0) return verdict(DaneStatus::kNoMatch, "cannot set up DANE");
  // RFC 7671 §5.1: a DANE-EE match binds the key to the name by itself.
  SSL_dane_set_flags(ssl.get(), DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  int usable = 0;
  for (const DaneRecord& r : records) {
    if (r.usage != kDaneTa && r.usage != kDaneEe) continue;
    // 0: a selector or matching type OpenSSL does not know; negative: malformed data (a digest
    // of the wrong length, a certificate that does not decode). Both are unusable records
    // (RFC 7671 §4.1), never a reason to refuse on their own.
    if (SSL_dane_tlsa_add(ssl.get(), r.usage, r.selector, r.matching_type, r.data.data(), r.data.size()) > 0) ++usable;
  }
  if (usable == 0) return verdict(DaneStatus::kNoUsable, "no usable TLSA record");

  StorePtr store(X509_STORE_new());  // no anchors: only what the records say is trusted
  StoreCtxPtr verify(X509_STORE_CTX_new());
  if (!store || !verify || X509_STORE_CTX_init(verify.get(), store.get(), leaf, untrusted_chain) != 1)
    return verdict(DaneStatus::kNoMatch, "cannot set up DANE verification");
  X509_STORE_CTX_set0_dane(verify.get(), SSL_get0_dane(ssl.get()));
  if (at) X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(verify.get()), *at);
  const bool verified = X509_verify_cert(verify.get()) == 1;
  std::uint8_t usage = 0, selector = 0, matching = 0;
  const int depth = SSL_get0_dane_tlsa(ssl.get(), &usage, &selector, &matching, nullptr, nullptr);
  if (!verified || depth < 0) {
    const int error = X509_STORE_CTX_get_error(verify.get());
    return verdict(DaneStatus::kNoMatch,
                   X509_verify_cert_error_string(error == X509_V_OK ? X509_V_ERR_DANE_NO_MATCH : error));
  }
  const std::string matched =
      describe(DaneRecord{usage, selector, matching, {}}) + " at depth " + std::to_string(depth);
  if (usage == kDaneEe) return verdict(DaneStatus::kEeMatched, matched);
  // RFC 7673 §4: under a DANE-TA record the certificate must name the service domain or the
  // SRV target. The chain's name constraints limit SRV-IDs and XmppAddrs as in verify_peer.
  const NameConstraints constraints = has_name_constraints(X509_STORE_CTX_get0_chain(verify.get()))
                                          ? NameConstraints::kInChain
                                          : NameConstraints::kNone;
  std::string name;
  if (match_identity(leaf, domain, &name, constraints) == IdentityStatus::kMatches ||
      (!host.empty() && match_identity(leaf, host, &name, constraints) == IdentityStatus::kMatches))
    return verdict(DaneStatus::kTaMatched, matched + ", " + name);
  return verdict(DaneStatus::kNoMatch,
                 matched + ", but the certificate is valid for neither " + base + " nor " + std::string(host));
}

}  // namespace xmppd::tls
