#include "tls/remote_key.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <cstring>
#include <memory>

namespace xmppd::tls {
namespace {

constexpr char kProviderName[] = "xmppd-remote-key";
constexpr char kProperties[] = "provider=xmppd-remote-key";
constexpr char kKeyIdParam[] = "xmppd-key-id";

RemoteSigner* g_signer = nullptr;

enum class Kind { kRsa, kEc, kEd25519 };

const char* default_name(Kind kind) {
  switch (kind) {
    case Kind::kRsa: return "RSA";
    case Kind::kEc: return "EC";
    case Kind::kEd25519: return "ED25519";
  }
  return "";
}

// Key data of the provider: the public half (a key of the default provider, used for every
// parameter libssl asks about and for matching against the certificate) and the key id.
struct RemoteKeyData {
  Kind kind;
  EVP_PKEY* pub = nullptr;
  std::uint32_t key_id = 0;
  bool has_id = false;
  explicit RemoteKeyData(Kind k) : kind(k) {}
  ~RemoteKeyData() { EVP_PKEY_free(pub); }
};

RemoteKeyData* key_of(void* p) { return static_cast<RemoteKeyData*>(p); }
const RemoteKeyData* key_of(const void* p) { return static_cast<const RemoteKeyData*>(p); }

// ---- key management ----

// OpenSSL owns key data and contexts through its C interface: created here, freed by the
// matching free function it calls.
template <Kind K>
void* keymgmt_new(void*) {
  return new (std::nothrow) RemoteKeyData(K);
}

void keymgmt_free(void* keydata) { delete key_of(keydata); }

int keymgmt_has(const void* keydata, int selection) {
  const RemoteKeyData* key = key_of(keydata);
  if (key == nullptr || key->pub == nullptr) return 0;
  // The private half "exists" in the sense libssl needs: this key can sign.
  if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && !key->has_id) return 0;
  return 1;
}

int keymgmt_match(const void* a, const void* b, int) {
  return EVP_PKEY_eq(key_of(a)->pub, key_of(b)->pub) == 1;
}

// Only public parts are ever taken in, whatever the selection says.
template <Kind K>
int keymgmt_import(void* keydata, int, const OSSL_PARAM params[]) {
  RemoteKeyData* key = key_of(keydata);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, default_name(K), "provider=default");
  EVP_PKEY* pub = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return 0;
  EVP_PKEY_free(key->pub);
  key->pub = pub;
  if (const OSSL_PARAM* id = OSSL_PARAM_locate_const(params, kKeyIdParam)) {
    if (OSSL_PARAM_get_uint32(id, &key->key_id) != 1) return 0;
    key->has_id = true;
  }
  return 1;
}

// Nothing is exported, not even the public half. When libssl starts a signature, EVP first
// fetches the default provider's implementation and tries to export the key there; an
// export that succeeded would hand it a key without its private half, and the signature
// would fail. Refusing makes EVP fall back to this provider's own signature. Comparisons
// with the certificate's key still work: EVP then imports that key here instead.
int keymgmt_export(void*, int, OSSL_CALLBACK*, void*) { return 0; }

int keymgmt_get_params(void* keydata, OSSL_PARAM params[]) {
  const RemoteKeyData* key = key_of(keydata);
  return key->pub != nullptr && EVP_PKEY_get_params(key->pub, params) == 1;
}

const OSSL_PARAM* keymgmt_gettable_params(void*) {
  static const OSSL_PARAM kGettable[] = {
      OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, nullptr),
      OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, nullptr),
      OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, nullptr),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0),
      OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
      OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
      OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0),
      OSSL_PARAM_END,
  };
  return kGettable;
}

template <Kind K>
const OSSL_PARAM* keymgmt_import_types(int) {
  static const OSSL_PARAM kRsa[] = {OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, nullptr, 0),
                                    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, nullptr, 0),
                                    OSSL_PARAM_uint32(kKeyIdParam, nullptr), OSSL_PARAM_END};
  static const OSSL_PARAM kEc[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, nullptr, 0),
                                   OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
                                   OSSL_PARAM_uint32(kKeyIdParam, nullptr), OSSL_PARAM_END};
  static const OSSL_PARAM kEd[] = {OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0),
                                   OSSL_PARAM_uint32(kKeyIdParam, nullptr), OSSL_PARAM_END};
  return K == Kind::kRsa ? kRsa : K == Kind::kEc ? kEc : kEd;
}

