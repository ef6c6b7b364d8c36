// What the tls helper recognises as a TLS handshake signature input, and which signature
// schemes it accepts for each: the boundary that keeps the helper from being a general
// signing oracle for the processes that parse network bytes.
#include "tls-helper/signing_input.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::tls_helper {

// Names the input in gtest's failure messages.
void PrintTo(SigningInput input, std::ostream* os) { *os << describe(input); }

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::string_view kServerContext = "TLS 1.3, server CertificateVerify";
constexpr std::string_view kClientContext = "TLS 1.3, client CertificateVerify";

// The strict case, the one of every host that allows TLS 1.3 (the default).
SigningInput classify(const Bytes& message) { return classify_signing_input(message, ServerVersions::kTls13Allowed); }

void append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }

// A hash-looking value that is neither spaces nor zeros.
Bytes pattern(std::size_t n, std::uint8_t seed = 0xa5) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + 37 * i);
  return out;
}

// RFC 8446 §4.4.3: 64 octets of 0x20, the context string, a 0x00 separator, the transcript hash.
Bytes certificate_verify_input(std::string_view context, std::size_t hash_length, std::size_t padding = 64) {
  Bytes out(padding, 0x20);
  append(out, context);
  out.push_back(0x00);
  Bytes hash = pattern(hash_length);
  out.insert(out.end(), hash.begin(), hash.end());
  return out;
}

constexpr std::uint8_t kSentinel[] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};  // RFC 8446 §4.1.3

// The curve of a NIST group, or nullptr for X25519/X448.
const char* nist_curve_name(std::uint16_t group) {
  switch (group) {
    case 0x0017:
      return "P-256";
    case 0x0018:
      return "P-384";
    case 0x0019:
      return "P-521";
    default:
      return nullptr;
  }
}

// The public value of a fresh ECDHE key, as a server would send it: for the NIST groups
// an uncompressed point on the curve. A value of another length, or one that begins with
// another byte, is made up.
Bytes public_value(std::uint16_t group, std::size_t length, std::uint8_t first_byte) {
  Bytes out = pattern(length, 0x11);
  if (!out.empty()) out[0] = first_byte;
  const char* curve = nist_curve_name(group);
  if (curve == nullptr || first_byte != 0x04) return out;
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  unsigned char* encoded = nullptr;
  std::size_t n = key ? EVP_PKEY_get1_encoded_public_key(key, &encoded) : 0;
  if (n == length) out.assign(encoded, encoded + n);
  OPENSSL_free(encoded);
  EVP_PKEY_free(key);
  return out;
}

// RFC 8422 §5.4: client_random, server_random (its last 8 octets the downgrade sentinel of a
// server that also speaks TLS 1.3), then ServerECDHParams: curve_type (1 octet), NamedCurve
// (2 octets), point length (1 octet), point.
Bytes server_key_exchange_input(std::uint16_t group, std::size_t point_length, std::uint8_t first_point_byte,
                                std::uint8_t curve_type = 3) {
  Bytes out = pattern(64, 0x3c);
  std::copy(std::begin(kSentinel), std::end(kSentinel), out.begin() + 56);
  out.push_back(curve_type);
  out.push_back(static_cast<std::uint8_t>(group >> 8));
  out.push_back(static_cast<std::uint8_t>(group & 0xff));
  out.push_back(static_cast<std::uint8_t>(point_length));
  Bytes point = public_value(group, point_length, first_point_byte);
  out.insert(out.end(), point.begin(), point.end());
  return out;
}

// ---------------------------------------------------------------------------------------
// TLS 1.3 CertificateVerify

TEST(SigningInputTls13, ServerCertificateVerifyWithSha256OrSha384HashIsRecognised) {
  for (std::size_t hash : {32u, 48u})
    EXPECT_EQ(classify(certificate_verify_input(kServerContext, hash)), SigningInput::kTls13ServerCertificateVerify)
        << hash << "-byte hash";
}

TEST(SigningInputTls13, ClientCertificateVerifyWithSha256OrSha384HashIsRecognised) {
  for (std::size_t hash : {32u, 48u})
    EXPECT_EQ(classify(certificate_verify_input(kClientContext, hash)), SigningInput::kTls13ClientCertificateVerify)
        << hash << "-byte hash";
}

