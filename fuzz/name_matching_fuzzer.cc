// RFC 6125 name matching as XMPP federation uses it (tls/peer_verify.h, match_identity), on
// certificates built from the fuzz bytes: unsigned, since only their names are read.
//
// Input: one byte of options (name constraints in the chain or not), then fields separated by
// 0xff: the reference domain, then presented names, each led by a byte giving its kind
// (dNSName, SRVName, XmppAddr, a badly typed SRVName or XmppAddr, an rfc822Name, a CN).
// Invariants: the verdict ignores ASCII case on either side and a trailing dot on the
// domain; a valid domain presented as a dNSName matches itself; a wildcard stands for exactly
// one label and never for a public suffix alone; a match names a presented identifier of the
// kind reported, never one holding a NUL, never an SRV-ID or XmppAddr when name constraints
// are in the chain, and a CN only when no subjectAltName of a kind XMPP uses is present.
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tls/peer_verify.h"

namespace {

using xmppd::tls::IdentityStatus;
using xmppd::tls::NameConstraints;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

enum Kind : std::uint8_t { kDns, kSrv, kXmppAddr, kSrvAsUtf8, kXmppAddrAsIa5, kEmail, kCn, kKinds };

struct Name {
  Kind kind;
  std::string text;
};

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

ASN1_STRING* string_of(int type, std::string_view text) {
  ASN1_STRING* s = ASN1_STRING_type_new(type);
  if (s && ASN1_STRING_set(s, text.data(), static_cast<int>(text.size())) != 1) {
    ASN1_STRING_free(s);
    return nullptr;
  }
  return s;
}

GENERAL_NAME* general_name(const Name& name) {
  GENERAL_NAME* g = GENERAL_NAME_new();
  if (!g) return nullptr;
  if (name.kind == kDns || name.kind == kEmail) {
    ASN1_STRING* s = string_of(V_ASN1_IA5STRING, name.text);
    if (!s) return GENERAL_NAME_free(g), nullptr;
    GENERAL_NAME_set0_value(g, name.kind == kDns ? GEN_DNS : GEN_EMAIL, s);
    return g;
  }
  const bool srv = name.kind == kSrv || name.kind == kSrvAsUtf8;
  const int type = (name.kind == kSrv || name.kind == kXmppAddrAsIa5) ? V_ASN1_IA5STRING : V_ASN1_UTF8STRING;
  ASN1_STRING* s = string_of(type, name.text);
  ASN1_TYPE* value = ASN1_TYPE_new();
  ASN1_OBJECT* oid = OBJ_nid2obj(srv ? NID_SRVName : NID_XmppAddr);
  if (!s || !value || !oid) {
    ASN1_STRING_free(s);
    ASN1_TYPE_free(value);
    GENERAL_NAME_free(g);
    return nullptr;
  }
  ASN1_TYPE_set(value, type, s);
  if (GENERAL_NAME_set0_othername(g, OBJ_dup(oid), value) != 1) {
    ASN1_TYPE_free(value);
    GENERAL_NAME_free(g);
    return nullptr;
  }
  return g;
}

X509Ptr certificate(const std::vector<Name>& names) {
  X509Ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  GENERAL_NAMES* sans = GENERAL_NAMES_new();
  check(sans != nullptr, "GENERAL_NAMES_new");
  bool any_san = false;
  for (const Name& name : names) {
    if (name.kind == kCn) {
      X509_NAME_add_entry_by_NID(X509_get_subject_name(cert.get()), NID_commonName, V_ASN1_UTF8STRING,
                                 reinterpret_cast<const unsigned char*>(name.text.data()),
                                 static_cast<int>(name.text.size()), -1, 0);
      continue;
    }
    GENERAL_NAME* g = general_name(name);
    if (g && sk_GENERAL_NAME_push(sans, g) > 0) {
      any_san = true;
    } else {
      GENERAL_NAME_free(g);
    }
  }
  if (any_san) X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(sans);
  return cert;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string_view strip_dot(std::string_view s) {
  if (s.ends_with('.')) s.remove_suffix(1);
  return s;
}

// What the reference identifier must look like to be compared at all.
bool valid_domain(std::string_view d) {
  if (d.empty() || d.find('\0') != std::string_view::npos || d.find('*') != std::string_view::npos) return false;
  if (d.front() == '.' || d.back() == '.' || d.find("..") != std::string_view::npos) return false;
  return true;
}

std::size_t labels(std::string_view s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '.')) + 1; }

