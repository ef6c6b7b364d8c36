#include "store/postgres_database.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

namespace xmppd::store {
namespace {

// Type oids of the columns converted to integers (PostgreSQL's catalog/pg_type.h, which only
// the server's headers carry; the numbers are fixed since PostgreSQL 7).
constexpr Oid kInt8 = 20;
constexpr Oid kInt2 = 21;
constexpr Oid kInt4 = 23;
// sum() of integers answers NUMERIC: converted too when it is a whole number that fits.
constexpr Oid kNumeric = 1700;

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

// The server names a prepared statement by its catalog number: "s12".
std::string prepared_name(Statement id) { return "s" + std::to_string(static_cast<unsigned>(id)); }

// libpq's messages end with a newline.
std::string trimmed(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Value column(const PGresult* result, int row, int i) {
  if (PQgetisnull(result, row, i)) return std::monostate{};
  const char* text = PQgetvalue(result, row, i);
  const int length = PQgetlength(result, row, i);
  const Oid type = PQftype(result, i);
  if (type == kInt8 || type == kInt4 || type == kInt2 || type == kNumeric) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text, text + length, n);
    if (ec == std::errc() && end == text + length) return n;
  }
  return std::string(text, static_cast<std::size_t>(length));
}

// The failure was the server's absence rather than the statement's: no result at all, a
// result libpq made up itself (no SQLSTATE: the connection broke while it waited), class 08
// (connection exception) or 57P (the server shutting down or starting). libpq may notice
// the closed socket only at the next call, so its connection status alone is not enough.
bool lost(const PGresult* result) {
  if (result == nullptr) return true;
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (state == nullptr) return true;
  const std::string_view code(state);
  return code.starts_with("08") || code.starts_with("57P");
}

}  // namespace

void PostgresDatabase::Finisher::operator()(pg_conn* connection) const { PQfinish(connection); }

PostgresDatabase::PostgresDatabase(pg_conn* connection)
    : connection_(connection), prepared_(static_cast<std::size_t>(Statement::kCount), false) {}

std::unique_ptr<PostgresDatabase> PostgresDatabase::connect(const std::string& conninfo, std::string& error) {
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(PQconnectdb(conninfo.c_str())));
  if (!db->connection_) {
    error = "PostgreSQL: out of memory";
    return nullptr;
  }
  if (PQstatus(db->connection_.get()) != CONNECTION_OK) {
    error = "PostgreSQL: " + trimmed(PQerrorMessage(db->connection_.get()));
    return nullptr;
  }
  // Notices (a CREATE TABLE IF NOT EXISTS that found the table) would go to stderr.
  PQsetNoticeProcessor(db->connection_.get(), [](void*, const char*) {}, nullptr);
  return db;
}

bool PostgresDatabase::fail(std::string_view what, const PGresult* result) {
  error_ = std::string(what) + ": " + trimmed(PQerrorMessage(connection_.get()));
  unavailable_ = PQstatus(connection_.get()) == CONNECTION_BAD || lost(result);
  return false;
}

bool PostgresDatabase::ensure_connected() {
  // After a failure that looked like the server's absence, a new connection even when libpq
  // has not yet seen the old one close.
  if (PQstatus(connection_.get()) == CONNECTION_OK && !unavailable_) return true;
  // A new connection: the server knows none of the statements prepared on the old one, and
  // a transaction open on it is gone (the caller's batch fails at its next statement).
  PQreset(connection_.get());
  prepared_.assign(prepared_.size(), false);
  if (PQstatus(connection_.get()) == CONNECTION_OK) {
    unavailable_ = false;
    return true;
  }
  error_ = "PostgreSQL is unavailable: " + trimmed(PQerrorMessage(connection_.get()));
  unavailable_ = true;
  return false;
}

bool PostgresDatabase::ensure_prepared(Statement id) {
  const StatementText* entry = statement_text(id);
  if (entry == nullptr) {
    error_ = "statement " + std::to_string(static_cast<unsigned>(id)) + " is not in the catalog";
    unavailable_ = false;
    return false;
  }
  const auto index = static_cast<std::size_t>(id);
  if (prepared_[index]) return true;
  const std::string name = prepared_name(id);
  const std::string sql(entry->postgres.empty() ? entry->sql : entry->postgres);
  Result result(PQprepare(connection_.get(), name.c_str(), sql.c_str(), 0, nullptr));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return fail(entry->name, result.get());
  // The server counts the text's $N: a catalog entry that says otherwise would bind wrongly.
  Result described(PQdescribePrepared(connection_.get(), name.c_str()));
  if (PQresultStatus(described.get()) != PGRES_COMMAND_OK) return fail(entry->name, described.get());
  if (PQnparams(described.get()) != entry->params) {
    error_ = std::string(entry->name) + ": " + std::to_string(PQnparams(described.get())) +
             " placeholders, the catalog says " + std::to_string(entry->params);
    unavailable_ = false;
    return false;
  }
  prepared_[index] = true;
  return true;
}

bool PostgresDatabase::prepare_all() {
  if (!ensure_connected()) return false;
  for (std::size_t i = 0; i < prepared_.size(); ++i)
    if (!ensure_prepared(static_cast<Statement>(i))) return false;
  return true;
}

bool PostgresDatabase::run(Statement id, std::span<const Value> params, std::vector<Row>* rows) {
  if (!ensure_connected() || !ensure_prepared(id)) return false;
  const StatementText* entry = statement_text(id);
  if (static_cast<int>(params.size()) != entry->params) {
    error_ = std::string(entry->name) + ": wrong number of parameters";
    unavailable_ = false;
    return false;
  }
  // Every parameter as text, its type the server's inference from the statement; integers
  // in their decimal form.
  std::vector<std::string> numbers(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (const auto* n = std::get_if<std::int64_t>(&params[i])) {
      numbers[i] = std::to_string(*n);
      values[i] = numbers[i].c_str();
    } else if (const auto* s = std::get_if<std::string>(&params[i])) {
      values[i] = s->c_str();
    }
  }
  const std::string name = prepared_name(id);
  Result result(PQexecPrepared(connection_.get(), name.c_str(), static_cast<int>(values.size()), values.data(),
                               nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return fail(entry->name, result.get());
  unavailable_ = false;
  if (rows == nullptr) return true;
  const int count = PQntuples(result.get());
  const int columns = PQnfields(result.get());
  for (int r = 0; r < count; ++r) {
    Row& row = rows->emplace_back();
    row.reserve(static_cast<std::size_t>(columns));
    for (int i = 0; i < columns; ++i) row.push_back(column(result.get(), r, i));
  }
  return true;
}

bool PostgresDatabase::run_batch(Statement id, std::span<const Row> batch) {
  for (const Row& row : batch)
    if (!run(id, row)) return false;
  return true;
}

bool PostgresDatabase::execute(std::string_view sql, std::string* first) {
  if (!ensure_connected()) return false;
  const std::string text(sql);
  Result result(PQexec(connection_.get(), text.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return fail(text.substr(0, 60), result.get());
  unavailable_ = false;
  if (first != nullptr && PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0)
    *first = PQgetvalue(result.get(), 0, 0);
  return true;
}

int PostgresDatabase::server_pid() const { return PQbackendPID(connection_.get()); }

}  // namespace xmppd::store
