// Password change and account removal after login, as the router asks for them, against a
// real credential store: done with the account's token, refused (and nothing changed)
// without it, with another account's, or on an anonymous host; the password rules of
// registration.
#include "auth-helper/account_changes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace xmppd::auth {
namespace {

namespace fs = std::filesystem;

constexpr char kHost[] = "example.org";
constexpr char kPassword[] = "r0m30myr0m30";

class AccountChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "xmppd-account-changes-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::string error;
    store_ = CredentialStore::open((dir_ / "credentials.sqlite").string(), error);
    ASSERT_TRUE(store_) << error;
    for (const char* user : {"juliet", "romeo"}) ASSERT_TRUE(store_->set_password(kHost, user, kPassword, 4096, error));
    changes_ = std::make_unique<AccountChanges>(*store_, tokens_);
    changes_->set_anonymous_hosts({"anon.example.org"});
  }
  void TearDown() override {
    changes_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Whether `password` is the account's, as a SCRAM-SHA-256 login would find.
  bool password_is(const std::string& user, const std::string& password) {
    auto credential = store_->find(kHost, user, ScramHash::kSha256);
    if (!credential) return false;
    SecretBytes salted = salted_password(ScramHash::kSha256, password, credential->salt, credential->iterations);
    SecretBytes key = client_key(ScramHash::kSha256, salted.view());
    return stored_key(ScramHash::kSha256, key.view()) == credential->stored_key;
  }
  ipc::AccountChangeResult change(const std::string& host, const std::string& user, const std::string& token,
                                  const std::string& password) {
    ipc::PasswordChange request;
    request.set_query(7);
    request.set_host(host);
    request.set_username(user);
    request.set_token(token);
    request.set_password(password);
    return changes_->change_password(request);
  }
  ipc::AccountChangeResult remove(const std::string& host, const std::string& user, const std::string& token) {
    ipc::AccountRemoval request;
    request.set_query(8);
    request.set_host(host);
    request.set_username(user);
    request.set_token(token);
    return changes_->remove(request);
  }

  fs::path dir_;
  std::unique_ptr<CredentialStore> store_;
  AccountTokens tokens_{std::array<std::uint8_t, AccountTokens::kKeySize>{9}};
  std::unique_ptr<AccountChanges> changes_;
};

TEST_F(AccountChangesTest, PasswordChangedWithTheAccountsToken) {
  auto r = change(kHost, "juliet", tokens_.issue(kHost, "juliet"), "new secret");
  EXPECT_EQ(r.query(), 7u);
  EXPECT_TRUE(r.ok()) << r.condition();
  EXPECT_TRUE(password_is("juliet", "new secret"));
  EXPECT_FALSE(password_is("juliet", kPassword));
  EXPECT_TRUE(password_is("romeo", kPassword));
}

TEST_F(AccountChangesTest, RefusedWithoutTheAccountsToken) {
  // Another account's token, a token of another key, none, a forged one.
  AccountTokens other(std::array<std::uint8_t, AccountTokens::kKeySize>{10});
  for (const std::string& token : {tokens_.issue(kHost, "romeo"), other.issue(kHost, "juliet"), std::string(),
                                   std::string(32, 'x')}) {
    auto r = change(kHost, "juliet", token, "new secret");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.condition(), "not-authorized");
    r = remove(kHost, "juliet", token);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.condition(), "not-authorized");
  }
  EXPECT_TRUE(password_is("juliet", kPassword));
  EXPECT_TRUE(store_->exists(kHost, "juliet"));
}

TEST_F(AccountChangesTest, PasswordRulesOfRegistration) {
  const std::string token = tokens_.issue(kHost, "juliet");
  auto r = change(kHost, "juliet", token, "");
  EXPECT_EQ(r.condition(), "not-acceptable");
  r = change(kHost, "juliet", token, std::string("a\x07" "b"));  // SASLprep prohibits controls
  EXPECT_EQ(r.condition(), "not-acceptable");
  EXPECT_TRUE(password_is("juliet", kPassword));
}

TEST_F(AccountChangesTest, AnonymousHostHasNoAccountToChange) {
  const char kAnon[] = "anon.example.org";
  EXPECT_EQ(change(kAnon, "abc", tokens_.issue(kAnon, "abc"), "x").condition(), "not-allowed");
  EXPECT_EQ(remove(kAnon, "abc", tokens_.issue(kAnon, "abc")).condition(), "not-allowed");
}

TEST_F(AccountChangesTest, AccountRemovedWithItsToken) {
  const std::string token = tokens_.issue(kHost, "juliet");
  auto r = remove(kHost, "juliet", token);
  EXPECT_EQ(r.query(), 8u);
  EXPECT_TRUE(r.ok()) << r.condition();
  EXPECT_FALSE(store_->exists(kHost, "juliet"));
  EXPECT_TRUE(store_->exists(kHost, "romeo"));
  // Gone: neither removed again nor given a password (which would make it anew).
  EXPECT_EQ(remove(kHost, "juliet", token).condition(), "not-authorized");
  EXPECT_EQ(change(kHost, "juliet", token, "again").condition(), "not-authorized");
  EXPECT_FALSE(store_->exists(kHost, "juliet"));
}

}  // namespace
}  // namespace xmppd::auth
