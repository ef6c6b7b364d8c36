#include "auth-helper/credential_store.h"

#include <openssl/rand.h>
#include <sqlite3.h>

#include <climits>
#include <utility>

namespace xmppd::auth {

using sqlite::bind_blob;
using sqlite::bind_text;
using sqlite::column_blob;
using sqlite::execute;
using sqlite::prepare;

namespace {

// One row per account, host and hash. The CHECKs repeat what set_password enforces, so that a
// row written by anything else is refused by SQLite rather than trusted later.
constexpr std::string_view kCreateAccounts = R"sql(
CREATE TABLE accounts (
  host       TEXT    NOT NULL,
  username   TEXT    NOT NULL,
  hash       TEXT    NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256')),
  salt       BLOB    NOT NULL CHECK (length(salt) > 0),
  iterations INTEGER NOT NULL CHECK (iterations >= 4096),
  stored_key BLOB    NOT NULL,
  server_key BLOB    NOT NULL,
  PRIMARY KEY (host, username, hash)
))sql";

bool bind_account(sqlite3_stmt* statement, std::string_view host, std::string_view username) {
  return bind_text(statement, 1, host) && bind_text(statement, 2, username);
}

// The first read of the file: a file that is not a database fails here.
bool read_user_version(sqlite3* db, int& version) {
  sqlite::Statement statement = prepare(db, "PRAGMA user_version");
  if (!statement || sqlite3_step(statement.get()) != SQLITE_ROW) return false;
  version = sqlite3_column_int(statement.get(), 0);
  return true;
}

// Creates the schema in a new file. A file at version 0 that already has an `accounts` table
// is not ours: CREATE TABLE fails on it rather than adopting it. `message` says what failed.
bool create_schema(sqlite3* db, std::string& message) {
  if (!execute(db, "BEGIN IMMEDIATE")) {
    message = sqlite3_errmsg(db);
    return false;
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(CredentialStore::kSchemaVersion);
  int version = 0;
  // Read again inside the transaction: another connection may have created the schema since.
  bool ok = read_user_version(db, version);
  if (ok && version == 0) ok = execute(db, kCreateAccounts) && execute(db, set_version);
  if (ok && execute(db, "COMMIT")) return true;
  message = sqlite3_errmsg(db);  // before the rollback replaces it
  execute(db, "ROLLBACK");
  return false;
}

}  // namespace

CredentialStore::CredentialStore(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

CredentialStore::~CredentialStore() = default;

std::unique_ptr<CredentialStore> CredentialStore::open(const std::string& path, std::string& error) {
  // SQLite would open a throwaway temporary database for "", and forget every account.
  if (path.empty()) {
    error = "credential store: no path given";
    return nullptr;
  }
  sqlite3* raw = nullptr;
  // NOFOLLOW: whoever could plant a symbolic link here must not choose the file we trust.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
  sqlite::Database db(raw);  // owns the handle even when opening failed
  const auto fail = [&](std::string_view what) {
    error = "credential store " + path + ": " + std::string(what);
    return nullptr;
  };
  if (db && sqlite3_extended_errcode(db.get()) == SQLITE_CANTOPEN_SYMLINK)
    return fail("the path has a symbolic link in it, which is refused");
  if (rc != SQLITE_OK) return fail(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db.get(), 1);

  int version = 0;
  if (!read_user_version(db.get(), version)) return fail(sqlite3_errmsg(db.get()));
  if (version > kSchemaVersion)
    return fail("schema version " + std::to_string(version) + " is newer than this xmppd understands (" +
                std::to_string(kSchemaVersion) + "); refusing to open it");
  if (version < 0) return fail("schema version " + std::to_string(version) + " is not one xmppd writes");

  std::string mode;
  if (!execute(db.get(), "PRAGMA journal_mode = WAL", &mode)) return fail(sqlite3_errmsg(db.get()));
  if (mode != "wal") return fail("cannot use WAL journal mode (the journal mode is '" + mode + "')");
  // FULL: a password change the client was told succeeded survives a power cut.
  // secure_delete: replaced and removed credentials are overwritten, not left in free pages.
  if (!execute(db.get(), "PRAGMA synchronous = FULL") || !execute(db.get(), "PRAGMA secure_delete = ON"))
    return fail(sqlite3_errmsg(db.get()));
  if (std::string message; version < kSchemaVersion && !create_schema(db.get(), message)) return fail(message);

  std::unique_ptr<CredentialStore> store(new CredentialStore(std::move(db), path));
  if (!store->prepare_statements(error)) return nullptr;
  return store;
}

bool CredentialStore::prepare_statements(std::string& error) {
  sqlite3* db = db_.get();
  begin_ = prepare(db, "BEGIN IMMEDIATE");
  commit_ = prepare(db, "COMMIT");
  rollback_ = prepare(db, "ROLLBACK");
  insert_ = prepare(db,
                    "INSERT OR REPLACE INTO accounts (host, username, hash, salt, iterations, stored_key, server_key) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  delete_ = prepare(db, "DELETE FROM accounts WHERE host = ?1 AND username = ?2");
  exists_ = prepare(db, "SELECT 1 FROM accounts WHERE host = ?1 AND username = ?2 LIMIT 1");
  find_ = prepare(db,
                  "SELECT salt, iterations, stored_key, server_key FROM accounts "
                  "WHERE host = ?1 AND username = ?2 AND hash = ?3");
  iterations_ = prepare(db,
                        "SELECT iterations FROM accounts GROUP BY iterations "
                        "ORDER BY count(*) DESC, iterations DESC LIMIT 1");
  usernames_ = prepare(db,
                       "SELECT username, max(hash = 'SHA-256') FROM accounts WHERE host = ?1 GROUP BY username "
                       "ORDER BY username");
  if (begin_ && commit_ && rollback_ && insert_ && delete_ && exists_ && find_ && iterations_ && usernames_) return true;
  error = describe_error();
  return false;
}

std::string CredentialStore::describe_error() const {
  return "credential store " + path_ + ": " + sqlite3_errmsg(db_.get());
}

bool CredentialStore::run(sqlite3_stmt* statement) {
  const sqlite::Use use(statement);
  return sqlite3_step(statement) == SQLITE_DONE;
}

bool CredentialStore::set_password(std::string_view host, std::string_view username, std::string_view password,
                                   std::uint32_t iterations, std::string& error) {
  if (host.empty() || username.empty()) {
    error = "an account needs a host and a username";
    return false;
  }
  if (iterations < kMinIterations || iterations > INT_MAX) {
    error = "iteration count " + std::to_string(iterations) + " is outside " + std::to_string(kMinIterations) + ".." +
            std::to_string(INT_MAX);
    return false;
  }
  std::optional<std::string> prepared = saslprep(password);
  if (!prepared) {
    error = "the password is not valid UTF-8 or contains characters SASLprep prohibits";
    return false;
  }
  const SecretBytes prepped(std::move(*prepared));
  if (prepped.empty()) {
    error = "the password is empty";
    return false;
  }
  ScramCredential credentials[2];
  const ScramHash hashes[2] = {ScramHash::kSha1, ScramHash::kSha256};
  for (int i = 0; i < 2; ++i) {
    std::string salt(kSaltSize, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1) {
      error = "no random bytes for a salt";
      return false;
    }
    credentials[i] = make_credential(hashes[i], prepped.view(), salt, iterations);
    if (credentials[i].stored_key.empty()) {
      error = "computing the SCRAM credential failed";
      return false;
    }
  }
  return write_credentials(host, username, credentials[0], credentials[1], error);
}

bool CredentialStore::write_credentials(std::string_view host, std::string_view username, const ScramCredential& sha1,
                                        const ScramCredential& sha256, std::string& error) {
  common_iterations_.reset();
  if (!run(begin_.get())) {
    error = describe_error();
    return false;
  }
  if (insert(host, username, sha1) && insert(host, username, sha256) && run(commit_.get())) return true;
  error = describe_error();  // before the rollback replaces the message
  run(rollback_.get());
  return false;
}

bool CredentialStore::insert(std::string_view host, std::string_view username, const ScramCredential& credential) {
  sqlite3_stmt* statement = insert_.get();
  const sqlite::Use use(statement);
  return bind_account(statement, host, username) && bind_text(statement, 3, hash_name(credential.hash)) &&
         bind_blob(statement, 4, credential.salt) &&
         sqlite3_bind_int64(statement, 5, credential.iterations) == SQLITE_OK &&
         bind_blob(statement, 6, credential.stored_key) && bind_blob(statement, 7, credential.server_key) &&
         sqlite3_step(statement) == SQLITE_DONE;
}

bool CredentialStore::set_sha1_credential(std::string_view host, std::string_view username,
                                          const ScramCredential& sha1, std::string& error) {
  const std::size_t size = digest_size(ScramHash::kSha1);
  if (host.empty() || username.empty() || sha1.hash != ScramHash::kSha1 || sha1.salt.empty() ||
      sha1.iterations < kMinIterations || sha1.iterations > INT_MAX || sha1.stored_key.size() != size ||
      sha1.server_key.size() != size) {
    error = "not a SCRAM-SHA-1 credential xmppd can keep";
    return false;
  }
  common_iterations_.reset();
  if (!run(begin_.get())) {
    error = describe_error();
    return false;
  }
  sqlite::Statement drop =
      prepare(db_.get(), "DELETE FROM accounts WHERE host = ?1 AND username = ?2 AND hash = 'SHA-256'");
  bool ok = drop && bind_account(drop.get(), host, username) && sqlite3_step(drop.get()) == SQLITE_DONE;
  drop.reset();  // finalized before COMMIT
  if (ok && insert(host, username, sha1) && run(commit_.get())) return true;
  error = describe_error();
  run(rollback_.get());
  return false;
}

std::size_t CredentialStore::sha1_only_accounts(std::string_view host) {
  sqlite::Statement count = prepare(db_.get(),
                                    "SELECT count(*) FROM accounts a WHERE host = ?1 AND hash = 'SHA-1' AND NOT EXISTS "
                                    "(SELECT 1 FROM accounts b WHERE b.host = a.host AND b.username = a.username "
                                    "AND b.hash = 'SHA-256')");
  if (!count || !bind_text(count.get(), 1, host) || sqlite3_step(count.get()) != SQLITE_ROW) return 0;
  return static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0));
}

std::vector<std::string> CredentialStore::sha1_only_hosts() {
  std::vector<std::string> hosts;
  sqlite::Statement select = prepare(db_.get(),
                                     "SELECT DISTINCT host FROM accounts a WHERE hash = 'SHA-1' AND NOT EXISTS "
                                     "(SELECT 1 FROM accounts b WHERE b.host = a.host AND b.username = a.username "
                                     "AND b.hash = 'SHA-256') ORDER BY host");
  while (select && sqlite3_step(select.get()) == SQLITE_ROW)
    hosts.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 0)));
  return hosts;
}

