// SASL messages as the auth helper receives them (auth-helper/sasl_server.h), against a real
// credential store in a temporary folder holding one account.
//
// Input: one byte of options (mechanism, whether -PLUS was offered, whether the TLS session
// has channel binding data, deferred verification), then up to four raw SASL messages
// separated by 0xff (never a byte of UTF-8). In a response, "r=%", "c=%" and "p=%" stand for
// the nonce the server chose, the right channel binding input and the right proof, which a
// fuzzer could not guess: this lets it reach the proof check and the success path.
// Invariant: a success is for the stored account only, and only with the right password
// (PLAIN) or the proof that password gives for the exchange as this harness saw it (SCRAM),
// with the server signature that goes with it; ANONYMOUS alone succeeds for anyone.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth-helper/credential_store.h"
#include "auth-helper/sasl_server.h"
#include "auth-helper/scram.h"

namespace {

using namespace xmppd::auth;
using Step = SaslServer::Step;

constexpr std::string_view kHost = "example.org";
constexpr std::string_view kUser = "juliet";
constexpr std::string_view kPassword = "r0m30myr0m30";
constexpr std::string_view kBinding("exporter-bytes\x00\x01\xff", 17);

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

struct Fixture {
  std::string dir;
  std::unique_ptr<CredentialStore> store;
  std::string client_key_sha1, client_key_sha256;  // of kUser's credentials
  std::string server_key_sha1, server_key_sha256;
};

Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    char pattern[] = "/tmp/sasl-fuzz-XXXXXX";
    check(mkdtemp(pattern) != nullptr, "mkdtemp");
    fx->dir = pattern;
    std::string error;
    fx->store = CredentialStore::open(fx->dir + "/credentials.db", error);
    check(fx->store != nullptr, "open the store");
    check(fx->store->set_password(kHost, kUser, kPassword, kMinIterations, error), "set the password");
    for (ScramHash hash : {ScramHash::kSha1, ScramHash::kSha256}) {
      std::optional<ScramCredential> c = fx->store->find(kHost, kUser, hash);
      check(c.has_value(), "find the credential");
      SecretBytes salted = salted_password(hash, kPassword, c->salt, c->iterations);
      std::string client(client_key(hash, salted.view()).view());
      (hash == ScramHash::kSha1 ? fx->client_key_sha1 : fx->client_key_sha256) = client;
      (hash == ScramHash::kSha1 ? fx->server_key_sha1 : fx->server_key_sha256) = server_key(hash, salted.view());
    }
    // The folder goes when the fuzzer exits.
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(fixture().dir, ignored);
    });
    return fx;
  }();
  return *f;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
}

// What the harness knows of a SCRAM exchange so far.
struct Exchange {
  std::string gs2_header, bare, server_first, nonce;
  bool bound = false;
};

void note_first(Exchange& x, std::string_view first) {
  std::size_t a = first.find(',');
  std::size_t b = a == std::string_view::npos ? a : first.find(',', a + 1);
  if (b == std::string_view::npos) return;
  x.gs2_header = first.substr(0, b + 1);
  x.bare = first.substr(b + 1);
  x.bound = first.starts_with("p=");
}

// Fills in the placeholders of a client-final message.
std::string complete_final(const Exchange& x, std::string message, ScramHash hash) {
  replace_all(message, "r=%", "r=" + x.nonce);
  replace_all(message, "c=%", "c=" + base64_encode(x.gs2_header + (x.bound ? std::string(kBinding) : "")));
  std::size_t p = message.rfind(",p=%");
  if (p != std::string::npos && p + 4 == message.size()) {
    const std::string auth = x.bare + "," + x.server_first + "," + message.substr(0, p);
    const Fixture& f = fixture();
    const std::string& key = hash == ScramHash::kSha1 ? f.client_key_sha1 : f.client_key_sha256;
    message = message.substr(0, p) + ",p=" + base64_encode(client_proof(hash, key, auth));
  }
  return message;
}