TEST(SigningInputTls13, HashOfAnyOtherLengthIsUnknown) {
  for (std::size_t hash : {0u, 1u, 20u, 28u, 31u, 33u, 47u, 49u, 64u}) {
    EXPECT_EQ(classify(certificate_verify_input(kServerContext, hash)), SigningInput::kUnknown)
        << "server, " << hash << "-byte hash";
    EXPECT_EQ(classify(certificate_verify_input(kClientContext, hash)), SigningInput::kUnknown)
        << "client, " << hash << "-byte hash";
  }
}

TEST(SigningInputTls13, PaddingOtherThanSixtyFourSpacesIsUnknown) {
  EXPECT_EQ(classify(certificate_verify_input(kServerContext, 32, 63)), SigningInput::kUnknown) << "63 spaces";
  EXPECT_EQ(classify(certificate_verify_input(kServerContext, 32, 65)), SigningInput::kUnknown) << "65 spaces";
  EXPECT_EQ(classify(certificate_verify_input(kServerContext, 32, 0)), SigningInput::kUnknown) << "no padding";
  // 63 spaces with a hash one byte longer: the total length is that of a valid input.
  EXPECT_EQ(classify(certificate_verify_input(kServerContext, 33, 63)), SigningInput::kUnknown)
      << "63 spaces, 33-byte hash";
  for (std::size_t i : {0u, 31u, 63u}) {
    Bytes m = certificate_verify_input(kServerContext, 32);
    m[i] = 0x00;
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << "padding octet " << i << " is 0x00";
  }
}

TEST(SigningInputTls13, WrongContextStringIsUnknown) {
  for (std::string_view context :
       {"TLS 1.2, server CertificateVerify", "TLS 1.3, server CertificateVerifx", "tls 1.3, server certificateverify",
        "TLS 1.3, SERVER CertificateVerify", "TLS 1.3, proxy  CertificateVerify", "TLS 1.3, server Finished"}) {
    for (std::size_t hash : {32u, 48u})
      EXPECT_EQ(classify(certificate_verify_input(context, hash)), SigningInput::kUnknown)
          << '"' << context << "\", " << hash << "-byte hash";
  }
}

TEST(SigningInputTls13, MissingSeparatorIsUnknown) {
  for (std::size_t hash : {32u, 48u}) {
    // Dropped altogether.
    Bytes dropped = certificate_verify_input(kServerContext, hash);
    dropped.erase(dropped.begin() + 64 + static_cast<std::ptrdiff_t>(kServerContext.size()));
    EXPECT_EQ(classify(dropped), SigningInput::kUnknown) << "separator dropped, " << hash << "-byte hash";
    // Replaced, so that the length is still that of a valid input.
    for (std::uint8_t replacement : {0x01, 0x20, 0xff}) {
      Bytes replaced = certificate_verify_input(kServerContext, hash);
      replaced[64 + kServerContext.size()] = replacement;
      EXPECT_EQ(classify(replaced), SigningInput::kUnknown)
          << "separator 0x" << std::hex << int{replacement} << std::dec << ", " << hash << "-byte hash";
      Bytes client = certificate_verify_input(kClientContext, hash);
      client[64 + kClientContext.size()] = replacement;
      EXPECT_EQ(classify(client), SigningInput::kUnknown) << "client context, separator replaced";
    }
  }
}

TEST(SigningInputTls13, TrailingBytesAreUnknown) {
  for (std::string_view context : {kServerContext, kClientContext})
    for (std::size_t hash : {32u, 48u}) {
      for (std::size_t extra : {1u, 2u, 16u, 32u}) {
        if (hash + extra == 48) continue;  // indistinguishable from a SHA-384 transcript hash
        Bytes m = certificate_verify_input(context, hash);
        m.insert(m.end(), extra, 0x00);
        EXPECT_EQ(classify(m), SigningInput::kUnknown) << context << ", " << hash << "-byte hash + " << extra;
      }
    }
}

TEST(SigningInputTls13, PrefixWithoutHashIsUnknown) {
  for (std::string_view context : {kServerContext, kClientContext}) {
    Bytes m = certificate_verify_input(context, 0);
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << context;
    m.pop_back();  // without the separator too
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << context << " without separator";
  }
}

