// The credential store in a scratch directory: what set_password keeps (two credentials, fresh
// salts, never the password), what find/exists/remove answer, that it persists, and how it
// refuses files it must not use (newer schema, not a database, someone else's table).
#include "auth-helper/credential_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::auth {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHost = "example.org";
constexpr std::string_view kPassword = "Tr0ub4dor&3-unique-marker";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

// Runs SQL on the file directly, as another program would.
void run_sql(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

int user_version(const fs::path& path) {
  sqlite3* db = nullptr;
  int version = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
      version = sqlite3_column_int(statement, 0);
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return version;
}

class CredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "xmppd-credential-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ / "credentials.sqlite";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CredentialStore> open_store() {
    std::string error;
    std::unique_ptr<CredentialStore> store = CredentialStore::open(path_.string(), error);
    EXPECT_TRUE(store) << error;
    EXPECT_TRUE(error.empty()) << error;
    return store;
  }

  fs::path dir_, path_;
};

TEST_F(CredentialStoreTest, SetFindRemove) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  EXPECT_TRUE(store->exists(kHost, "juliet"));

  for (const ScramHash hash : {ScramHash::kSha1, ScramHash::kSha256}) {
    std::string find_error = "not cleared";
    const std::optional<ScramCredential> found = store->find(kHost, "juliet", hash, &find_error);
    ASSERT_TRUE(found);
    EXPECT_TRUE(find_error.empty());
    EXPECT_EQ(found->hash, hash);
    EXPECT_EQ(found->iterations, 4096u);
    EXPECT_EQ(found->salt.size(), CredentialStore::kSaltSize);
    // What is stored is exactly the credential of the password with that salt.
    const ScramCredential expected = make_credential(hash, kPassword, found->salt, 4096);
    EXPECT_EQ(found->stored_key, expected.stored_key);
    EXPECT_EQ(found->server_key, expected.server_key);
  }

  ASSERT_TRUE(store->remove(kHost, "juliet", error)) << error;
  EXPECT_FALSE(store->exists(kHost, "juliet"));
  EXPECT_EQ(store->find(kHost, "juliet", ScramHash::kSha256), std::nullopt);
  EXPECT_EQ(store->find(kHost, "juliet", ScramHash::kSha1), std::nullopt);
}

TEST_F(CredentialStoreTest, SaltsDifferPerHashAndPerCall) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  const auto sha1 = store->find(kHost, "juliet", ScramHash::kSha1);
  const auto sha256 = store->find(kHost, "juliet", ScramHash::kSha256);
  ASSERT_TRUE(sha1 && sha256);
  EXPECT_NE(sha1->salt, sha256->salt);

  ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  const auto sha1_again = store->find(kHost, "juliet", ScramHash::kSha1);
  const auto sha256_again = store->find(kHost, "juliet", ScramHash::kSha256);
  ASSERT_TRUE(sha1_again && sha256_again);
  EXPECT_NE(sha1->salt, sha1_again->salt);
  EXPECT_NE(sha256->salt, sha256_again->salt);
  EXPECT_NE(sha256->stored_key, sha256_again->stored_key);

  // A second account with the same password gets salts of its own too.
  ASSERT_TRUE(store->set_password(kHost, "romeo", kPassword, 4096, error)) << error;
  EXPECT_NE(store->find(kHost, "romeo", ScramHash::kSha256)->salt, sha256_again->salt);
}

TEST_F(CredentialStoreTest, SetPasswordReplacesTheOldCredentials) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", "first password", 4096, error)) << error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", "second password", 5000, error)) << error;
  const auto found = store->find(kHost, "juliet", ScramHash::kSha256);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->iterations, 5000u);
  EXPECT_EQ(found->stored_key, make_credential(ScramHash::kSha256, "second password", found->salt, 5000).stored_key);
}

TEST_F(CredentialStoreTest, PasswordNeverReachesTheFiles) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    std::string error;
    ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
    ASSERT_TRUE(store->set_password(kHost, "romeo", kPassword, 4096, error)) << error;
    // While open, the rows may sit in the write-ahead log: look there too.
    for (const fs::path& file : {path_, fs::path(path_.string() + "-wal")}) {
      if (!fs::exists(file)) continue;
      EXPECT_EQ(read_file(file).find(kPassword), std::string::npos) << file;
    }
  }
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string contents = read_file(entry.path());
    EXPECT_EQ(contents.find(kPassword), std::string::npos) << entry.path();
    EXPECT_EQ(contents.find(kPassword.substr(0, 8)), std::string::npos) << entry.path();
  }
  EXPECT_NE(read_file(path_).find("juliet"), std::string::npos);  // the search does see the file's data
}

