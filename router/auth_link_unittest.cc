// What the router takes from the auth helper in a SASL failure: an RFC 6120 condition (it
// becomes an element in the client's stream), and an unsupported channel binding type only
// as a cb-name with invalid-mechanism (it goes to the log, and the stream does not count it);
// and what an account change's answer may say.
#include "router/auth_link.h"

#include <gtest/gtest.h>

#include <string>

namespace xmppd::router {
namespace {

ipc::SaslFailure failure(const std::string& condition, const std::string& binding = {}) {
  ipc::SaslFailure f;
  f.set_attempt(1);
  f.set_condition(condition);
  f.set_unsupported_channel_binding(binding);
  return f;
}

TEST(AuthLinkFailure, ConditionsAreRfc6120Ones) {
  for (const char* condition : {"not-authorized", "temporary-auth-failure", "invalid-mechanism", "malformed-request",
                                "invalid-authzid", "aborted"})
    EXPECT_EQ(refused_failure(failure(condition)), nullptr) << condition;
  for (const char* condition : {"", "not-authorized/><success", "Not-Authorized", "bad-request"})
    EXPECT_NE(refused_failure(failure(condition)), nullptr) << condition;
}

TEST(AuthLinkFailure, UnsupportedChannelBindingOnlyWithInvalidMechanism) {
  EXPECT_EQ(refused_failure(failure("invalid-mechanism", "tls-unique")), nullptr);
  EXPECT_EQ(refused_failure(failure("invalid-mechanism", "tls-server-end-point")), nullptr);
  // A wrong password cannot be passed off as a binding type, to escape the stream's count.
  EXPECT_NE(refused_failure(failure("not-authorized", "tls-unique")), nullptr);
  // It goes into the log: a cb-name (RFC 5056), and short.
  EXPECT_NE(refused_failure(failure("invalid-mechanism", "tls unique")), nullptr);
  EXPECT_NE(refused_failure(failure("invalid-mechanism", "tls-unique\n")), nullptr);
  EXPECT_NE(refused_failure(failure("invalid-mechanism", std::string(65, 'a'))), nullptr);
  EXPECT_EQ(refused_failure(failure("invalid-mechanism", std::string(64, 'a'))), nullptr);
}

// An account change's refusal becomes a stanza error condition in the client's stream.
TEST(AuthLinkAccountChange, ConditionsTheHelperMayGive) {
  for (const char* condition : {"not-authorized", "not-acceptable", "not-allowed", "internal-server-error"})
    EXPECT_TRUE(valid_change_condition(condition)) << condition;
  for (const char* condition : {"", "conflict", "not-authorized/><x", "Not-Authorized", "remote-server-not-found"})
    EXPECT_FALSE(valid_change_condition(condition)) << condition;
}

}  // namespace
}  // namespace xmppd::router