const OSSL_PARAM* keymgmt_export_types(int) {
  static const OSSL_PARAM kNone[] = {OSSL_PARAM_END};
  return kNone;
}

template <Kind K>
const char* keymgmt_operation_name(int operation) {
  if (operation != OSSL_OP_SIGNATURE) return nullptr;
  return K == Kind::kEc ? "ECDSA" : default_name(K);
}

template <Kind K>
const OSSL_DISPATCH kKeymgmt[] = {
    {OSSL_FUNC_KEYMGMT_NEW, reinterpret_cast<void (*)()>(keymgmt_new<K>)},
    {OSSL_FUNC_KEYMGMT_FREE, reinterpret_cast<void (*)()>(keymgmt_free)},
    {OSSL_FUNC_KEYMGMT_HAS, reinterpret_cast<void (*)()>(keymgmt_has)},
    {OSSL_FUNC_KEYMGMT_MATCH, reinterpret_cast<void (*)()>(keymgmt_match)},
    {OSSL_FUNC_KEYMGMT_IMPORT, reinterpret_cast<void (*)()>(keymgmt_import<K>)},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, reinterpret_cast<void (*)()>(keymgmt_import_types<K>)},
    {OSSL_FUNC_KEYMGMT_EXPORT, reinterpret_cast<void (*)()>(keymgmt_export)},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, reinterpret_cast<void (*)()>(keymgmt_export_types)},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, reinterpret_cast<void (*)()>(keymgmt_get_params)},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, reinterpret_cast<void (*)()>(keymgmt_gettable_params)},
    {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, reinterpret_cast<void (*)()>(keymgmt_operation_name<K>)},
    {0, nullptr},
};

// ---- signature ----

struct SignContext {
  RemoteKeyData* key = nullptr;  // owned by the EVP_PKEY for the length of the operation
  std::string digest;            // "SHA256", "SHA384", "SHA512"; empty for Ed25519
  bool pss = false;
  std::vector<std::uint8_t> message;  // for the update/final path
};

SignContext* ctx_of(void* p) { return static_cast<SignContext*>(p); }

void* sign_newctx(void*, const char*) { return new (std::nothrow) SignContext; }
void sign_freectx(void* ctx) { delete ctx_of(ctx); }
void* sign_dupctx(void* ctx) { return new (std::nothrow) SignContext(*ctx_of(ctx)); }

// The helper accepts exactly these names; OpenSSL may hand us any alias.
bool canonical_digest(const char* name, std::string& out) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, "provider=default");
  if (md == nullptr) return false;
  int type = EVP_MD_get_type(md);
  EVP_MD_free(md);
  switch (type) {
    case NID_sha256: out = "SHA256"; return true;
    case NID_sha384: out = "SHA384"; return true;
    case NID_sha512: out = "SHA512"; return true;
    default: return false;
  }
}

int sign_set_ctx_params(void* vctx, const OSSL_PARAM params[]) {
  SignContext* ctx = ctx_of(vctx);
  if (params == nullptr) return 1;
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) {
    int mode = 0;
    const char* name = nullptr;
    if (p->data_type == OSSL_PARAM_INTEGER && OSSL_PARAM_get_int(p, &mode) == 1) {
      if (mode != RSA_PKCS1_PADDING && mode != RSA_PKCS1_PSS_PADDING) return 0;
      ctx->pss = mode == RSA_PKCS1_PSS_PADDING;
    } else if (OSSL_PARAM_get_utf8_string_ptr(p, &name) == 1) {
      if (std::strcmp(name, OSSL_PKEY_RSA_PAD_MODE_PSS) != 0 && std::strcmp(name, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) != 0)
        return 0;
      ctx->pss = std::strcmp(name, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0;
    } else {
      return 0;
    }
  }
  // TLS wants the salt as long as the digest; anything else would not be what the helper makes.
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) {
    int len = 0;
    const char* name = nullptr;
    if (p->data_type == OSSL_PARAM_INTEGER && OSSL_PARAM_get_int(p, &len) == 1) {
      if (len != RSA_PSS_SALTLEN_DIGEST) return 0;
    } else if (OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1 ||
               std::strcmp(name, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) != 0) {
      return 0;
    }
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) {
    const char* name = nullptr;
    std::string mgf1;
    if (OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1 || !canonical_digest(name, mgf1) || mgf1 != ctx->digest)
      return 0;
  }
  if (const OSSL_PARAM* p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) {
    const char* name = nullptr;
    if (OSSL_PARAM_get_utf8_string_ptr(p, &name) != 1 || !canonical_digest(name, ctx->digest)) return 0;
  }
  return 1;
}

