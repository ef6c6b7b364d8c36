#include "tls/peer_verify.h"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <vector>

namespace xmppd::tls {
namespace {

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
// OPENSSL_free is a macro, so it cannot be a template argument.
struct OpenSslFree {
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};

using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using Utf8Ptr = std::unique_ptr<unsigned char, OpenSslFree>;

// ---- Chain ----

// Distinct verify errors, in the order OpenSSL reported them.
using VerifyErrors = std::vector<int>;

// Returning 1 lets OpenSSL carry on past every error, so that the status comes
// from the precedence below rather than from whichever check happened first.
int collect_error(int ok, X509_STORE_CTX* ctx) {
  if (ok) return 1;
  auto* errors = static_cast<VerifyErrors*>(X509_STORE_CTX_get_app_data(ctx));
  int error = X509_STORE_CTX_get_error(ctx);
  if (std::find(errors->begin(), errors->end(), error) == errors->end()) errors->push_back(error);
  return 1;
}

bool has_name_constraints(X509* cert) { return X509_get_ext_by_NID(cert, NID_name_constraints, -1) >= 0; }

bool any_has_name_constraints(STACK_OF(X509)* certs) {
  for (int i = 0; certs && i < sk_X509_num(certs); ++i)
    if (has_name_constraints(sk_X509_value(certs, i))) return true;
  return false;
}

// `constraints` covers the chain OpenSSL built (anchor included) and whatever else the
// peer sent: a constrained certificate anywhere near the leaf is reason enough.
VerifyErrors verify_chain(X509* leaf, STACK_OF(X509)* untrusted, X509_STORE* trust, std::optional<time_t> at,
                          NameConstraints& constraints) {
  VerifyErrors errors;
  constraints = has_name_constraints(leaf) || any_has_name_constraints(untrusted) ? NameConstraints::kInChain
                                                                                  : NameConstraints::kNone;
  // With no anchors nothing can be trusted, but the other checks still say why.
  StorePtr empty_store(trust ? nullptr : X509_STORE_new());
  if (!trust) trust = empty_store.get();
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!trust || !ctx || X509_STORE_CTX_init(ctx.get(), trust, leaf, untrusted) != 1) {
    errors.push_back(X509_V_ERR_OUT_OF_MEM);
    return errors;
  }
  if (at) X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), *at);
  X509_STORE_CTX_set_app_data(ctx.get(), &errors);
  X509_STORE_CTX_set_verify_cb(ctx.get(), collect_error);
  // A failure that bypassed the callback (an internal error) must not read as trusted.
  if (X509_verify_cert(ctx.get()) <= 0 && errors.empty()) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    errors.push_back(error == X509_V_OK ? X509_V_ERR_UNSPECIFIED : error);
  }
  if (any_has_name_constraints(X509_STORE_CTX_get0_chain(ctx.get()))) constraints = NameConstraints::kInChain;
  return errors;
}

bool has_any(const VerifyErrors& errors, std::initializer_list<int> wanted) {
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](int e) { return std::find(errors.begin(), errors.end(), e) != errors.end(); });
}

// The most fundamental problem wins: an expiry date means little on a
// certificate that nobody vouches for.
ChainStatus classify(const VerifyErrors& errors) {
  if (errors.empty()) return ChainStatus::kTrusted;
  if (has_any(errors, {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN})) {
    return ChainStatus::kSelfSigned;
  }
  if (has_any(errors, {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                       X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED})) {
    return ChainStatus::kUntrustedIssuer;
  }
  if (has_any(errors, {X509_V_ERR_CERT_HAS_EXPIRED})) return ChainStatus::kExpired;
  if (has_any(errors, {X509_V_ERR_CERT_NOT_YET_VALID})) return ChainStatus::kNotYetValid;
  return ChainStatus::kInvalid;
}

std::string describe_errors(const VerifyErrors& errors) {
  std::string text;
  for (int error : errors) {
    if (!text.empty()) text += "; ";
    text += X509_verify_cert_error_string(error);
  }
  return text;
}

// ---- Identity ----

constexpr std::string_view kSrvPrefix = "_xmpp-server.";