bool CredentialStore::remove(std::string_view host, std::string_view username, std::string& error) {
  common_iterations_.reset();
  sqlite3_stmt* statement = delete_.get();
  const sqlite::Use use(statement);
  if (!bind_account(statement, host, username) || sqlite3_step(statement) != SQLITE_DONE) {
    error = describe_error();
    return false;
  }
  if (sqlite3_changes(db_.get()) == 0) {
    error = "no account " + std::string(username) + "@" + std::string(host);
    return false;
  }
  return true;
}

bool CredentialStore::usernames(std::string_view host, std::size_t limit, std::vector<AccountName>& out,
                                std::string& error) {
  sqlite3_stmt* statement = usernames_.get();
  const sqlite::Use use(statement);
  if (!bind_text(statement, 1, host)) {
    error = describe_error();
    return false;
  }
  int rc = SQLITE_DONE;
  while (out.size() < limit && (rc = sqlite3_step(statement)) == SQLITE_ROW)
    out.push_back({sqlite::column_text(statement, 0), sqlite3_column_int(statement, 1) == 0});
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
  error = describe_error();
  return false;
}

bool CredentialStore::exists(std::string_view host, std::string_view username) {
  sqlite3_stmt* statement = exists_.get();
  const sqlite::Use use(statement);
  return bind_account(statement, host, username) && sqlite3_step(statement) == SQLITE_ROW;
}