void check_scram_success(const Exchange& x, std::string_view final, const Step& step, ScramHash hash) {
  check(step.username == kUser, "SCRAM success for an account that is not stored");
  std::size_t p = final.rfind(",p=");
  check(p != std::string_view::npos, "SCRAM success without a proof");
  const std::string auth = x.bare + "," + x.server_first + "," + std::string(final.substr(0, p));
  const Fixture& f = fixture();
  const std::string& key = hash == ScramHash::kSha1 ? f.client_key_sha1 : f.client_key_sha256;
  const std::optional<std::string> proof = base64_decode(final.substr(p + 3));
  check(proof && *proof == client_proof(hash, key, auth), "SCRAM success without the right proof");
  const std::string& server = hash == ScramHash::kSha1 ? f.server_key_sha1 : f.server_key_sha256;
  check(step.data == "v=" + base64_encode(server_signature(hash, server, auth)), "wrong server signature");
}

void check_plain_success(std::string_view message, const Step& step) {
  check(step.username == kUser, "PLAIN success for an account that is not stored");
  std::size_t second = message.find('\0', message.find('\0') + 1);
  check(second != std::string_view::npos, "PLAIN success without a password");
  check(saslprep(message.substr(second + 1)) == std::string(kPassword), "PLAIN success with a wrong password");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Fixture& f = fixture();
  const std::uint8_t options = data[0];
  constexpr Mechanism kMechanisms[] = {Mechanism::kScramSha256Plus, Mechanism::kScramSha1Plus, Mechanism::kScramSha256,
                                       Mechanism::kScramSha1,       Mechanism::kPlain,         Mechanism::kAnonymous};
  const Mechanism mechanism = kMechanisms[(options & 7) % 6];
  const bool offered = options & 0x08, has_binding = options & 0x10, deferred = options & 0x20;
  const ScramHash hash = mechanism == Mechanism::kScramSha1 || mechanism == Mechanism::kScramSha1Plus
                             ? ScramHash::kSha1
                             : ScramHash::kSha256;

  std::vector<std::string> messages;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (messages.size() < 4) {
    std::size_t cut = rest.find('\xff');
    messages.emplace_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }

  SaslServer server(*f.store, std::string(kHost), mechanism, has_binding ? std::string(kBinding) : std::string(),
                    offered);
  server.set_deferred_verification(deferred);
  Exchange x;
  bool done = false;
  for (std::size_t i = 0; i < messages.size() && !done; ++i) {
    std::string message = messages[i];
    if (is_scram(mechanism) && !x.nonce.empty()) message = complete_final(x, message, hash);
    Step step = i == 0 ? server.start(message) : server.respond(message);
    if (step.kind == Step::kVerify) step = server.verify();
    if (is_scram(mechanism) && step.kind == Step::kChallenge && x.nonce.empty() && step.data.starts_with("r=")) {
      note_first(x, message);
      x.server_first = step.data;
      x.nonce = step.data.substr(2, step.data.find(',') - 2);
      check(x.nonce.size() > 0, "empty server nonce");
    }
    switch (step.kind) {
      case Step::kSuccess:
        if (mechanism == Mechanism::kAnonymous) break;
        if (is_scram(mechanism))
          check_scram_success(x, message, step, hash);
        else
          check_plain_success(message, step);
        break;
      case Step::kFailure:
        check(!step.condition.empty(), "failure without a condition");
        done = true;
        break;
      case Step::kChallenge:
        check(step.data.size() <= kMaxSaslMessage, "challenge too long");
        break;
      case Step::kVerify:
        check(false, "kVerify after verify()");
    }
    if (step.kind == Step::kSuccess) {
      // Nothing may follow a success.
      Step after = server.respond("");
      check(after.kind == Step::kFailure, "a step after success did not fail");
      done = true;
    }
  }
  return 0;
}