TEST(SigningInputTls13, EveryTruncationIsUnknown) {
  Bytes full = certificate_verify_input(kServerContext, 48);
  for (std::size_t n = 0; n < full.size(); ++n) {
    if (n == full.size() - 16) continue;  // a valid input with a 32-byte hash
    Bytes m(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << "first " << n << " of " << full.size() << " bytes";
  }
}

// ---------------------------------------------------------------------------------------
// TLS 1.2 ServerKeyExchange (ECDHE)

struct Group {
  const char* name;
  std::uint16_t id;
  std::size_t point_length;
  bool nist;  // an uncompressed SEC1 point, which begins with 0x04
};

void PrintTo(const Group& g, std::ostream* os) { *os << g.name; }

constexpr Group kGroups[] = {
    {"x25519", 0x001d, 32, false},    {"secp256r1", 0x0017, 65, true}, {"secp384r1", 0x0018, 97, true},
    {"secp521r1", 0x0019, 133, true}, {"x448", 0x001e, 56, false},
};

class SigningInputTls12 : public ::testing::TestWithParam<Group> {};

TEST_P(SigningInputTls12, ServerKeyExchangeIsRecognised) {
  const Group& g = GetParam();
  Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
  ASSERT_EQ(m.size(), 64u + 4u + g.point_length);
  EXPECT_EQ(classify(m), SigningInput::kTls12ServerKeyExchange);
}

TEST_P(SigningInputTls12, AnyRandomsAreAcceptedBeforeTheSentinel) {
  const Group& g = GetParam();
  for (std::uint8_t fill : {0x00, 0x20, 0x03, 0xff}) {
    Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
    std::fill(m.begin(), m.begin() + 56, fill);
    EXPECT_EQ(classify(m), SigningInput::kTls12ServerKeyExchange) << "randoms of 0x" << std::hex << int{fill};
  }
}

TEST_P(SigningInputTls12, ServerRandomWithoutTheSentinelIsUnknownWhenTls13IsAllowed) {
  const Group& g = GetParam();
  Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
  std::fill(m.begin() + 56, m.begin() + 64, 0x5a);
  EXPECT_EQ(classify(m), SigningInput::kUnknown) << "a client of a TLS 1.3 server never sees such a random";
  EXPECT_EQ(classify_signing_input(m, ServerVersions::kUpToTls12), SigningInput::kTls12ServerKeyExchange)
      << "a server limited to TLS 1.2 sends no sentinel";
}

TEST_P(SigningInputTls12, EveryAlteredSentinelOctetIsUnknown) {
  const Group& g = GetParam();
  for (std::size_t i = 56; i < 64; ++i) {
    Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
    m[i] ^= 0x01;
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << "server_random octet " << i << " altered";
  }
}

TEST_P(SigningInputTls12, Tls11SentinelOrSentinelInTheClientRandomIsUnknown) {
  const Group& g = GetParam();
  Bytes tls11 = server_key_exchange_input(g.id, g.point_length, 0x04);
  tls11[63] = 0x00;  // "DOWNGRD" 00: a downgrade to TLS 1.1 or below
  EXPECT_EQ(classify(tls11), SigningInput::kUnknown);
  Bytes in_client = server_key_exchange_input(g.id, g.point_length, 0x04);
  std::copy(in_client.begin() + 56, in_client.begin() + 64, in_client.begin() + 24);
  std::fill(in_client.begin() + 56, in_client.begin() + 64, 0x00);
  EXPECT_EQ(classify(in_client), SigningInput::kUnknown);
}

TEST_P(SigningInputTls12, WrongPointLengthIsUnknown) {
  const Group& g = GetParam();
  for (std::size_t length : {g.point_length - 1, g.point_length + 1, std::size_t{0}, std::size_t{1}})
    EXPECT_EQ(classify(server_key_exchange_input(g.id, length, 0x04)), SigningInput::kUnknown)
        << length << "-byte point, length octet consistent";
  // A length octet that disagrees with the bytes that follow.
  for (std::size_t claimed : {g.point_length - 1, g.point_length + 1}) {
    Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
    m[64 + 3] = static_cast<std::uint8_t>(claimed);
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << "length octet " << claimed << ", point " << g.point_length;
  }
}

TEST_P(SigningInputTls12, CurveTypeOtherThanNamedCurveIsUnknown) {
  const Group& g = GetParam();
  for (std::uint8_t curve_type : {0, 1, 2, 4, 0xff})
    EXPECT_EQ(classify(server_key_exchange_input(g.id, g.point_length, 0x04, curve_type)), SigningInput::kUnknown)
        << "curve_type " << int{curve_type};
}

TEST_P(SigningInputTls12, TrailingBytesAreUnknown) {
  const Group& g = GetParam();
  for (std::size_t extra : {1u, 2u, 32u}) {
    Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
    m.insert(m.end(), extra, 0x00);
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << extra << " trailing bytes";
  }
}

TEST_P(SigningInputTls12, EveryTruncationIsUnknown) {
  const Group& g = GetParam();
  Bytes full = server_key_exchange_input(g.id, g.point_length, 0x04);
  for (std::size_t n = 0; n < full.size(); ++n) {
    Bytes m(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << "first " << n << " of " << full.size() << " bytes";
  }
}

TEST_P(SigningInputTls12, LeadingPointByteIsCheckedForNistCurvesOnly) {
  const Group& g = GetParam();
  for (std::uint8_t first : {0x00, 0x02, 0x03, 0x05, 0x06, 0x07}) {
    Bytes m = server_key_exchange_input(g.id, g.point_length, first);
    EXPECT_EQ(classify(m), g.nist ? SigningInput::kUnknown : SigningInput::kTls12ServerKeyExchange)
        << "point begins with 0x" << std::hex << int{first};
  }
}

INSTANTIATE_TEST_SUITE_P(Groups, SigningInputTls12, ::testing::ValuesIn(kGroups),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SigningInputTls12Groups, CompressedNistPointIsUnknown) {
  // SEC1 compressed points: 1 + field size octets.
  EXPECT_EQ(classify(server_key_exchange_input(0x0017, 33, 0x02)), SigningInput::kUnknown);
  EXPECT_EQ(classify(server_key_exchange_input(0x0017, 33, 0x03)), SigningInput::kUnknown);
  EXPECT_EQ(classify(server_key_exchange_input(0x0018, 49, 0x02)), SigningInput::kUnknown);
  EXPECT_EQ(classify(server_key_exchange_input(0x0019, 67, 0x03)), SigningInput::kUnknown);
}

TEST(SigningInputTls12Groups, NistPointOffTheCurveIsUnknown) {
  for (const Group& g : kGroups) {
    if (!g.nist) continue;
    Bytes m = server_key_exchange_input(g.id, g.point_length, 0x04);
    ASSERT_EQ(classify(m), SigningInput::kTls12ServerKeyExchange) << g.name << ": a real point first";
    m.back() ^= 0x01;  // y changed: the point leaves the curve
    EXPECT_EQ(classify(m), SigningInput::kUnknown) << g.name << " with y altered";
    Bytes zeros = server_key_exchange_input(g.id, g.point_length, 0x04);
    std::fill(zeros.begin() + 64 + 5, zeros.end(), 0x00);
    EXPECT_EQ(classify(zeros), SigningInput::kUnknown) << g.name << " point (0, 0)";
    Bytes ones = server_key_exchange_input(g.id, g.point_length, 0x04);
    std::fill(ones.begin() + 64 + 5, ones.end(), 0xff);
    EXPECT_EQ(classify(ones), SigningInput::kUnknown) << g.name << " coordinates past the field prime";
  }
}

TEST(SigningInputTls12Groups, PatternBytesThatLookLikeAPointAreUnknown) {
  // What the check before this one accepted: 0x04 and any 64 bytes for P-256.
  Bytes m = server_key_exchange_input(0x0017, 65, 0x04);
  Bytes made_up = pattern(65, 0x11);
  made_up[0] = 0x04;
  std::copy(made_up.begin(), made_up.end(), m.begin() + 68);
  EXPECT_EQ(classify(m), SigningInput::kUnknown);
}

TEST(SigningInputTls12Groups, UnknownGroupIsUnknown) {
  struct Other {
    std::uint16_t id;
    std::size_t point_length;
  };
  for (Other o : {Other{0x0016, 65},     // secp256k1
                  Other{0x001a, 65},     // brainpoolP256r1
                  Other{0x0000, 32},     // unassigned
                  Other{0x1d00, 32},     // x25519 byte-swapped
                  Other{0x1700, 65},     // secp256r1 byte-swapped
                  Other{0x0100, 255},    // ffdhe2048 (the longest a length octet can say)
                  Other{0x011d, 32},     // x25519 with a high byte set
                  Other{0xfe00, 32}}) {  // private use
    EXPECT_EQ(classify(server_key_exchange_input(o.id, o.point_length, 0x04)), SigningInput::kUnknown)
        << "group 0x" << std::hex << o.id;
  }
}

TEST(SigningInputTls12Groups, PointLengthOfAnotherGroupIsUnknown) {
  // Each group with the point length of every other group.
  for (const Group& g : kGroups)
    for (const Group& other : kGroups) {
      if (other.point_length == g.point_length) continue;
      EXPECT_EQ(classify(server_key_exchange_input(g.id, other.point_length, 0x04)), SigningInput::kUnknown)
          << g.name << " with a " << other.name << " point";
    }
}

TEST(SigningInputTls12Groups, InputShorterThanTheRandomsIsUnknown) {
  // The ServerECDHParams of an x25519 exchange without the randoms.
  Bytes m = server_key_exchange_input(0x001d, 32, 0x04);
  Bytes params(m.begin() + 64, m.end());
  EXPECT_EQ(classify(params), SigningInput::kUnknown);
}

// ---------------------------------------------------------------------------------------
// Anything else

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};

// The to-be-signed part of a real certificate: what a forged certificate would need signed.
Bytes tbs_certificate() {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  std::unique_ptr<X509, X509Deleter> x(X509_new());
  if (!key || !x) return {};
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("attacker.example"), -1, -1, 0);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509_set_pubkey(x.get(), key.get());
  // Signing fills in the signature AlgorithmIdentifier, without which the TBS does not encode.
  if (X509_sign(x.get(), key.get(), EVP_sha256()) <= 0) return {};
  unsigned char* der = nullptr;
  int length = i2d_re_X509_tbs(x.get(), &der);
  if (length <= 0) return {};
  Bytes out(der, der + length);
  OPENSSL_free(der);
  return out;
}