const char* kind_name(Kind kind) {
  switch (kind) {
    case kDns: return "DNS-ID";
    case kSrv: return "SRV-ID";
    case kXmppAddr: return "XmppAddr";
    case kCn: return "CN-ID";
    default: return nullptr;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 4096) return 0;
  const NameConstraints constraints = (data[0] & 1) ? NameConstraints::kInChain : NameConstraints::kNone;
  std::vector<std::string> fields;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  for (;;) {
    std::size_t cut = rest.find('\xff');
    fields.emplace_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  const std::string domain = fields[0];
  std::vector<Name> names;
  for (std::size_t i = 1; i < fields.size() && names.size() < 16; ++i) {
    if (fields[i].empty()) continue;
    names.push_back({static_cast<Kind>(static_cast<std::uint8_t>(fields[i][0]) % kKinds), fields[i].substr(1)});
  }
  const bool has_xmpp_san = std::any_of(names.begin(), names.end(), [](const Name& n) { return n.kind != kEmail && n.kind != kCn; });

  X509Ptr cert = certificate(names);
  std::string matched;
  const IdentityStatus status = xmppd::tls::match_identity(cert.get(), domain, &matched, constraints);
  check(status != IdentityStatus::kNoCertificate, "a certificate reported as missing");

  // ASCII case, on either side, and the domain's absolute spelling change nothing.
  check(xmppd::tls::match_identity(cert.get(), upper(domain), nullptr, constraints) == status,
        "the domain's case changed the verdict");
  if (!domain.ends_with('.'))
    check(xmppd::tls::match_identity(cert.get(), domain + ".", nullptr, constraints) == status,
          "a trailing dot on the domain changed the verdict");
  std::vector<Name> upper_names = names;
  for (Name& n : upper_names) n.text = upper(n.text);
  X509Ptr upper_cert = certificate(upper_names);
  check(xmppd::tls::match_identity(upper_cert.get(), domain, nullptr, constraints) == status,
        "the presented names' case changed the verdict");

  const std::string_view reference = strip_dot(domain);
  if (!valid_domain(reference)) {
    check(status == IdentityStatus::kMismatch, "an invalid domain matched");
    return 0;
  }
  // A dNSName equal to the domain, without NUL, always matches.
  for (const Name& n : names)
    if (n.kind == kDns && n.text.find('\0') == std::string::npos && strip_dot(n.text) == reference)
      check(status == IdentityStatus::kMatches, "a domain did not match its own dNSName");

  if (status != IdentityStatus::kMatches) return 0;
  const std::size_t space = matched.find(' ');
  check(space != std::string::npos, "a match that names nothing");
  const std::string kind = matched.substr(0, space);
  const std::string text = matched.substr(space + 1);
  check(text.find('\0') == std::string::npos, "a match through a NUL");
  check(constraints == NameConstraints::kNone || kind == "DNS-ID" || kind == "CN-ID",
        "an SRV-ID or XmppAddr matched despite name constraints");
  check(kind != "CN-ID" || !has_xmpp_san, "a CN matched though subjectAltNames are present");
  check(std::any_of(names.begin(), names.end(),
                    [&](const Name& n) { return kind_name(n.kind) && kind == kind_name(n.kind) && n.text == text; }),
        "the matched identifier was not presented");
  if ((kind == "DNS-ID" || kind == "CN-ID") && text.starts_with("*.")) {
    const std::string_view parent = strip_dot(std::string_view(text).substr(2));
    check(parent.find('.') != std::string_view::npos, "a wildcard matched for a whole top-level domain");
    check(labels(reference) == labels(parent) + 1, "a wildcard stood for other than one label");
  } else if (kind == "SRV-ID") {
    check(labels(strip_dot(text)) == labels(reference) + 1, "an SRV-ID for another name");
  } else {
    check(text.find('*') == std::string::npos || kind == "SRV-ID", "a literal '*' matched");
  }
  return 0;
}