// Locale-free: host names compare in ASCII only (IDNs arrive as A-labels).
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// "example.com." is only the absolute spelling of "example.com".
std::string_view strip_trailing_dot(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  return name;
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// The domain is compared literally against presented names, so a '*' in it
// would let a wildcard match itself, and an empty label would let "*." match
// nothing real.
bool valid_reference(std::string_view domain) {
  if (domain.empty() || has_nul(domain) || domain.find('*') != std::string_view::npos) return false;
  for (size_t start = 0;;) {
    size_t dot = domain.find('.', start);
    if (dot == start || start == domain.size()) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// dNSName and CN-ID rules. A '*' can only match when it is the whole left-most
// label (a literal '*' elsewhere can never equal the validated domain), and it
// stands for exactly one label.
bool dns_id_matches(std::string_view presented, std::string_view domain) {
  presented = strip_trailing_dot(presented);
  if (!presented.starts_with("*.")) return iequals(presented, domain);
  std::string_view parent = presented.substr(2);
  // "*.com" would cover a whole top-level domain.
  if (parent.find('.') == std::string_view::npos) return false;
  size_t dot = domain.find('.');
  return dot != std::string_view::npos && iequals(domain.substr(dot + 1), parent);
}

// The service is part of the compared string, so "_xmpp-client.example.com"
// (a c2s certificate) does not vouch for federation.
bool srv_id_matches(std::string_view presented, std::string_view domain) {
  presented = strip_trailing_dot(presented);
  return presented.size() == kSrvPrefix.size() + domain.size() &&
         iequals(presented.substr(0, kSrvPrefix.size()), kSrvPrefix) &&
         iequals(presented.substr(kSrvPrefix.size()), domain);
}

// Only a bare domain JID identifies a server; "user@example.com" is a user.
bool xmpp_addr_matches(std::string_view presented, std::string_view domain) {
  return iequals(strip_trailing_dot(presented), domain);
}

using Matcher = bool (*)(std::string_view presented, std::string_view domain);

// One subjectAltName entry of a type XMPP uses; kind is null for other types.
// value is null when the entry is of a used type but badly encoded: it still
// counts as present (and so still rules out CN-ID) but never matches.
struct Presented {
  const char* kind = nullptr;
  const ASN1_STRING* value = nullptr;
  Matcher matches = nullptr;
};

Presented presented_of(const GENERAL_NAME* name) {
  int type = 0;
  void* value = GENERAL_NAME_get0_value(name, &type);
  if (type == GEN_DNS) return {"DNS-ID", static_cast<const ASN1_STRING*>(value), dns_id_matches};
  if (type != GEN_OTHERNAME) return {};
  ASN1_OBJECT* oid = nullptr;
  ASN1_TYPE* other = nullptr;
  if (GENERAL_NAME_get0_otherName(name, &oid, &other) != 1 || !other) return {};
  switch (OBJ_obj2nid(oid)) {
    case NID_SRVName:
      return {"SRV-ID", other->type == V_ASN1_IA5STRING ? other->value.ia5string : nullptr, srv_id_matches};
    case NID_XmppAddr:
      return {"XmppAddr", other->type == V_ASN1_UTF8STRING ? other->value.utf8string : nullptr, xmpp_addr_matches};
    default:
      return {};
  }
}

// The bytes of s; nullopt if absent or if it holds a NUL, the classic way to
// smuggle "example.com\0.evil.com" past C string comparisons.
std::optional<std::string_view> text_of(const ASN1_STRING* s) {
  if (!s) return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
  if (has_nul(text)) return std::nullopt;
  return text;
}

IdentityStatus report_match(std::string* matched, std::string_view kind, std::string_view text) {
  if (matched) {
    matched->assign(kind);
    matched->append(" ").append(text);
  }
  return IdentityStatus::kMatches;
}

IdentityStatus match_common_names(X509* leaf, std::string_view domain, std::string* matched) {
  const X509_NAME* subject = X509_get_subject_name(leaf);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    // CNs come in several string types; UTF-8 makes them comparable.
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    Utf8Ptr owned(utf8);
    if (length < 0) continue;
    std::string_view text(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
    if (!has_nul(text) && dns_id_matches(text, domain)) return report_match(matched, "CN-ID", text);
  }
  return IdentityStatus::kMismatch;
}

// A leaf without the extension may serve any purpose; with it, one of the two TLS purposes
// (or anyExtendedKeyUsage) must be named.
bool for_tls(X509* leaf) {
  if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0) return true;
  return (X509_get_extended_key_usage(leaf) & (XKU_SSL_SERVER | XKU_SSL_CLIENT | XKU_ANYEKU)) != 0;
}

}  // namespace

bool PeerVerification::trusted_for(std::string_view) const {
  return chain == ChainStatus::kTrusted && identity == IdentityStatus::kMatches;
}

PeerVerification verify_peer(X509* leaf, STACK_OF(X509)* untrusted_chain, X509_STORE* trust, std::string_view domain,
                             std::optional<time_t> at) {
  PeerVerification result;
  if (!leaf) return result;
  NameConstraints constraints = NameConstraints::kInChain;
  VerifyErrors errors = verify_chain(leaf, untrusted_chain, trust, at, constraints);
  result.chain = classify(errors);
  result.detail = describe_errors(errors);
  if (result.chain == ChainStatus::kTrusted && !for_tls(leaf)) {
    result.chain = ChainStatus::kWrongPurpose;
    result.detail = "extended key usage without serverAuth or clientAuth";
  }
  result.identity = match_identity(leaf, domain, &result.matched, constraints);
  return result;
}

const char* describe(ChainStatus status) {
  switch (status) {
    case ChainStatus::kTrusted:
      return "trusted";
    case ChainStatus::kSelfSigned:
      return "self-signed";
    case ChainStatus::kUntrustedIssuer:
      return "untrusted issuer";
    case ChainStatus::kExpired:
      return "expired";
    case ChainStatus::kNotYetValid:
      return "not yet valid";
    case ChainStatus::kInvalid:
      return "invalid";
    case ChainStatus::kWrongPurpose:
      return "not for TLS";
    case ChainStatus::kNoCertificate:
      return "no certificate";
  }
  return "invalid";
}

std::string describe_shortfall(const PeerVerification& v, std::string_view domain) {
  std::string why;
  switch (v.chain) {
    case ChainStatus::kTrusted:
      break;
    case ChainStatus::kNoCertificate:
      return "no certificate was presented";
    case ChainStatus::kSelfSigned:
      why = "the certificate is self-signed";
      break;
    case ChainStatus::kUntrustedIssuer:
      why = "the certificate's issuer is not trusted";
      break;
    case ChainStatus::kExpired:
      why = "the certificate has expired";
      break;
    case ChainStatus::kNotYetValid:
      why = "the certificate is not yet valid";
      break;
    case ChainStatus::kWrongPurpose:
      why = "the certificate is not for TLS authentication (" + v.detail + ")";
      break;
    case ChainStatus::kInvalid:
      why = "the certificate is invalid (" + v.detail + ")";
      break;
  }
  if (v.identity != IdentityStatus::kMatches) {
    why += why.empty() ? "the certificate" : ", and it";
    why += " is not valid for ";
    why += domain;
  }
  return why;
}

namespace {

// What is wrong with a chain, as the predicate of "the certificate ...".
std::string chain_problem(const PeerVerification& v) {
  switch (v.chain) {
    case ChainStatus::kSelfSigned:
      return "is self-signed";
    case ChainStatus::kUntrustedIssuer:
      return "is issued by a CA that is not trusted here";
    case ChainStatus::kExpired:
      return "has expired";
    case ChainStatus::kNotYetValid:
      return "is not yet valid";
    case ChainStatus::kWrongPurpose:
      return "is not for TLS authentication (" + v.detail + ")";
    case ChainStatus::kInvalid:
      return "is invalid (" + v.detail + ")";
    case ChainStatus::kTrusted:
    case ChainStatus::kNoCertificate:
      break;
  }
  return {};
}

}  // namespace

std::string describe_verdict(const PeerVerification& v, std::string_view domain) {
  std::string whose = std::string(domain) + "'s certificate";
  if (v.chain == ChainStatus::kNoCertificate) return std::string(domain) + " presented no certificate";
  bool named = v.identity == IdentityStatus::kMatches;
  if (v.chain == ChainStatus::kTrusted)
    return named ? whose + " is trusted" + (v.matched.empty() ? "" : " (" + v.matched + ")")
                 : whose + " is issued by a trusted CA but does not name " + std::string(domain) +
                       ", so it is not trusted";
  if (named) return whose + " names " + std::string(domain) + " but " + chain_problem(v) + ", so it is not trusted";
  return whose + " " + chain_problem(v) + " and does not name " + std::string(domain) + ", so it is not trusted";
}

const char* describe(IdentityStatus status) {
  switch (status) {
    case IdentityStatus::kMatches:
      return "valid for the domain";
    case IdentityStatus::kMismatch:
      return "not valid for the domain";
    case IdentityStatus::kNoCertificate:
      return "no certificate";
  }
  return "not valid for the domain";
}

IdentityStatus match_identity(X509* leaf, std::string_view domain, std::string* matched, NameConstraints constraints) {
  if (!leaf) return IdentityStatus::kNoCertificate;
  domain = strip_trailing_dot(domain);
  if (!valid_reference(domain)) return IdentityStatus::kMismatch;
  int found = 0;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, &found, nullptr)));
  // A subjectAltName that is there but unreadable (or given twice) must not
  // send us back to the CN, which an attacker may control more easily.
  if (!names && found != -1) return IdentityStatus::kMismatch;
  bool has_supported_san = false;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    Presented presented = presented_of(sk_GENERAL_NAME_value(names.get(), i));
    if (!presented.kind) continue;
    has_supported_san = true;
    // Only DNS-IDs were held to the chain's name constraints.
    if (constraints == NameConstraints::kInChain && presented.matches != dns_id_matches) continue;
    std::optional<std::string_view> text = text_of(presented.value);
    if (text && presented.matches(*text, domain)) return report_match(matched, presented.kind, *text);
  }
  // RFC 6125 §6.4.4: the CN is a fallback for certificates without SANs, never an extra identity.
  if (has_supported_san) return IdentityStatus::kMismatch;
  return match_common_names(leaf, domain, matched);
}

std::string describe_session(SSL* ssl) {
  std::string text = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  text += ", SNI ";
  text += sni != nullptr ? sni : "(none)";
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  text += ", ALPN ";
  text += alpn_len > 0 ? std::string(reinterpret_cast<const char*>(alpn), alpn_len) : "(none)";
  return text;
}

}  // namespace xmppd::tls