TEST(SigningInputOther, EmptyInputIsUnknown) { EXPECT_EQ(classify({}), SigningInput::kUnknown); }

TEST(SigningInputOther, TbsCertificateIsUnknown) {
  Bytes tbs = tbs_certificate();
  ASSERT_GT(tbs.size(), 100u);
  ASSERT_EQ(tbs[0], 0x30) << "a DER SEQUENCE";
  EXPECT_EQ(classify(tbs), SigningInput::kUnknown);
}

TEST(SigningInputOther, JsonIsUnknown) {
  Bytes json;
  append(json, R"({"iss":"xmppd","sub":"admin@example.com","exp":4102444800,"scope":"all"})");
  EXPECT_EQ(classify(json), SigningInput::kUnknown);
}

TEST(SigningInputOther, RandomBytesAreUnknown) {
  for (int i = 0; i < 16; ++i) {
    Bytes random(32);
    ASSERT_EQ(RAND_bytes(random.data(), static_cast<int>(random.size())), 1);
    EXPECT_EQ(classify(random), SigningInput::kUnknown);
  }
}

TEST(SigningInputOther, BareHashesAreUnknown) {
  // What a caller would send to have a digest signed directly.
  for (std::size_t n : {20u, 32u, 48u, 64u}) EXPECT_EQ(classify(pattern(n)), SigningInput::kUnknown) << n;
}

