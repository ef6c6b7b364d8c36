#include "auth-helper/sasl_server.h"

#include "common/log.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <climits>
#include <utility>
#include <vector>

namespace xmppd::auth {
namespace {

// RFC 5802 §5.1 wants the server's part of the nonce unpredictable; 24 bytes encode to 32
// base64 characters without padding.
constexpr std::size_t kServerNonceBytes = 24;
constexpr std::size_t kAnonymousNameBytes = 16;
// RFC 4505 §2: trace information is at most 255 characters, i.e. 1020 bytes of UTF-8.
constexpr std::size_t kMaxTraceBytes = 1020;

struct MechanismName {
  Mechanism mechanism;
  std::string_view name;
};
constexpr MechanismName kMechanismNames[] = {
    {Mechanism::kScramSha256Plus, "SCRAM-SHA-256-PLUS"},
    {Mechanism::kScramSha1Plus, "SCRAM-SHA-1-PLUS"},
    {Mechanism::kScramSha256, "SCRAM-SHA-256"},
    {Mechanism::kScramSha1, "SCRAM-SHA-1"},
    {Mechanism::kPlain, "PLAIN"},
    {Mechanism::kAnonymous, "ANONYMOUS"},
};

ScramHash scram_hash(Mechanism mechanism) {
  return mechanism == Mechanism::kScramSha1 || mechanism == Mechanism::kScramSha1Plus ? ScramHash::kSha1
                                                                                      : ScramHash::kSha256;
}

std::optional<std::string> random_bytes(std::size_t size) {
  std::string out(size, '\0');
  if (size > INT_MAX || RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) != 1)
    return std::nullopt;
  return out;
}

// The key behind decoy salts. It lives as long as the process, so that asking twice about the
// same unknown user gives the same salt, as it would for a real one.
const std::string* decoy_key() {
  static const std::optional<std::string> key = random_bytes(32);
  return key ? &*key : nullptr;
}

// What an unknown account answers with: a salt derived from the name (stable, and as long as a
// real one), the iteration count most real accounts have, and random keys no proof can match.
std::optional<ScramCredential> decoy_credential(ScramHash hash, std::string_view host, std::string_view username,
                                                std::uint32_t iterations) {
  const std::string* key = decoy_key();
  if (key == nullptr) return std::nullopt;
  std::string input(hash_name(hash));
  input.append(1, '\0').append(host).append(1, '\0').append(username);
  std::string salt = hmac(ScramHash::kSha256, *key, input);
  std::optional<std::string> stored = random_bytes(digest_size(hash));
  std::optional<std::string> server = random_bytes(digest_size(hash));
  if (salt.size() < CredentialStore::kSaltSize || !stored || !server) return std::nullopt;
  salt.resize(CredentialStore::kSaltSize);
  return ScramCredential{hash, std::move(salt), iterations, std::move(*stored), std::move(*server)};
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// RFC 5802 saslname: "=2C" and "=3D" stand for ',' and '='; any other '=', a NUL, invalid
// UTF-8 or an empty name is an error.
std::optional<std::string> decode_saslname(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\0') return std::nullopt;
    if (c != '=') {
      out += c;
      continue;
    }
    const std::string_view escape = value.substr(i + 1, 2);
    if (escape == "2C") {
      out += ',';
    } else if (escape == "3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (out.empty() || !is_valid_utf8(out)) return std::nullopt;
  return out;
}

// RFC 5802 c-nonce: printable ASCII except ','.
bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (const char c : nonce)
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  return true;
}

// RFC 5056 cb-name: 1*(ALPHA / DIGIT / "." / "-").
bool valid_channel_binding_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return false;
  return true;
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::string_view bytes) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kDigits[(static_cast<unsigned char>(c) >> 4) & 0x0F];
    out += kDigits[static_cast<unsigned char>(c) & 0x0F];
  }
  return out;
}

}  // namespace

std::string_view mechanism_name(Mechanism mechanism) {
  for (const MechanismName& entry : kMechanismNames)
    if (entry.mechanism == mechanism) return entry.name;
  return {};
}

std::optional<Mechanism> parse_mechanism(std::string_view name) {
  for (const MechanismName& entry : kMechanismNames)
    if (entry.name == name) return entry.mechanism;
  return std::nullopt;
}

bool is_scram(Mechanism mechanism) { return mechanism != Mechanism::kPlain && mechanism != Mechanism::kAnonymous; }

bool is_plus(Mechanism mechanism) {
  return mechanism == Mechanism::kScramSha256Plus || mechanism == Mechanism::kScramSha1Plus;
}