const OSSL_PARAM* sign_settable_ctx_params(void*, void*) {
  static const OSSL_PARAM kSettable[] = {
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, nullptr, 0),
      OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, nullptr, 0),
      OSSL_PARAM_END,
  };
  return kSettable;
}

int sign_get_ctx_params(void*, OSSL_PARAM*) { return 1; }
const OSSL_PARAM* sign_gettable_ctx_params(void*, void*) {
  static const OSSL_PARAM kNone[] = {OSSL_PARAM_END};
  return kNone;
}

int digest_sign_init(void* vctx, const char* mdname, void* keydata, const OSSL_PARAM params[]) {
  SignContext* ctx = ctx_of(vctx);
  ctx->key = key_of(keydata);
  ctx->message.clear();
  ctx->pss = false;
  ctx->digest.clear();
  if (ctx->key == nullptr || !ctx->key->has_id) return 0;
  if (ctx->key->kind == Kind::kEd25519) {
    if (mdname != nullptr && mdname[0] != '\0') return 0;  // Ed25519 hashes by itself
  } else if (mdname == nullptr || !canonical_digest(mdname, ctx->digest)) {
    return 0;
  }
  return sign_set_ctx_params(vctx, params);
}

ipc::SignatureScheme scheme_of(const SignContext& ctx) {
  switch (ctx.key->kind) {
    case Kind::kRsa: return ctx.pss ? ipc::SCHEME_RSA_PSS : ipc::SCHEME_RSA_PKCS1;
    case Kind::kEc: return ipc::SCHEME_ECDSA;
    case Kind::kEd25519: return ipc::SCHEME_ED25519;
  }
  return ipc::SCHEME_UNSPECIFIED;
}

int sign_message(SignContext& ctx, unsigned char* sig, size_t* siglen, size_t sigsize,
                 std::span<const std::uint8_t> message) {
  size_t max = static_cast<size_t>(EVP_PKEY_get_size(ctx.key->pub));
  if (sig == nullptr) {  // libssl asks for the size first: no round trip for that
    *siglen = max;
    return 1;
  }
  std::vector<std::uint8_t> signature;
  if (g_signer == nullptr || !g_signer->sign(ctx.key->key_id, scheme_of(ctx), ctx.digest, message, signature))
    return 0;
  if (signature.size() > sigsize) return 0;
  std::memcpy(sig, signature.data(), signature.size());
  *siglen = signature.size();
  return 1;
}

int digest_sign_update(void* vctx, const unsigned char* data, size_t len) {
  auto& message = ctx_of(vctx)->message;
  message.insert(message.end(), data, data + len);
  return 1;
}

int digest_sign_final(void* vctx, unsigned char* sig, size_t* siglen, size_t sigsize) {
  SignContext* ctx = ctx_of(vctx);
  return sign_message(*ctx, sig, siglen, sigsize, ctx->message);
}

int digest_sign(void* vctx, unsigned char* sig, size_t* siglen, size_t sigsize, const unsigned char* tbs,
                size_t tbslen) {
  return sign_message(*ctx_of(vctx), sig, siglen, sigsize, std::span(tbs, tbslen));
}

const OSSL_DISPATCH kSignature[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, reinterpret_cast<void (*)()>(sign_newctx)},
    {OSSL_FUNC_SIGNATURE_FREECTX, reinterpret_cast<void (*)()>(sign_freectx)},
    {OSSL_FUNC_SIGNATURE_DUPCTX, reinterpret_cast<void (*)()>(sign_dupctx)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, reinterpret_cast<void (*)()>(digest_sign_init)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, reinterpret_cast<void (*)()>(digest_sign_update)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, reinterpret_cast<void (*)()>(digest_sign_final)},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN, reinterpret_cast<void (*)()>(digest_sign)},
    {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, reinterpret_cast<void (*)()>(sign_set_ctx_params)},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, reinterpret_cast<void (*)()>(sign_settable_ctx_params)},
    {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, reinterpret_cast<void (*)()>(sign_get_ctx_params)},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, reinterpret_cast<void (*)()>(sign_gettable_ctx_params)},
    {0, nullptr},
};

