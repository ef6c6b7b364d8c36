// The credential store: one SQLite file with, per account, a SCRAM-SHA-1 and a SCRAM-SHA-256
// credential (salt, iteration count, StoredKey, ServerKey). Passwords are never stored: they
// are turned into credentials on the way in and forgotten.
//
// Only the auth helper opens this file. Usernames are stored and looked up exactly as given;
// normalising localparts is the caller's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth-helper/scram.h"
#include "common/sqlite.h"

namespace xmppd::auth {

class CredentialStore {
 public:
  // Kept in PRAGMA user_version. A file with a larger number was written by a newer xmppd and
  // is refused rather than misread.
  static constexpr int kSchemaVersion = 1;
  // Bytes of fresh random salt per credential.
  static constexpr std::size_t kSaltSize = 16;

  // Opens or creates the store at `path` (no symbolic link allowed in it), in WAL mode with
  // synchronous=FULL, and creates the schema in a new file. nullptr and `error` on failure,
  // e.g. a file that is not a SQLite database or has a newer schema.
  static std::unique_ptr<CredentialStore> open(const std::string& path, std::string& error);

  CredentialStore(const CredentialStore&) = delete;
  CredentialStore& operator=(const CredentialStore&) = delete;
  ~CredentialStore();

  // Stores SHA-1 and SHA-256 credentials for the SASLprep of `password`, each with its own
  // fresh salt, in one transaction, replacing any the account had. Refuses an empty host or
  // username, a password that SASLprep refuses or maps to nothing, and fewer iterations than
  // kMinIterations (or more than INT_MAX, which PBKDF2 cannot take).
  bool set_password(std::string_view host, std::string_view username, std::string_view password,
                    std::uint32_t iterations, std::string& error);
  // An account moved from another server (xmppctl import prosody) with its SCRAM-SHA-1
  // credential as that server kept it: the SHA-1 row is written and any SHA-256 row removed,
  // in one transaction. Such an account is "SHA-1-only" until its password is next seen in
  // the clear (a PLAIN login, a password change), when set_password() stores both again.
  bool set_sha1_credential(std::string_view host, std::string_view username, const ScramCredential& sha1,
                           std::string& error);
  // How many accounts of `host` have a SHA-1 credential and no SHA-256 one.
  std::size_t sha1_only_accounts(std::string_view host);
  // The hosts that have such accounts, sorted.
  std::vector<std::string> sha1_only_hosts();
  // Deletes the account's credentials. False with `error` if there was no such account or the
  // database failed.
  bool remove(std::string_view host, std::string_view username, std::string& error);
  // False also if the database failed.
  bool exists(std::string_view host, std::string_view username);
  // The account's credential for `hash`, or nullopt. When `error` is given, it is set on a
  // database failure or a malformed row and left empty when there is simply no such account:
  // the SASL server answers temporary-auth-failure to the one, a normal exchange to the other.
  std::optional<ScramCredential> find(std::string_view host, std::string_view username, ScramHash hash,
                                      std::string* error = nullptr);
  struct AccountName {
    std::string username;
    bool sha1_only = false;  // a SCRAM-SHA-1 credential alone (imported from Prosody)
  };
  // The first `limit` accounts of `host`, sorted by username (xmppctl users). False with
  // `error` if the database failed.
  bool usernames(std::string_view host, std::size_t limit, std::vector<AccountName>& out, std::string& error);
  // The iteration count most credentials use (kMinIterations for an empty store): the SASL
  // server offers it for unknown users, so that their challenges look like real ones.
  std::uint32_t common_iterations();

 private:
  CredentialStore(sqlite::Database db, std::string path);
  bool prepare_statements(std::string& error);
  bool write_credentials(std::string_view host, std::string_view username, const ScramCredential& sha1,
                         const ScramCredential& sha256, std::string& error);
  bool insert(std::string_view host, std::string_view username, const ScramCredential& credential);
  bool run(sqlite3_stmt* statement);
  std::string describe_error() const;

  // Declared first so that it is destroyed last, after every statement on it is finalized.
  sqlite::Database db_;
  std::string path_;
  sqlite::Statement begin_, commit_, rollback_, insert_, delete_, exists_, find_, iterations_, usernames_;
  std::optional<std::uint32_t> common_iterations_;  // cached; forgotten on every write
};

}  // namespace xmppd::auth
