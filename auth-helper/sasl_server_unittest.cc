// The SASL server driven by clients written here with the SCRAM helpers: complete SCRAM-SHA-1
// and SCRAM-SHA-256 exchanges with and without channel binding, the gs2 header rules, decoy
// challenges for unknown users, strict parsing, PLAIN and ANONYMOUS; unsupported channel
// binding types answered as RFC 5802 says, and password checks deferred for throttling.
#include "auth-helper/sasl_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::auth {
namespace {

namespace fs = std::filesystem;
using Step = SaslServer::Step;

constexpr std::string_view kHost = "example.org";
constexpr std::string_view kUser = "juliet";
constexpr std::string_view kPassword = "r0m30myr0m30";
const std::string kBinding = std::string("exporter-bytes-\x00\x01\xFF-end", 22);

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find(separator, start)) != std::string_view::npos; start = end + 1)
    parts.emplace_back(text.substr(start, end - start));
  parts.emplace_back(text.substr(start));
  return parts;
}

// The attributes of a server-first-message, as a client reads them.
struct ServerFirst {
  std::string nonce, salt;
  std::uint32_t iterations = 0;
};

std::optional<ServerFirst> parse_server_first(std::string_view message) {
  const std::vector<std::string> parts = split(message, ',');
  if (parts.size() != 3 || parts[0].rfind("r=", 0) != 0 || parts[1].rfind("s=", 0) != 0 || parts[2].rfind("i=", 0) != 0)
    return std::nullopt;
  std::optional<std::string> salt = base64_decode(parts[1].substr(2));
  if (!salt) return std::nullopt;
  return ServerFirst{parts[0].substr(2), *salt, static_cast<std::uint32_t>(std::stoul(parts[2].substr(2)))};
}

// A SCRAM client, the way RFC 5802 §3 describes one.
class ScramClient {
 public:
  ScramClient(ScramHash hash, std::string username, std::string password, std::string gs2_header = "n,,",
              std::string binding = {})
      : hash_(hash),
        username_(std::move(username)),
        password_(std::move(password)),
        gs2_header_(std::move(gs2_header)),
        binding_(std::move(binding)) {}

  std::string first(std::string nonce = "fyko+d2lbbFgONRv9qkxdawL") {
    nonce_ = std::move(nonce);
    bare_ = "n=" + username_ + ",r=" + nonce_;
    return gs2_header_ + bare_;
  }

  // The client-final-message, or "" if the server-first-message is unacceptable.
  std::string final(std::string_view server_first) {
    const std::optional<ServerFirst> parsed = parse_server_first(server_first);
    if (!parsed || parsed->nonce.rfind(nonce_, 0) != 0 || parsed->nonce.size() <= nonce_.size()) return {};
    const std::string without_proof = "c=" + base64_encode(gs2_header_ + binding_) + ",r=" + parsed->nonce;
    const std::string auth_message = bare_ + "," + std::string(server_first) + "," + without_proof;
    const SecretBytes salted = salted_password(hash_, password_, parsed->salt, parsed->iterations);
    const SecretBytes client = client_key(hash_, salted.view());
    expected_server_final_ =
        "v=" + base64_encode(server_signature(hash_, server_key(hash_, salted.view()), auth_message));
    return without_proof + ",p=" + base64_encode(client_proof(hash_, client.view(), auth_message));
  }

  const std::string& expected_server_final() const { return expected_server_final_; }

 private:
  ScramHash hash_;
  std::string username_, password_, gs2_header_, binding_, nonce_, bare_, expected_server_final_;
};

std::string plain_message(std::string_view authzid, std::string_view authcid, std::string_view password) {
  std::string message(authzid);
  message.append(1, '\0').append(authcid).append(1, '\0').append(password);
  return message;
}

void expect_failure(const Step& step, std::string_view condition) {
  EXPECT_EQ(step.kind, Step::kFailure) << step.data;
  EXPECT_EQ(step.condition, condition);
  EXPECT_TRUE(step.username.empty());
}

class SaslServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "xmppd-sasl-server-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::string error;
    store_ = CredentialStore::open((dir_ / "credentials.sqlite").string(), error);
    ASSERT_TRUE(store_) << error;
    ASSERT_TRUE(store_->set_password(kHost, kUser, kPassword, 4096, error)) << error;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<SaslServer> server(Mechanism mechanism, bool offered = false, std::string binding = {}) {
    return std::make_unique<SaslServer>(*store_, std::string(kHost), mechanism, std::move(binding), offered);
  }

  // Runs a whole SCRAM exchange and returns the last step.
  Step run_scram(SaslServer& server, ScramClient& client) {
    const Step challenge = server.start(client.first());
    if (challenge.kind != Step::kChallenge) return challenge;
    return server.respond(client.final(challenge.data));
  }

  fs::path dir_;
  std::unique_ptr<CredentialStore> store_;
};

TEST(Mechanisms, NamesRoundTrip) {
  for (const Mechanism m : {Mechanism::kScramSha256Plus, Mechanism::kScramSha1Plus, Mechanism::kScramSha256,
                            Mechanism::kScramSha1, Mechanism::kPlain, Mechanism::kAnonymous})
    EXPECT_EQ(parse_mechanism(mechanism_name(m)), m);
  EXPECT_EQ(mechanism_name(Mechanism::kScramSha256Plus), "SCRAM-SHA-256-PLUS");
  EXPECT_EQ(mechanism_name(Mechanism::kScramSha1), "SCRAM-SHA-1");
  EXPECT_EQ(parse_mechanism("scram-sha-1"), std::nullopt);
  EXPECT_EQ(parse_mechanism("DIGEST-MD5"), std::nullopt);
  EXPECT_EQ(parse_mechanism(""), std::nullopt);
  EXPECT_TRUE(is_plus(Mechanism::kScramSha1Plus));
  EXPECT_FALSE(is_plus(Mechanism::kScramSha256));
  EXPECT_TRUE(is_scram(Mechanism::kScramSha256));
  EXPECT_FALSE(is_scram(Mechanism::kPlain));
}

// An account imported with a SCRAM-SHA-1 credential alone: PLAIN checks the password against
// it, and then stores the SHA-256 credential too.
TEST_F(SaslServerTest, PlainUpgradesASha1OnlyAccount) {
  std::string error;
  const ScramCredential sha1 = make_credential(ScramHash::kSha1, kPassword, "old-salt", 4096);
  ASSERT_TRUE(store_->set_sha1_credential(kHost, kUser, sha1, error)) << error;
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", kUser, "wrong")), kNotAuthorized);
  EXPECT_FALSE(store_->find(kHost, kUser, ScramHash::kSha256));
  auto plain = server(Mechanism::kPlain);
  plain->set_new_credential_iterations(5000);  // the server's count, not the imported one
  const Step done = plain->start(plain_message("", kUser, kPassword));
  ASSERT_EQ(done.kind, Step::kSuccess) << done.condition;
  auto sha256 = store_->find(kHost, kUser, ScramHash::kSha256);
  ASSERT_TRUE(sha256);
  EXPECT_EQ(sha256->iterations, 5000u);
  EXPECT_EQ(store_->sha1_only_accounts(kHost), 0u);
}

TEST_F(SaslServerTest, ScramSha1) {
  auto s = server(Mechanism::kScramSha1);
  ScramClient client(ScramHash::kSha1, std::string(kUser), std::string(kPassword));
  const Step step = run_scram(*s, client);
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
  EXPECT_EQ(step.username, kUser);
  EXPECT_EQ(step.data, client.expected_server_final());   // the server proves itself too
  expect_failure(s->respond("more"), kMalformedRequest);  // the exchange is over
}

TEST_F(SaslServerTest, ScramSha256) {
  auto s = server(Mechanism::kScramSha256);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  const Step challenge = s->start(client.first());
  ASSERT_EQ(challenge.kind, Step::kChallenge) << challenge.condition;
  const std::optional<ServerFirst> parsed = parse_server_first(challenge.data);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->nonce.substr(0, 24), "fyko+d2lbbFgONRv9qkxdawL");
  EXPECT_EQ(parsed->nonce.size(), 24u + 32u);  // 24 random bytes, base64
  EXPECT_EQ(parsed->salt.size(), CredentialStore::kSaltSize);
  EXPECT_EQ(parsed->iterations, 4096u);
  const Step step = s->respond(client.final(challenge.data));
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
  EXPECT_EQ(step.username, kUser);
  EXPECT_EQ(step.data, client.expected_server_final());
}