std::optional<ScramCredential> CredentialStore::find(std::string_view host, std::string_view username, ScramHash hash,
                                                     std::string* error) {
  if (error != nullptr) error->clear();
  sqlite3_stmt* statement = find_.get();
  const sqlite::Use use(statement);
  const int rc = bind_account(statement, host, username) && bind_text(statement, 3, hash_name(hash))
                     ? sqlite3_step(statement)
                     : SQLITE_ERROR;
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) {
    if (error != nullptr) *error = describe_error();
    return std::nullopt;
  }
  const sqlite3_int64 iterations = sqlite3_column_int64(statement, 1);
  ScramCredential credential{hash, column_blob(statement, 0), static_cast<std::uint32_t>(iterations),
                             column_blob(statement, 2), column_blob(statement, 3)};
  const std::size_t size = digest_size(hash);
  if (sqlite3_column_type(statement, 1) != SQLITE_INTEGER || iterations < kMinIterations || iterations > INT_MAX ||
      credential.salt.empty() || credential.stored_key.size() != size || credential.server_key.size() != size) {
    if (error != nullptr) *error = "credential store " + path_ + ": malformed " + std::string(hash_name(hash)) + " row";
    return std::nullopt;
  }
  return credential;
}

std::uint32_t CredentialStore::common_iterations() {
  if (common_iterations_) return *common_iterations_;
  sqlite3_stmt* statement = iterations_.get();
  const sqlite::Use use(statement);
  const int rc = sqlite3_step(statement);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return kMinIterations;  // not cached: try again next time
  std::uint32_t value = kMinIterations;
  if (rc == SQLITE_ROW) {
    const sqlite3_int64 found = sqlite3_column_int64(statement, 0);
    if (found >= kMinIterations && found <= INT_MAX) value = static_cast<std::uint32_t>(found);
  }
  common_iterations_ = value;
  return value;
}

}  // namespace xmppd::auth