TEST_F(CredentialStoreTest, ReopenPersists) {
  std::string error;
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->exists(kHost, "juliet"));
  const auto found = store->find(kHost, "juliet", ScramHash::kSha1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->stored_key, make_credential(ScramHash::kSha1, kPassword, found->salt, 4096).stored_key);
}

TEST_F(CredentialStoreTest, SchemaVersionAndJournalMode) {
  ASSERT_TRUE(open_store());
  EXPECT_EQ(user_version(path_), CredentialStore::kSchemaVersion);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)), "wal");
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST_F(CredentialStoreTest, RefusesANewerSchema) {
  ASSERT_TRUE(open_store());
  run_sql(path_, "PRAGMA user_version = 2");
  std::string error;
  EXPECT_EQ(CredentialStore::open(path_.string(), error), nullptr);
  EXPECT_NE(error.find("schema version 2"), std::string::npos) << error;
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_EQ(user_version(path_), 2);  // and leaves the file alone
}

TEST_F(CredentialStoreTest, RefusesAFileThatIsNotADatabase) {
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage += static_cast<char>((i * 7919 + 13) & 0xFF);
  write_file(path_, garbage);
  std::string error;
  EXPECT_EQ(CredentialStore::open(path_.string(), error), nullptr);
  EXPECT_NE(error.find(path_.string()), std::string::npos) << error;
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
  EXPECT_EQ(read_file(path_), garbage);  // not "repaired" by overwriting
}

TEST_F(CredentialStoreTest, RefusesSomeoneElsesAccountsTable) {
  run_sql(path_, "CREATE TABLE accounts (name TEXT)");
  std::string error;
  EXPECT_EQ(CredentialStore::open(path_.string(), error), nullptr);
  EXPECT_NE(error.find("accounts"), std::string::npos) << error;
  EXPECT_EQ(user_version(path_), 0);
}

TEST_F(CredentialStoreTest, RefusesASymbolicLink) {
  ASSERT_TRUE(open_store());
  const fs::path link = dir_ / "link.sqlite";
  fs::create_symlink(path_, link);
  std::string error;
  EXPECT_EQ(CredentialStore::open(link.string(), error), nullptr);
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
}

TEST_F(CredentialStoreTest, RefusesAMissingDirectoryAndNonFiles) {
  std::string error;
  EXPECT_EQ(CredentialStore::open((dir_ / "missing" / "credentials.sqlite").string(), error), nullptr);
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_EQ(CredentialStore::open("", error), nullptr);  // SQLite would make a temporary database
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_EQ(CredentialStore::open(":memory:", error), nullptr);  // no WAL, nothing kept
  EXPECT_NE(error.find("WAL"), std::string::npos) << error;
}

TEST_F(CredentialStoreTest, RefusesTooFewIterations) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  EXPECT_FALSE(store->set_password(kHost, "juliet", kPassword, 4095, error));
  EXPECT_NE(error.find("4095"), std::string::npos) << error;
  EXPECT_FALSE(store->set_password(kHost, "juliet", kPassword, 0, error));
  EXPECT_FALSE(store->set_password(kHost, "juliet", kPassword, 0x80000000u, error));
  EXPECT_FALSE(store->exists(kHost, "juliet"));
}

TEST_F(CredentialStoreTest, RefusesBadPasswordsAndNames) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  EXPECT_FALSE(store->set_password(kHost, "juliet", "", 4096, error));
  EXPECT_FALSE(store->set_password(kHost, "juliet", "\xC2\xAD", 4096, error));  // SASLprep maps it to nothing
  EXPECT_FALSE(store->set_password(kHost, "juliet", "tab\there", 4096, error));
  EXPECT_FALSE(store->set_password(kHost, "juliet", "bad\xC3", 4096, error));
  EXPECT_FALSE(store->set_password(kHost, "", kPassword, 4096, error));
  EXPECT_FALSE(store->set_password("", "juliet", kPassword, 4096, error));
  EXPECT_FALSE(store->exists(kHost, "juliet"));
}

