// The server side of one SASL authentication attempt (RFC 4422 as profiled by RFC 6120 §6):
// SCRAM-SHA-1(-PLUS) and SCRAM-SHA-256(-PLUS) (RFC 5802, RFC 7677, channel binding type
// tls-exporter per RFC 9266, tls-server-end-point per RFC 5929), PLAIN (RFC 4616) and ANONYMOUS (RFC 4505).
//
// It takes and returns the raw bytes of each SASL message (the router does the base64 of the
// XMPP elements) and knows nothing of the IPC that carries them. Credentials are read from the
// store; passwords and verifiers never leave this object.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "auth-helper/credential_store.h"
#include "auth-helper/scram.h"

namespace xmppd::auth {

enum class Mechanism { kScramSha256Plus, kScramSha1Plus, kScramSha256, kScramSha1, kPlain, kAnonymous };

// "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "ANONYMOUS".
std::string_view mechanism_name(Mechanism mechanism);
// Exact, case-sensitive match of the names above (RFC 4422 §3.1 names are upper case).
std::optional<Mechanism> parse_mechanism(std::string_view name);
bool is_scram(Mechanism mechanism);
bool is_plus(Mechanism mechanism);

// The RFC 6120 §6.5 failure conditions this class reports. (incorrect-encoding and aborted
// are the router's: it decodes the base64 and sees the <abort/>.)
inline constexpr std::string_view kInvalidAuthzid = "invalid-authzid";
inline constexpr std::string_view kInvalidMechanism = "invalid-mechanism";
inline constexpr std::string_view kMalformedRequest = "malformed-request";
inline constexpr std::string_view kNotAuthorized = "not-authorized";
inline constexpr std::string_view kTemporaryAuthFailure = "temporary-auth-failure";

// The channel binding types accepted with -PLUS; tls-server-end-point only when the caller
// gave its data. Any other type (tls-unique, which TLS 1.3 does not define safely) is
// answered with e=unsupported-channel-binding-type (RFC 5802 §5.1).
inline constexpr std::string_view kChannelBindingType = "tls-exporter";
inline constexpr std::string_view kServerEndPointType = "tls-server-end-point";
// Longest SASL message accepted, in raw bytes; real ones are far shorter.
inline constexpr std::size_t kMaxSaslMessage = 4096;

class SaslServer {
 public:
  struct Step {
    // kVerify (only with set_deferred_verification): the password is about to be checked
    // for `username`; call verify() when the caller's limits allow it.
    enum Kind { kChallenge, kSuccess, kFailure, kVerify } kind;
    std::string data;       // challenge, or additional data with success; raw bytes
    std::string condition;  // on failure, an RFC 6120 §6.5 condition
    std::string username;   // on success: the authenticated localpart; on kVerify, the one tried
    // On failure: a password (or proof) was checked and was wrong, or the account is
    // unknown. Only these count towards login throttling; a refused channel binding type,
    // a malformed message or a lack of slots does not.
    bool wrong_password = false;
    // On the failure that ends an exchange after e=unsupported-channel-binding-type: the
    // type the client asked for. The client did nothing wrong; it may try another mechanism.
    std::string unsupported_binding = {};
    std::uint32_t cost = 0;  // on kVerify: the PBKDF2 iterations the check runs here (0 for SCRAM)
  };

  // `channel_binding`: the tls-exporter bytes (RFC 9266) of the client's TLS session, empty if
  // it has none. `channel_binding_offered`: whether -PLUS mechanisms were advertised to the
  // client, which decides whether a "y" gs2 flag is a downgrade.
  SaslServer(CredentialStore& store, std::string host, Mechanism mechanism, std::string channel_binding,
             bool channel_binding_offered);
  SaslServer(const SaslServer&) = delete;
  SaslServer& operator=(const SaslServer&) = delete;
  ~SaslServer();

  // How a username the client sent (after SASLprep) becomes the localpart the store is keyed
  // by, e.g. xmpp::prepare_localpart; nullopt refuses the name. Without one the SASLprep'd
  // name is looked up as it is, so a client must then send the localpart exactly as stored.
  using PrepareUsername = std::optional<std::string> (*)(std::string_view);
  void set_username_preparation(PrepareUsername prepare) { prepare_username_ = prepare; }
  // The PBKDF2 iterations of the credentials a PLAIN login of a SHA-1-only account stores
  // (the server's scram_iterations); 0 keeps the account's own count.
  void set_new_credential_iterations(std::uint32_t iterations) { new_iterations_ = iterations; }
  // The RFC 5929 tls-server-end-point data of our certificate, to accept that type too.
  void set_server_end_point(std::string data) { server_end_point_ = std::move(data); }
  // Stop before each password check with a kVerify step, so that the caller can hold it
  // back (throttling) without holding up anything else.
  void set_deferred_verification(bool deferred) { deferred_ = deferred; }
  // The channel binding type the client asked for and we do not support, if any.
  const std::string& unsupported_binding() const { return unsupported_binding_; }

  // The <auth/> element. An empty initial response is answered with an empty challenge (for
  // ANONYMOUS, with success: its message carries nothing we need).
  Step start(std::string_view initial_response);
  // Each <response/>. After a success or a failure, any further call fails.
  Step respond(std::string_view response);
  // After kVerify: checks the password and gives success or failure.
  Step verify();

 private:
  enum class State { kStart, kAwaitInitial, kAwaitFinal, kAwaitVerify, kAwaitErrorAck, kDone };

  Step scram_first(std::string_view message);
  Step scram_final(std::string_view message);
  Step plain(std::string_view message);
  Step anonymous(std::string_view message);
  Step fail(std::string_view condition);
  Step wrong_password();
  Step unsupported_binding_failure();
  Step check_password();
  Step check_proof();
  Step deferred_or_now();
  Step succeed(std::string data, std::string username);
  enum class Lookup { kFound, kUnknown, kFailed };
  // Sets credential_ to the account's credential, or to a decoy for an unknown account.
  Lookup load_credential(std::string_view username, ScramHash hash);
  std::optional<std::string> prepare_username(std::string_view sent) const;

  CredentialStore& store_;
  const std::string host_;
  const Mechanism mechanism_;
  const std::string channel_binding_;
  const bool channel_binding_offered_;
  PrepareUsername prepare_username_ = nullptr;
  std::uint32_t new_iterations_ = 0;
  std::string server_end_point_;
  bool deferred_ = false;
  State state_ = State::kStart;
  std::string unsupported_binding_;  // the client's "p=" type, when we cannot bind to it

  // Between the two SCRAM messages.
  ScramCredential credential_{};
  bool known_user_ = false;  // false: credential_ is a decoy, and no proof may succeed
  std::string username_;
  std::string gs2_header_;  // as the client sent it, both commas included
  bool bound_ = false;      // the client used channel binding ("p=")
  std::string bound_data_;  // the data of the type it named
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
  // Between parsing and checking (kAwaitVerify).
  Lookup lookup_ = Lookup::kFailed;
  SecretBytes password_;      // PLAIN: the prepared password
  std::string auth_message_;  // SCRAM: what the proof signs
  std::string proof_;
};

}  // namespace xmppd::auth