SaslServer::SaslServer(CredentialStore& store, std::string host, Mechanism mechanism, std::string channel_binding,
                       bool channel_binding_offered)
    : store_(store),
      host_(std::move(host)),
      mechanism_(mechanism),
      channel_binding_(std::move(channel_binding)),
      channel_binding_offered_(channel_binding_offered) {}

SaslServer::~SaslServer() {
  // ServerKey lets whoever holds it pose as this server to the user.
  cleanse(credential_.stored_key);
  cleanse(credential_.server_key);
}

SaslServer::Step SaslServer::start(std::string_view initial_response) {
  if (state_ != State::kStart) return fail(kMalformedRequest);
  // A -PLUS mechanism that was not offered, or without binding data to check, cannot be run.
  if (is_plus(mechanism_) && (!channel_binding_offered_ || channel_binding_.empty())) return fail(kInvalidMechanism);
  if (initial_response.size() > kMaxSaslMessage) return fail(kMalformedRequest);
  if (mechanism_ == Mechanism::kAnonymous) return anonymous(initial_response);
  if (initial_response.empty()) {
    state_ = State::kAwaitInitial;
    return Step{Step::kChallenge, {}, {}, {}};
  }
  return is_scram(mechanism_) ? scram_first(initial_response) : plain(initial_response);
}

SaslServer::Step SaslServer::respond(std::string_view response) {
  if (response.size() > kMaxSaslMessage) return fail(kMalformedRequest);
  switch (state_) {
    case State::kAwaitInitial:
      if (response.empty()) return fail(kMalformedRequest);
      return is_scram(mechanism_) ? scram_first(response) : plain(response);
    case State::kAwaitFinal:
      return scram_final(response);
    case State::kAwaitErrorAck:
      // The client read our e=unsupported-channel-binding-type and went on: the exchange
      // ends here, and the client may try another mechanism.
      return unsupported_binding_failure();
    case State::kStart:
    case State::kAwaitVerify:
    case State::kDone:
      break;
  }
  return fail(kMalformedRequest);
}

SaslServer::Step SaslServer::fail(std::string_view condition) {
  state_ = State::kDone;
  return Step{Step::kFailure, {}, std::string(condition), {}};
}

SaslServer::Step SaslServer::unsupported_binding_failure() {
  Step step = fail(kInvalidMechanism);
  step.unsupported_binding = unsupported_binding_;
  return step;
}

SaslServer::Step SaslServer::wrong_password() {
  Step step = fail(kNotAuthorized);
  step.wrong_password = true;
  return step;
}

SaslServer::Step SaslServer::deferred_or_now() {
  if (!deferred_) return is_scram(mechanism_) ? check_proof() : check_password();
  state_ = State::kAwaitVerify;
  Step step{Step::kVerify, {}, {}, username_};
  // PLAIN runs PBKDF2 here; a SCRAM client ran it on its side, and its proof costs us two
  // HMACs.
  step.cost = is_scram(mechanism_) ? 0 : credential_.iterations;
  return step;
}

SaslServer::Step SaslServer::verify() {
  if (state_ != State::kAwaitVerify) return fail(kMalformedRequest);
  return is_scram(mechanism_) ? check_proof() : check_password();
}

SaslServer::Step SaslServer::succeed(std::string data, std::string username) {
  state_ = State::kDone;
  return Step{Step::kSuccess, std::move(data), {}, std::move(username)};
}

SaslServer::Lookup SaslServer::load_credential(std::string_view username, ScramHash hash) {
  std::string error;
  std::optional<ScramCredential> found = store_.find(host_, username, hash, &error);
  if (found) {
    credential_ = std::move(*found);
    return Lookup::kFound;
  }
  // A broken database is not the user's fault, and says nothing about whether they exist.
  if (!error.empty()) return Lookup::kFailed;
  std::optional<ScramCredential> decoy = decoy_credential(hash, host_, username, store_.common_iterations());
  if (!decoy) return Lookup::kFailed;
  credential_ = std::move(*decoy);
  return Lookup::kUnknown;
}

// SASLprep, then the caller's preparation. An empty result is refused like a failed one.
std::optional<std::string> SaslServer::prepare_username(std::string_view sent) const {
  std::optional<std::string> name = saslprep(sent);
  if (name && prepare_username_ != nullptr) name = prepare_username_(*name);
  if (name && name->empty()) return std::nullopt;
  return name;
}