TEST_F(SaslServerTest, ServerNoncesDiffer) {
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  const Step a = server(Mechanism::kScramSha256)->start(client.first());
  const Step b = server(Mechanism::kScramSha256)->start(client.first());
  ASSERT_EQ(a.kind, Step::kChallenge);
  ASSERT_EQ(b.kind, Step::kChallenge);
  EXPECT_NE(parse_server_first(a.data)->nonce, parse_server_first(b.data)->nonce);
}

TEST_F(SaslServerTest, EmptyInitialResponseGetsAnEmptyChallenge) {
  auto s = server(Mechanism::kScramSha256);
  const Step empty = s->start("");
  ASSERT_EQ(empty.kind, Step::kChallenge);
  EXPECT_TRUE(empty.data.empty());
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  const Step challenge = s->respond(client.first());
  ASSERT_EQ(challenge.kind, Step::kChallenge) << challenge.condition;
  const Step step = s->respond(client.final(challenge.data));
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;

  auto again = server(Mechanism::kScramSha256);
  ASSERT_EQ(again->start("").kind, Step::kChallenge);
  expect_failure(again->respond(""), kMalformedRequest);
}

TEST_F(SaslServerTest, PlusWithTheRightBinding) {
  for (const auto& [mechanism, hash] : {std::pair{Mechanism::kScramSha256Plus, ScramHash::kSha256},
                                        std::pair{Mechanism::kScramSha1Plus, ScramHash::kSha1}}) {
    auto s = server(mechanism, true, kBinding);
    ScramClient client(hash, std::string(kUser), std::string(kPassword), "p=tls-exporter,,", kBinding);
    const Step step = run_scram(*s, client);
    ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
    EXPECT_EQ(step.data, client.expected_server_final());
  }
}

TEST_F(SaslServerTest, PlusWithAnAuthzidCoversItInTheBinding) {
  auto s = server(Mechanism::kScramSha256Plus, true, kBinding);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword),
                     "p=tls-exporter,a=juliet@example.org,", kBinding);
  const Step step = run_scram(*s, client);
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
}

TEST_F(SaslServerTest, PlusWithTheWrongBinding) {
  auto s = server(Mechanism::kScramSha256Plus, true, kBinding);
  // The client's TLS session is not ours: a man in the middle.
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-exporter,,",
                     "other-exporter-bytes");
  expect_failure(run_scram(*s, client), kNotAuthorized);

  // Binding data left out although the header says "p".
  auto s2 = server(Mechanism::kScramSha256Plus, true, kBinding);
  ScramClient no_data(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-exporter,,");
  expect_failure(run_scram(*s2, no_data), kNotAuthorized);
}

TEST_F(SaslServerTest, NonPlusWithABindingInCIsRefused) {
  // c= must be exactly the gs2 header when not binding.
  auto s = server(Mechanism::kScramSha256);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "n,,", "extra");
  expect_failure(run_scram(*s, client), kNotAuthorized);
}

TEST_F(SaslServerTest, YFlagIsAcceptedWhenPlusWasOfferedForClientsWithoutOurBindingType) {
  auto s = server(Mechanism::kScramSha256, true, kBinding);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "y,,");
  const Step step = run_scram(*s, client);
  EXPECT_EQ(step.kind, Step::kSuccess) << step.condition;
}

TEST_F(SaslServerTest, YFlagIsFineWhenPlusWasNotOffered) {
  auto s = server(Mechanism::kScramSha256, false, kBinding);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "y,,");
  const Step step = run_scram(*s, client);
  EXPECT_EQ(step.kind, Step::kSuccess) << step.condition;
}

TEST_F(SaslServerTest, NFlagWhenPlusWasOfferedIsFine) {
  // A client without channel binding support may still pick the plain mechanism.
  auto s = server(Mechanism::kScramSha1, true, kBinding);
  ScramClient client(ScramHash::kSha1, std::string(kUser), std::string(kPassword), "n,,");
  EXPECT_EQ(run_scram(*s, client).kind, Step::kSuccess);
}