// ---- the provider ----

// Names as libssl looks keys up: by algorithm name and by the certificate's key OID name.
const OSSL_ALGORITHM kKeymgmts[] = {
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kProperties, kKeymgmt<Kind::kRsa>, "remote RSA key"},
    {"EC:id-ecPublicKey:1.2.840.10045.2.1", kProperties, kKeymgmt<Kind::kEc>, "remote EC key"},
    {"ED25519:1.3.101.112", kProperties, kKeymgmt<Kind::kEd25519>, "remote Ed25519 key"},
    {nullptr, nullptr, nullptr, nullptr},
};

const OSSL_ALGORITHM kSignatures[] = {
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", kProperties, kSignature, "remote RSA signature"},
    {"ECDSA", kProperties, kSignature, "remote ECDSA signature"},
    {"ED25519:1.3.101.112", kProperties, kSignature, "remote Ed25519 signature"},
    {nullptr, nullptr, nullptr, nullptr},
};

const OSSL_ALGORITHM* query_operation(void*, int operation, int* no_cache) {
  *no_cache = 0;
  switch (operation) {
    case OSSL_OP_KEYMGMT: return kKeymgmts;
    case OSSL_OP_SIGNATURE: return kSignatures;
    default: return nullptr;
  }
}

const OSSL_DISPATCH kProvider[] = {
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<void (*)()>(query_operation)},
    {0, nullptr},
};

int provider_init(const OSSL_CORE_HANDLE*, const OSSL_DISPATCH*, const OSSL_DISPATCH** out, void** provctx) {
  *out = kProvider;
  *provctx = const_cast<char*>(kProviderName);
  return 1;
}

Kind kind_of(const EVP_PKEY* pub, bool& ok) {
  ok = true;
  if (EVP_PKEY_is_a(pub, "RSA")) return Kind::kRsa;
  if (EVP_PKEY_is_a(pub, "EC")) return Kind::kEc;
  if (EVP_PKEY_is_a(pub, "ED25519")) return Kind::kEd25519;
  ok = false;
  return Kind::kRsa;
}

}  // namespace

bool init_remote_keys() {
  // Loading any provider explicitly turns off the implicit default one: load both, and keep
  // the default provider the default for fetches, or ECDHE would look for its EC key
  // management here and fail.
  // Both stay loaded for the life of the process: their handles are kept here, so that OpenSSL's
  // cleanup at exit, which leaves a provider someone still holds, does not leave it unreachable
  // (LeakSanitizer reported both providers' state as leaked while the handles were dropped).
  static OSSL_PROVIDER* default_provider = nullptr;
  static OSSL_PROVIDER* remote_provider = nullptr;
  if (!default_provider) default_provider = OSSL_PROVIDER_load(nullptr, "default");
  if (!remote_provider && OSSL_PROVIDER_add_builtin(nullptr, kProviderName, provider_init) == 1)
    remote_provider = OSSL_PROVIDER_load(nullptr, kProviderName);
  return default_provider && remote_provider && EVP_set_default_properties(nullptr, "?provider=default") == 1;
}

void set_remote_signer(RemoteSigner* signer) { g_signer = signer; }

EVP_PKEY* make_remote_key(X509* leaf, std::uint32_t key_id) {
  EVP_PKEY* pub = X509_get0_pubkey(leaf);
  bool ok = false;
  Kind kind = pub ? kind_of(pub, ok) : Kind::kRsa;
  if (!ok) return nullptr;
  OSSL_PARAM* public_params = nullptr;
  if (EVP_PKEY_todata(pub, EVP_PKEY_PUBLIC_KEY, &public_params) != 1) return nullptr;
  OSSL_PARAM id[] = {OSSL_PARAM_uint32(kKeyIdParam, &key_id), OSSL_PARAM_END};
  OSSL_PARAM* params = OSSL_PARAM_merge(public_params, id);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, default_name(kind), kProperties);
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
    key = nullptr;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_free(public_params);
  return key;
}

}  // namespace xmppd::tls