TEST_F(CredentialStoreTest, StoresTheSaslPrepOfThePassword) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "juliet",
                                  "no\xC2\xA0"
                                  "break",
                                  4096, error))
      << error;
  const auto found = store->find(kHost, "juliet", ScramHash::kSha256);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->stored_key, make_credential(ScramHash::kSha256, "no break", found->salt, 4096).stored_key);
}

TEST_F(CredentialStoreTest, UnknownAccounts) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  std::string find_error = "not cleared";
  EXPECT_EQ(store->find(kHost, "romeo", ScramHash::kSha256, &find_error), std::nullopt);
  EXPECT_TRUE(find_error.empty());  // no such account is not a failure
  EXPECT_EQ(store->find("example.net", "juliet", ScramHash::kSha256), std::nullopt);  // hosts are separate
  EXPECT_EQ(store->find(kHost, "Juliet", ScramHash::kSha256), std::nullopt);          // stored as given
  EXPECT_FALSE(store->exists(kHost, "romeo"));
  EXPECT_FALSE(store->remove(kHost, "romeo", error));
  EXPECT_NE(error.find("romeo"), std::string::npos) << error;
  EXPECT_TRUE(store->exists(kHost, "juliet"));
}

TEST_F(CredentialStoreTest, ReportsAMalformedRow) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    std::string error;
    ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  }
  run_sql(path_, "UPDATE accounts SET stored_key = x'00' WHERE hash = 'SHA-256'");
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  EXPECT_EQ(store->find(kHost, "juliet", ScramHash::kSha256, &error), std::nullopt);
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
  EXPECT_TRUE(store->find(kHost, "juliet", ScramHash::kSha1, &error));
}

TEST_F(CredentialStoreTest, CommonIterations) {
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->common_iterations(), kMinIterations);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "a", kPassword, 5000, error)) << error;
  ASSERT_TRUE(store->set_password(kHost, "b", kPassword, 6000, error)) << error;
  ASSERT_TRUE(store->set_password(kHost, "c", kPassword, 6000, error)) << error;
  EXPECT_EQ(store->common_iterations(), 6000u);
  ASSERT_TRUE(store->remove(kHost, "b", error)) << error;
  ASSERT_TRUE(store->remove(kHost, "c", error)) << error;
  EXPECT_EQ(store->common_iterations(), 5000u);
}

}  // namespace
}  // namespace xmppd::auth

namespace xmppd::auth {
namespace {

// An account imported with its SCRAM-SHA-1 credential alone (xmppctl import prosody): kept
// as given, counted as SHA-1-only, and whole again after set_password.
TEST_F(CredentialStoreTest, Sha1OnlyAccounts) {
  auto store = open_store();
  ASSERT_TRUE(store);
  std::string error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  const ScramCredential sha1 = make_credential(ScramHash::kSha1, kPassword, "a-prosody-salt", 10000);
  ASSERT_TRUE(store->set_sha1_credential(kHost, "romeo", sha1, error)) << error;
  ASSERT_TRUE(store->set_sha1_credential(kHost, "juliet", sha1, error)) << error;  // replaces both
  EXPECT_FALSE(store->find(kHost, "juliet", ScramHash::kSha256));
  auto found = store->find(kHost, "romeo", ScramHash::kSha1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->salt, "a-prosody-salt");
  EXPECT_EQ(found->iterations, 10000u);
  EXPECT_EQ(found->stored_key, sha1.stored_key);
  EXPECT_EQ(store->sha1_only_accounts(kHost), 2u);
  EXPECT_EQ(store->sha1_only_hosts(), std::vector<std::string>{std::string(kHost)});
  ASSERT_TRUE(store->set_password(kHost, "romeo", kPassword, 4096, error)) << error;
  ASSERT_TRUE(store->set_password(kHost, "juliet", kPassword, 4096, error)) << error;
  EXPECT_EQ(store->sha1_only_accounts(kHost), 0u);
  EXPECT_TRUE(store->sha1_only_hosts().empty());
  ScramCredential wrong = sha1;
  wrong.stored_key.resize(32);
  EXPECT_FALSE(store->set_sha1_credential(kHost, "romeo", wrong, error));
}

}  // namespace
}  // namespace xmppd::auth