// client-first-message = gs2-header client-first-message-bare
// gs2-header = gs2-cbind-flag "," [ authzid ] ","
// client-first-message-bare = "n=" saslname ",r=" c-nonce   (no extensions, no "m=")
SaslServer::Step SaslServer::scram_first(std::string_view message) {
  const std::size_t flag_end = message.find(',');
  const std::size_t header_end = flag_end == std::string_view::npos ? flag_end : message.find(',', flag_end + 1);
  if (header_end == std::string_view::npos) return fail(kMalformedRequest);
  const std::string_view flag = message.substr(0, flag_end);
  const std::string_view authzid_field = message.substr(flag_end + 1, header_end - flag_end - 1);
  const std::string_view bare = message.substr(header_end + 1);

  if (flag == "n" || flag == "y") {
    // A -PLUS mechanism is a promise to bind to the channel.
    if (is_plus(mechanism_)) return fail(kNotAuthorized);
    // "y" after -PLUS was offered is not taken as a downgrade (RFC 5802 §6 would): the
    // client may support channel binding but not tls-exporter, the only type offered
    // (XEP-0440 says which). Python's ssl cannot export keying material, so every
    // slixmpp-based client on TLS 1.3 says "y"; refusing them would lock them out, while a
    // downgrade needs an attacker holding a certificate the client trusts for this domain.
  } else if (flag.starts_with("p=")) {
    const std::string_view type = flag.substr(2);
    if (!valid_channel_binding_name(type)) return fail(kMalformedRequest);
    if (!is_plus(mechanism_)) return fail(kNotAuthorized);
    if (type == kChannelBindingType) {
      bound_data_ = channel_binding_;
    } else if (type == kServerEndPointType && !server_end_point_.empty()) {
      bound_data_ = server_end_point_;
    } else {
      // RFC 5802 §5.1 wants the error in the server-final message: the exchange runs on
      // to there (no password is checked), and the client can then try without binding.
      unsupported_binding_ = type;
    }
    bound_ = true;
  } else {
    return fail(kMalformedRequest);
  }

  std::optional<std::string> authzid;
  if (!authzid_field.empty()) {
    if (!authzid_field.starts_with("a=")) return fail(kMalformedRequest);
    authzid = decode_saslname(authzid_field.substr(2));
    if (!authzid) return fail(kMalformedRequest);
  }

  const std::vector<std::string_view> attributes = split(bare, ',');
  if (attributes.size() != 2 || !attributes[0].starts_with("n=") || !attributes[1].starts_with("r="))
    return fail(kMalformedRequest);
  const std::optional<std::string> name = decode_saslname(attributes[0].substr(2));
  const std::string_view client_nonce = attributes[1].substr(2);
  if (!name || !valid_nonce(client_nonce)) return fail(kMalformedRequest);
  // A name that cannot be prepared is refused by its spelling alone, which tells nothing
  // about which accounts exist.
  std::optional<std::string> username = prepare_username(*name);
  if (!username) return fail(kNotAuthorized);
  if (authzid && *authzid != *username + "@" + host_) return fail(kInvalidAuthzid);

  const Lookup lookup = load_credential(*username, scram_hash(mechanism_));
  const std::optional<std::string> server_nonce = random_bytes(kServerNonceBytes);
  if (lookup == Lookup::kFailed || !server_nonce) return fail(kTemporaryAuthFailure);
  known_user_ = lookup == Lookup::kFound;
  username_ = std::move(*username);
  gs2_header_ = message.substr(0, header_end + 1);
  client_first_bare_ = bare;
  nonce_ = std::string(client_nonce) + base64_encode(*server_nonce);
  server_first_ =
      "r=" + nonce_ + ",s=" + base64_encode(credential_.salt) + ",i=" + std::to_string(credential_.iterations);
  state_ = State::kAwaitFinal;
  return Step{Step::kChallenge, server_first_, {}, {}};
}

// client-final-message = "c=" base64(cbind-input) ",r=" nonce ",p=" base64(proof)
// cbind-input = gs2-header [ channel binding data, with "p=" ]
SaslServer::Step SaslServer::scram_final(std::string_view message) {
  const std::vector<std::string_view> attributes = split(message, ',');
  if (attributes.size() != 3 || !attributes[0].starts_with("c=") || !attributes[1].starts_with("r=") ||
      !attributes[2].starts_with("p="))
    return fail(kMalformedRequest);
  const std::optional<std::string> cbind_input = base64_decode(attributes[0].substr(2));
  const std::optional<std::string> proof = base64_decode(attributes[2].substr(2));
  if (!cbind_input || !proof || proof->size() != digest_size(credential_.hash) || attributes[1].substr(2) != nonce_)
    return fail(kMalformedRequest);

  if (!unsupported_binding_.empty()) {
    state_ = State::kAwaitErrorAck;
    return Step{Step::kChallenge, "e=unsupported-channel-binding-type", {}, {}};
  }
  const std::string expected_cbind = gs2_header_ + (bound_ ? bound_data_ : std::string());
  if (!equal_in_constant_time(*cbind_input, expected_cbind)) return fail(kNotAuthorized);

  const std::string_view without_proof = message.substr(0, message.size() - attributes[2].size() - 1);
  auth_message_ = client_first_bare_;
  auth_message_.append(1, ',').append(server_first_).append(1, ',').append(without_proof);
  proof_ = *proof;
  return deferred_or_now();
}