TEST(SigningInputOther, PaddedRandomDataOfAValidLengthIsUnknown) {
  // Lengths of valid inputs, but not their structure.
  constexpr std::size_t kTls13 = 64 + kServerContext.size() + 1;
  for (std::size_t n : {kTls13 + 32, kTls13 + 48, std::size_t{64 + 4 + 32}, std::size_t{64 + 4 + 65},
                        std::size_t{64 + 4 + 97}, std::size_t{64 + 4 + 133}, std::size_t{64 + 4 + 56}}) {
    Bytes spaces(n, 0x20);
    EXPECT_EQ(classify(spaces), SigningInput::kUnknown) << n << " spaces";
    EXPECT_EQ(classify(pattern(n)), SigningInput::kUnknown) << n << " patterned bytes";
  }
}

// ---------------------------------------------------------------------------------------
// scheme_allowed

constexpr ipc::SignatureScheme kSchemes[] = {ipc::SCHEME_UNSPECIFIED, ipc::SCHEME_RSA_PKCS1, ipc::SCHEME_RSA_PSS,
                                             ipc::SCHEME_ECDSA, ipc::SCHEME_ED25519};
constexpr SigningInput kInputs[] = {SigningInput::kTls13ServerCertificateVerify,
                                    SigningInput::kTls13ClientCertificateVerify, SigningInput::kTls12ServerKeyExchange,
                                    SigningInput::kUnknown};