TEST_F(SaslServerTest, GsHeaderMustMatchTheMechanism) {
  ScramClient p_flag(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-exporter,,", kBinding);
  expect_failure(server(Mechanism::kScramSha256, true, kBinding)->start(p_flag.first()), kNotAuthorized);

  ScramClient n_flag(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "n,,");
  expect_failure(server(Mechanism::kScramSha256Plus, true, kBinding)->start(n_flag.first()), kNotAuthorized);
  ScramClient y_flag(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "y,,");
  expect_failure(server(Mechanism::kScramSha256Plus, true, kBinding)->start(y_flag.first()), kNotAuthorized);

  ScramClient bad_name(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls_exporter,,");
  expect_failure(server(Mechanism::kScramSha256Plus, true, kBinding)->start(bad_name.first()), kMalformedRequest);
}

// Debian 12's slixmpp asks for tls-unique with -PLUS. It must get the RFC 5802 error in the
// server-final message, then a failure it can try another mechanism after, and that failure
// is not a wrong password (no throttling, no "wrong password" in the log).
TEST_F(SaslServerTest, UnsupportedBindingTypeGetsTheRfc5802Error) {
  for (const char* password : {kPassword.data(), "not the password"}) {
    auto s = server(Mechanism::kScramSha256Plus, true, kBinding);
    ScramClient client(ScramHash::kSha256, std::string(kUser), password, "p=tls-unique,,", "tls-unique-bytes");
    const Step first = s->start(client.first());
    ASSERT_EQ(first.kind, Step::kChallenge) << first.condition;
    const Step error = s->respond(client.final(first.data));
    ASSERT_EQ(error.kind, Step::kChallenge) << error.condition;
    EXPECT_EQ(error.data, "e=unsupported-channel-binding-type");
    EXPECT_EQ(s->unsupported_binding(), "tls-unique");
    const Step end = s->respond("");
    expect_failure(end, kInvalidMechanism);
    EXPECT_FALSE(end.wrong_password);
    // The failure says why, so that the router neither counts nor logs it as a failed login.
    EXPECT_EQ(end.unsupported_binding, "tls-unique");
  }
  // A client that stops at the error (slixmpp sends <abort/>) needs nothing more from us; a
  // client that tries the same mechanism without binding is refused as before.
  ScramClient y_flag(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "y,,");
  const Step refused = server(Mechanism::kScramSha256Plus, true, kBinding)->start(y_flag.first());
  expect_failure(refused, kNotAuthorized);
  EXPECT_FALSE(refused.wrong_password);
  EXPECT_EQ(refused.unsupported_binding, "");
  // Nor does a failure after the error for anything else (an oversized answer).
  auto oversized = server(Mechanism::kScramSha256Plus, true, kBinding);
  ScramClient unique(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-unique,,", "x");
  const Step first = oversized->start(unique.first());
  ASSERT_EQ(oversized->respond(unique.final(first.data)).data, "e=unsupported-channel-binding-type");
  const Step too_long = oversized->respond(std::string(kMaxSaslMessage + 1, 'x'));
  expect_failure(too_long, kMalformedRequest);
  EXPECT_EQ(too_long.unsupported_binding, "");
}

TEST_F(SaslServerTest, ServerEndPointBindingWhenGiven) {
  const std::string end_point(32, '\x5A');
  auto s = server(Mechanism::kScramSha256Plus, true, kBinding);
  s->set_server_end_point(end_point);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-server-end-point,,",
                     end_point);
  const Step step = run_scram(*s, client);
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
  EXPECT_EQ(step.data, client.expected_server_final());

  // Our exporter bytes under the other type's name are the wrong binding.
  auto wrong = server(Mechanism::kScramSha256Plus, true, kBinding);
  wrong->set_server_end_point(end_point);
  ScramClient mixed(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-server-end-point,,",
                    kBinding);
  expect_failure(run_scram(*wrong, mixed), kNotAuthorized);

  // Without the data (an Ed25519 certificate has no such hash) the type is unsupported.
  auto without = server(Mechanism::kScramSha256Plus, true, kBinding);
  ScramClient unbound(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "p=tls-server-end-point,,",
                      end_point);
  const Step first = without->start(unbound.first());
  ASSERT_EQ(first.kind, Step::kChallenge);
  EXPECT_EQ(without->respond(unbound.final(first.data)).data, "e=unsupported-channel-binding-type");
}

TEST_F(SaslServerTest, DeferredVerificationStopsBeforeThePasswordCheck) {
  auto s = server(Mechanism::kScramSha256);
  s->set_deferred_verification(true);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  const Step challenge = s->start(client.first());
  ASSERT_EQ(challenge.kind, Step::kChallenge);
  const Step pending = s->respond(client.final(challenge.data));
  ASSERT_EQ(pending.kind, Step::kVerify);
  EXPECT_EQ(pending.username, kUser);
  EXPECT_EQ(pending.cost, 0u);  // the SCRAM client ran PBKDF2, not us
  expect_failure(server(Mechanism::kScramSha256)->verify(), kMalformedRequest);  // nothing to verify
  const Step done = s->verify();
  ASSERT_EQ(done.kind, Step::kSuccess) << done.condition;
  EXPECT_EQ(done.data, client.expected_server_final());

  auto plain = server(Mechanism::kPlain);
  plain->set_deferred_verification(true);
  const Step plain_pending = plain->start(plain_message("", kUser, "wrong"));
  ASSERT_EQ(plain_pending.kind, Step::kVerify);
  EXPECT_EQ(plain_pending.username, kUser);
  EXPECT_EQ(plain_pending.cost, 4096u);
  const Step plain_done = plain->verify();
  expect_failure(plain_done, kNotAuthorized);
  EXPECT_TRUE(plain_done.wrong_password);

  // A malformed message fails before any check, and is no wrong password.
  auto malformed = server(Mechanism::kPlain);
  malformed->set_deferred_verification(true);
  const Step bad = malformed->start("juliet");
  expect_failure(bad, kMalformedRequest);
  EXPECT_FALSE(bad.wrong_password);
}

TEST_F(SaslServerTest, OnlyPasswordChecksCountAsWrongPasswords) {
  ScramClient wrong(ScramHash::kSha256, std::string(kUser), "not the password");
  auto s = server(Mechanism::kScramSha256);
  const Step challenge = s->start(wrong.first());
  EXPECT_TRUE(s->respond(wrong.final(challenge.data)).wrong_password);
  EXPECT_TRUE(server(Mechanism::kPlain)->start(plain_message("", "ghost", kPassword)).wrong_password);
  EXPECT_FALSE(server(Mechanism::kPlain)->start(plain_message("romeo@example.org", kUser, kPassword)).wrong_password);
  EXPECT_FALSE(server(Mechanism::kScramSha256Plus, false, "")->start("p=tls-exporter,,n=juliet,r=abc").wrong_password);
}

TEST_F(SaslServerTest, PlusNeedsBindingDataAndAnOffer) {
  expect_failure(server(Mechanism::kScramSha256Plus, true, "")->start("p=tls-exporter,,n=juliet,r=abc"),
                 kInvalidMechanism);
  expect_failure(server(Mechanism::kScramSha1Plus, false, kBinding)->start("p=tls-exporter,,n=juliet,r=abc"),
                 kInvalidMechanism);
}

TEST_F(SaslServerTest, WrongPassword) {
  for (const auto& [mechanism, hash] :
       {std::pair{Mechanism::kScramSha256, ScramHash::kSha256}, std::pair{Mechanism::kScramSha1, ScramHash::kSha1}}) {
    auto s = server(mechanism);
    ScramClient client(hash, std::string(kUser), "not the password");
    const Step challenge = s->start(client.first());
    ASSERT_EQ(challenge.kind, Step::kChallenge);
    expect_failure(s->respond(client.final(challenge.data)), kNotAuthorized);
  }
}

TEST_F(SaslServerTest, UnknownUserGetsAChallengeLikeARealOne) {
  ScramClient real(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  const Step real_challenge = server(Mechanism::kScramSha256)->start(real.first());
  ScramClient ghost(ScramHash::kSha256, "ghost", std::string(kPassword));
  auto s = server(Mechanism::kScramSha256);
  const Step ghost_challenge = s->start(ghost.first());
  ASSERT_EQ(ghost_challenge.kind, Step::kChallenge) << ghost_challenge.condition;
  ASSERT_EQ(real_challenge.kind, Step::kChallenge);

  const auto real_first = parse_server_first(real_challenge.data);
  const auto ghost_first = parse_server_first(ghost_challenge.data);
  ASSERT_TRUE(real_first && ghost_first);
  EXPECT_EQ(ghost_first->nonce.size(), real_first->nonce.size());
  EXPECT_EQ(ghost_first->salt.size(), real_first->salt.size());
  EXPECT_EQ(ghost_first->iterations, real_first->iterations);
  EXPECT_EQ(ghost_challenge.data.size(), real_challenge.data.size());

  // Asking again gives the same salt, as it would for a real account; another name another.
  const Step again = server(Mechanism::kScramSha256)->start(ghost.first());
  EXPECT_EQ(parse_server_first(again.data)->salt, ghost_first->salt);
  ScramClient other(ScramHash::kSha256, "phantom", std::string(kPassword));
  EXPECT_NE(parse_server_first(server(Mechanism::kScramSha256)->start(other.first()).data)->salt, ghost_first->salt);
  // The SHA-1 decoy salt differs from the SHA-256 one, as real salts do.
  ScramClient ghost1(ScramHash::kSha1, "ghost", std::string(kPassword));
  EXPECT_NE(parse_server_first(server(Mechanism::kScramSha1)->start(ghost1.first()).data)->salt, ghost_first->salt);

  expect_failure(s->respond(ghost.final(ghost_challenge.data)), kNotAuthorized);
}

TEST_F(SaslServerTest, DecoyUsesTheCommonIterationCount) {
  std::string error;
  ASSERT_TRUE(store_->set_password(kHost, "romeo", kPassword, 10000, error)) << error;
  ASSERT_TRUE(store_->set_password(kHost, "tybalt", kPassword, 10000, error)) << error;
  ScramClient ghost(ScramHash::kSha1, "ghost", std::string(kPassword));
  const Step challenge = server(Mechanism::kScramSha1)->start(ghost.first());
  ASSERT_EQ(challenge.kind, Step::kChallenge);
  EXPECT_EQ(parse_server_first(challenge.data)->iterations, 10000u);
}

TEST_F(SaslServerTest, EscapedUsernames) {
  std::string error;
  ASSERT_TRUE(store_->set_password(kHost, "a,b=c", kPassword, 4096, error)) << error;
  auto s = server(Mechanism::kScramSha256);
  ScramClient client(ScramHash::kSha256, "a=2Cb=3Dc", std::string(kPassword));
  const Step step = run_scram(*s, client);
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
  EXPECT_EQ(step.username, "a,b=c");
}

TEST_F(SaslServerTest, Authzid) {
  ScramClient same(ScramHash::kSha256, std::string(kUser), std::string(kPassword), "n,a=juliet@example.org,");
  EXPECT_EQ(run_scram(*server(Mechanism::kScramSha256), same).kind, Step::kSuccess);

  for (const char* header :
       {"n,a=romeo@example.org,", "n,a=juliet@example.net,", "n,a=juliet@example.org/balcony,", "n,a=juliet,"}) {
    ScramClient other(ScramHash::kSha256, std::string(kUser), std::string(kPassword), header);
    expect_failure(server(Mechanism::kScramSha256)->start(other.first()), kInvalidAuthzid);
  }
}

TEST_F(SaslServerTest, MalformedClientFirst) {
  for (const std::string_view message : {
           "n,,r=abc",                   // no n=
           "n,,n=juliet",                // no r=
           "n,,r=abc,n=juliet",          // wrong order
           "n,,n=juliet,r=abc,x=1",      // extra attribute
           "n,,m=ext,n=juliet,r=abc",    // reserved m= extension
           "n,,n=juliet,r=",             // empty nonce
           "n,,n=juliet,r=a,b",          // nonce with a comma is a stray attribute
           "n,,n=juliet,r=ab c",         // space in the nonce
           "n,,n=,r=abc",                // empty username
           "n,,n=ju=2Dliet,r=abc",       // unknown escape
           "n,,n=juliet=,r=abc",         // truncated escape
           "n,,n=jul\xC3,r=abc",         // invalid UTF-8
           "n=juliet,r=abc",             // no gs2 header
           "x,,n=juliet,r=abc",          // unknown flag
           "F,n,,n=juliet,r=abc",        // GS2 non-standard flag: not for SCRAM
           "n,b=juliet,n=juliet,r=abc",  // not an authzid
           "n,a=,n=juliet,r=abc",        // empty authzid
           "n,",                         // truncated
           "",                           // nothing (after an empty challenge)
       }) {
    auto s = server(Mechanism::kScramSha256);
    if (message.empty()) {
      ASSERT_EQ(s->start("").kind, Step::kChallenge);
    }
    expect_failure(message.empty() ? s->respond(message) : s->start(message), kMalformedRequest);
  }
}

TEST_F(SaslServerTest, UnpreparableUsernamesAreRefused) {
  expect_failure(server(Mechanism::kScramSha256)->start("n,,n=jul\tiet,r=abc"), kNotAuthorized);
  expect_failure(server(Mechanism::kScramSha256)->start("n,,n=\xC2\xAD,r=abc"), kNotAuthorized);  // maps to ""
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", "jul\tiet", kPassword)), kNotAuthorized);
}

// Stands in for xmpp::prepare_localpart: ASCII lower case, and no '@'.
std::optional<std::string> lower_case_localpart(std::string_view name) {
  if (name.find('@') != std::string_view::npos) return std::nullopt;
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

TEST_F(SaslServerTest, UsernamePreparation) {
  // Without a preparation, the name must be sent exactly as stored.
  ScramClient upper(ScramHash::kSha256, "JULIET", std::string(kPassword));
  EXPECT_EQ(run_scram(*server(Mechanism::kScramSha256), upper).kind, Step::kFailure);

  auto s = server(Mechanism::kScramSha256);
  s->set_username_preparation(lower_case_localpart);
  ScramClient client(ScramHash::kSha256, "JULIET", std::string(kPassword), "n,a=juliet@example.org,");
  const Step step = run_scram(*s, client);
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
  EXPECT_EQ(step.username, "juliet");

  auto plain = server(Mechanism::kPlain);
  plain->set_username_preparation(lower_case_localpart);
  const Step plain_step = plain->start(plain_message("", "Juliet", kPassword));
  ASSERT_EQ(plain_step.kind, Step::kSuccess) << plain_step.condition;
  EXPECT_EQ(plain_step.username, "juliet");

  auto refused = server(Mechanism::kScramSha1);
  refused->set_username_preparation(lower_case_localpart);
  expect_failure(refused->start("n,,n=juliet@example.org,r=abc"), kNotAuthorized);
  auto refused_plain = server(Mechanism::kPlain);
  refused_plain->set_username_preparation(lower_case_localpart);
  expect_failure(refused_plain->start(plain_message("", "juliet@example.org", kPassword)), kNotAuthorized);
}

TEST_F(SaslServerTest, MalformedClientFinal) {
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  auto attempt = [&](auto&& mangle) {
    auto s = server(Mechanism::kScramSha256);
    const Step challenge = s->start(client.first());
    EXPECT_EQ(challenge.kind, Step::kChallenge);
    const std::string good = client.final(challenge.data);
    const std::string nonce = parse_server_first(challenge.data)->nonce;
    return s->respond(mangle(good, nonce));
  };
  const auto proof_of = [](const std::string& final) { return final.substr(final.rfind(",p=") + 3); };

  expect_failure(attempt([](const std::string&, const std::string& n) { return "c=biws,r=" + n + ",p=not*base64"; }),
                 kMalformedRequest);
  expect_failure(
      attempt([&](const std::string& f, const std::string& n) { return "c=biw!,r=" + n + ",p=" + proof_of(f); }),
      kMalformedRequest);
  expect_failure(attempt([&](const std::string& f, const std::string&) {
                   return "c=biws,r=fyko+d2lbbFgONRv9qkxdawLwrongwrongwrongwrongwrongwrong00,p=" + proof_of(f);
                 }),
                 kMalformedRequest);  // wrong nonce echo
  expect_failure(attempt([&](const std::string& f, const std::string&) {
                   return "c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p=" + proof_of(f);
                 }),
                 kMalformedRequest);  // only the client's half of the nonce
  expect_failure(
      attempt([&](const std::string& f, const std::string& n) { return "c=biws,r=" + n + ",x=1,p=" + proof_of(f); }),
      kMalformedRequest);  // extension
  expect_failure(attempt([](const std::string&, const std::string& n) { return "c=biws,r=" + n; }),
                 kMalformedRequest);  // no proof
  expect_failure(
      attempt([&](const std::string& f, const std::string& n) { return "r=" + n + ",c=biws,p=" + proof_of(f); }),
      kMalformedRequest);  // reordered
  expect_failure(attempt([](const std::string&, const std::string& n) { return "c=biws,r=" + n + ",p=AAAA"; }),
                 kMalformedRequest);  // proof of the wrong length
  expect_failure(attempt([](const std::string& f, const std::string&) { return f + ","; }), kMalformedRequest);
  // The same exchange unmangled succeeds, so each failure above is the mangling's.
  EXPECT_EQ(attempt([](const std::string& f, const std::string&) { return f; }).kind, Step::kSuccess);
}

TEST_F(SaslServerTest, OversizedMessages) {
  const std::string huge(kMaxSaslMessage + 1, 'a');
  expect_failure(server(Mechanism::kScramSha256)->start(huge), kMalformedRequest);
  expect_failure(server(Mechanism::kPlain)->start(huge), kMalformedRequest);
}

TEST_F(SaslServerTest, StartTwiceFails) {
  auto s = server(Mechanism::kScramSha256);
  ScramClient client(ScramHash::kSha256, std::string(kUser), std::string(kPassword));
  ASSERT_EQ(s->start(client.first()).kind, Step::kChallenge);
  expect_failure(s->start(client.first()), kMalformedRequest);
}

TEST_F(SaslServerTest, PlainRightPassword) {
  const Step step = server(Mechanism::kPlain)->start(plain_message("", kUser, kPassword));
  ASSERT_EQ(step.kind, Step::kSuccess) << step.condition;
  EXPECT_EQ(step.username, kUser);
  EXPECT_TRUE(step.data.empty());

  const Step with_authzid = server(Mechanism::kPlain)->start(plain_message("juliet@example.org", kUser, kPassword));
  ASSERT_EQ(with_authzid.kind, Step::kSuccess) << with_authzid.condition;
  EXPECT_EQ(with_authzid.username, kUser);
}

TEST_F(SaslServerTest, PlainAfterAnEmptyChallenge) {
  auto s = server(Mechanism::kPlain);
  const Step challenge = s->start("");
  ASSERT_EQ(challenge.kind, Step::kChallenge);
  EXPECT_TRUE(challenge.data.empty());
  EXPECT_EQ(s->respond(plain_message("", kUser, kPassword)).kind, Step::kSuccess);
}

TEST_F(SaslServerTest, PlainPreparesThePassword) {
  std::string error;
  ASSERT_TRUE(store_->set_password(kHost, "romeo", "two words", 4096, error)) << error;
  const Step step = server(Mechanism::kPlain)->start(plain_message("", "romeo", "two\xC2\xA0words"));
  EXPECT_EQ(step.kind, Step::kSuccess) << step.condition;
}

TEST_F(SaslServerTest, PlainWrongPasswordOrUser) {
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", kUser, "r0m30myr0m31")), kNotAuthorized);
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", kUser, "R0M30MYR0M30")), kNotAuthorized);
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", "ghost", kPassword)), kNotAuthorized);
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", "Juliet", kPassword)), kNotAuthorized);
  expect_failure(server(Mechanism::kPlain)->start(plain_message("", kUser, "bad\x01")), kNotAuthorized);
}

TEST_F(SaslServerTest, PlainAuthzidMismatch) {
  for (const char* authzid : {"romeo@example.org", "juliet@example.net", "juliet", "juliet@example.org/r"})
    expect_failure(server(Mechanism::kPlain)->start(plain_message(authzid, kUser, kPassword)), kInvalidAuthzid);
}

TEST_F(SaslServerTest, PlainMalformed) {
  for (const std::string& message : {
           std::string("juliet"),                       // no NUL
           std::string("juliet\0r0m30myr0m30", 19),     // one NUL
           plain_message("", "", kPassword),            // empty authcid
           plain_message("", kUser, ""),                // empty password
           plain_message("", kUser, kPassword) + '\0',  // a third NUL
           plain_message("", kUser, "bad\xC3"),         // invalid UTF-8
           plain_message("\xFF", kUser, kPassword),     // invalid UTF-8 authzid
       })
    expect_failure(server(Mechanism::kPlain)->start(message), kMalformedRequest);
}

TEST_F(SaslServerTest, Anonymous) {
  const Step a = server(Mechanism::kAnonymous)->start("");
  const Step b = server(Mechanism::kAnonymous)->start("trace@example.com");
  ASSERT_EQ(a.kind, Step::kSuccess);
  ASSERT_EQ(b.kind, Step::kSuccess);
  EXPECT_EQ(a.username.size(), 32u);
  EXPECT_EQ(a.username.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a.username, b.username);
  EXPECT_TRUE(a.data.empty());
  expect_failure(server(Mechanism::kAnonymous)->start("bad\xC3"), kMalformedRequest);
  expect_failure(server(Mechanism::kAnonymous)->start(std::string(1021, 'a')), kMalformedRequest);
}

}  // namespace
}  // namespace xmppd::auth