SaslServer::Step SaslServer::check_proof() {
  // Verified for decoys too, so that an unknown user costs the same time as a wrong password.
  const bool proven = verify_client_proof(credential_, auth_message_, proof_);
  if (!proven || !known_user_) return wrong_password();
  const std::string signature = server_signature(credential_.hash, credential_.server_key, auth_message_);
  if (signature.empty()) return fail(kTemporaryAuthFailure);
  return succeed("v=" + base64_encode(signature), std::move(username_));
}

// message = [authzid] NUL authcid NUL passwd (RFC 4616 §2). The password is checked against the
// stored SCRAM-SHA-256 credential by deriving the same StoredKey from it: no plaintext is kept.
SaslServer::Step SaslServer::plain(std::string_view message) {
  const std::size_t first = message.find('\0');
  const std::size_t second = first == std::string_view::npos ? first : message.find('\0', first + 1);
  if (second == std::string_view::npos || message.find('\0', second + 1) != std::string_view::npos)
    return fail(kMalformedRequest);
  const std::string_view authzid = message.substr(0, first);
  const std::string_view authcid = message.substr(first + 1, second - first - 1);
  const std::string_view password = message.substr(second + 1);
  if (authcid.empty() || password.empty() || !is_valid_utf8(message)) return fail(kMalformedRequest);

  const std::optional<std::string> username = prepare_username(authcid);
  std::optional<std::string> prepared = saslprep(password);
  SecretBytes secret;
  // Moved straight out of `prepared`, which SecretBytes then wipes: a short password lives
  // inside the string object itself, and would otherwise stay behind in it.
  if (prepared) secret = SecretBytes(std::move(*prepared));
  if (!username || secret.empty()) return fail(kNotAuthorized);
  if (!authzid.empty() && authzid != *username + "@" + host_) return fail(kInvalidAuthzid);

  lookup_ = load_credential(*username, ScramHash::kSha256);
  // An account imported from Prosody has only its SCRAM-SHA-1 credential until a PLAIN login
  // like this one, which then stores both (check_password).
  if (lookup_ == Lookup::kUnknown && store_.exists(host_, *username))
    lookup_ = load_credential(*username, ScramHash::kSha1);
  if (lookup_ == Lookup::kFailed) return fail(kTemporaryAuthFailure);
  username_ = *username;
  password_ = std::move(secret);
  return deferred_or_now();
}

SaslServer::Step SaslServer::check_password() {
  const ScramHash hash = credential_.hash;  // SHA-256, or SHA-1 for an account imported with it alone
  // The full PBKDF2 runs for decoys too: a quick answer would tell that the account is unknown.
  const SecretBytes salted = salted_password(hash, password_.view(), credential_.salt, credential_.iterations);
  const SecretBytes client = client_key(hash, salted.view());
  const std::string stored = stored_key(hash, client.view());
  if (stored.empty()) return fail(kTemporaryAuthFailure);
  if (!equal_in_constant_time(stored, credential_.stored_key) || lookup_ != Lookup::kFound) {
    password_ = SecretBytes();
    return wrong_password();
  }
  if (hash == ScramHash::kSha1) {
    // The password is proven: store SHA-1 and SHA-256 credentials anew. A failure here does
    // not fail the login; the account stays SHA-1-only and the next PLAIN login tries again.
    std::string error;
    const std::uint32_t iterations = new_iterations_ != 0 ? new_iterations_ : credential_.iterations;
    if (!store_.set_password(host_, username_, password_.view(), iterations, error))
      log::warning("auth: %s@%s: the SHA-256 credential could not be stored: %s", username_.c_str(), host_.c_str(),
                   error.c_str());
  }
  password_ = SecretBytes();
  return succeed({}, std::move(username_));
}

// The message is optional trace information (RFC 4505 §2), which we check and then ignore.
SaslServer::Step SaslServer::anonymous(std::string_view message) {
  if (message.size() > kMaxTraceBytes || !is_valid_utf8(message)) return fail(kMalformedRequest);
  const std::optional<std::string> name = random_bytes(kAnonymousNameBytes);
  if (!name) return fail(kTemporaryAuthFailure);
  return succeed({}, to_hex(*name));
}

}  // namespace xmppd::auth