TEST(SchemeAllowed, Pkcs1IsRefusedForTls13) {
  EXPECT_FALSE(scheme_allowed(SigningInput::kTls13ServerCertificateVerify, ipc::SCHEME_RSA_PKCS1));
  EXPECT_FALSE(scheme_allowed(SigningInput::kTls13ClientCertificateVerify, ipc::SCHEME_RSA_PKCS1));
}

TEST(SchemeAllowed, Pkcs1IsAllowedForTls12ServerKeyExchange) {
  EXPECT_TRUE(scheme_allowed(SigningInput::kTls12ServerKeyExchange, ipc::SCHEME_RSA_PKCS1));
}

TEST(SchemeAllowed, PssEcdsaAndEd25519AreAllowedForEveryTlsInput) {
  for (SigningInput input : {SigningInput::kTls13ServerCertificateVerify, SigningInput::kTls13ClientCertificateVerify,
                             SigningInput::kTls12ServerKeyExchange})
    for (ipc::SignatureScheme scheme : {ipc::SCHEME_RSA_PSS, ipc::SCHEME_ECDSA, ipc::SCHEME_ED25519})
      EXPECT_TRUE(scheme_allowed(input, scheme)) << describe(input) << ", scheme " << scheme;
}

TEST(SchemeAllowed, NothingIsAllowedForUnknownInput) {
  for (ipc::SignatureScheme scheme : kSchemes)
    EXPECT_FALSE(scheme_allowed(SigningInput::kUnknown, scheme)) << "scheme " << scheme;
}

TEST(SchemeAllowed, UnspecifiedSchemeIsNeverAllowed) {
  for (SigningInput input : kInputs) EXPECT_FALSE(scheme_allowed(input, ipc::SCHEME_UNSPECIFIED)) << describe(input);
}

TEST(SchemeAllowed, RecognisedInputsRoundTripThroughTheChecks) {
  // The classifier and the scheme check together: a TLS 1.3 input never gets PKCS#1.
  Bytes tls13 = certificate_verify_input(kServerContext, 32);
  Bytes tls12 = server_key_exchange_input(0x0017, 65, 0x04);
  EXPECT_FALSE(scheme_allowed(classify(tls13), ipc::SCHEME_RSA_PKCS1));
  EXPECT_TRUE(scheme_allowed(classify(tls13), ipc::SCHEME_RSA_PSS));
  EXPECT_TRUE(scheme_allowed(classify(tls12), ipc::SCHEME_RSA_PKCS1));
  EXPECT_FALSE(scheme_allowed(classify(tbs_certificate()), ipc::SCHEME_ECDSA));
}

// ---------------------------------------------------------------------------------------
// describe

TEST(Describe, EveryInputHasItsOwnNonEmptyDescription) {
  std::set<std::string> seen;
  for (SigningInput input : kInputs) {
    const char* text = describe(input);
    ASSERT_NE(text, nullptr);
    EXPECT_GT(std::string_view(text).size(), 0u);
    EXPECT_TRUE(seen.insert(text).second) << "duplicate description \"" << text << '"';
  }
  EXPECT_EQ(seen.size(), std::size(kInputs));
}

}  // namespace
}  // namespace xmppd::tls_helper
