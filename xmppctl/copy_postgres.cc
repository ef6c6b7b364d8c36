// The PostgreSQL end of xmppctl store copy (store_copy.h), over libpq: rows are read in
// single-row mode (a table of any size is never held whole) and written with COPY FROM STDIN
// (one round trip per batch; it also writes ids into identity columns as they are). After the
// copy each sequence behind an id column is moved past the largest id copied, so that the
// router's next insert does not collide with one.
// The target's schema is xmppd's own (store/schema.h), applied as the storage process would.
// Trust: the database is the administrator's; the values written came from the router's file
// and go as COPY data, escaped, and names only as quoted identifiers (PQescapeIdentifier).
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "store/schema.h"
#include "xmppctl/store_copy.h"

namespace xmppd::ctl::copy {
namespace {

// PostgreSQL's type oids for int2, int4, int8 (pg_type.dat; fixed since forever).
constexpr Oid kInt8 = 20, kInt2 = 21, kInt4 = 23;
// The store's own bookkeeping, not data: the schema version (store/schema.cc) says what the
// target's schema is, and is the target's to keep.
constexpr std::string_view kBookkeeping[] = {"xmppd_schema"};

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultFree>;
struct ConnFinish {
  void operator()(PGconn* c) const { PQfinish(c); }
};

// libpq's messages end with a newline.
std::string trimmed(const char* message) {
  std::string out = message == nullptr ? "" : message;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A value as a field of COPY's text format: \N for NULL, the escapes COPY reads back.
void append_field(std::string& out, const store::Value& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    out += "\\N";
    return;
  }
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    out += std::to_string(*n);
    return;
  }
  for (char c : std::get<std::string>(value)) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
}

class PostgresEnd final : public CopyEnd {
 public:
  PostgresEnd(PGconn* conn, std::string description) : conn_(conn), description_(std::move(description)) {}

  std::string describe() const override { return description_; }

  bool tables(std::vector<Table>& out) override {
    Result names = exec_params(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' ORDER BY table_name",
        {});
    if (!names) return false;
    for (int i = 0; i < PQntuples(names.get()); ++i) {
      const std::string name = PQgetvalue(names.get(), i, 0);
      if (std::find(std::begin(kBookkeeping), std::end(kBookkeeping), name) == std::end(kBookkeeping))
        out.push_back(Table{name, {}, {}});
    }
    for (Table& table : out) {
      Result columns = exec_params(
          "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
          "AND table_name = $1 ORDER BY ordinal_position",
          {table.name});
      if (!columns) return false;
      for (int i = 0; i < PQntuples(columns.get()); ++i) table.columns.emplace_back(PQgetvalue(columns.get(), i, 0));
    }
    return true;
  }

  // REPEATABLE READ: every table read from one snapshot.
  bool begin_read() override { return command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  void end_read() override { command("ROLLBACK"); }

  bool read(const Table& table, const std::function<bool(store::Row&)>& row) override {
    if (!PQsendQuery(conn_.get(), ("SELECT " + column_list(table) + " FROM " + identifier(table.name)).c_str()) ||
        !PQsetSingleRowMode(conn_.get()))
      return fail("read " + table.name + ": " + trimmed(PQerrorMessage(conn_.get())));
    bool ok = true;
    // Every result is taken, even after a failure, so that the connection is ready again.
    while (Result result{PQgetResult(conn_.get())}) {
      const ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_SINGLE_TUPLE && ok) {
        store::Row values;
        for (int i = 0; i < PQnfields(result.get()); ++i) values.push_back(value(result.get(), i));
        ok = row(values);
      } else if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && ok) {
        ok = fail("read " + table.name + ": " + trimmed(PQresultErrorMessage(result.get())));
      }
    }
    return ok;
  }

  bool count(const std::string& table, std::int64_t& rows) override {
    Result result = exec_params("SELECT count(*) FROM " + identifier(table), {});
    if (!result) return false;
    rows = std::strtoll(PQgetvalue(result.get(), 0, 0), nullptr, 10);
    return true;
  }

  // xmppd's PostgreSQL schema (store/schema.h), as the storage process applies it at its
  // start, here in the copy's transaction: a failed copy leaves no table behind. A database
  // of a newer xmppd is refused.
  bool prepare_schema() override {
    if (!command("CREATE TABLE IF NOT EXISTS xmppd_schema (version INTEGER NOT NULL)")) return false;
    Result current = exec_params("SELECT coalesce(max(version), 0) FROM xmppd_schema", {});
    if (!current) return false;
    const int version = std::atoi(PQgetvalue(current.get(), 0, 0));
    if (version > store::kPostgresSchemaVersion)
      return fail("schema version " + std::to_string(version) + " is newer than this xmppd understands (" +
                  std::to_string(store::kPostgresSchemaVersion) + ")");
    if (version == store::kPostgresSchemaVersion) return true;
    for (std::string_view sql : store::postgres_schema_upgrade(version))
      if (!command(std::string(sql))) return false;
    return command("DELETE FROM xmppd_schema") &&
           command("INSERT INTO xmppd_schema (version) VALUES (" + std::to_string(store::kPostgresSchemaVersion) + ")");
  }

  bool begin_write() override { return command("BEGIN"); }
  bool clear(const std::string& table) override { return command("DELETE FROM " + identifier(table)); }

  bool write(const Table& table, const std::vector<store::Row>& rows) override {
    Result start{PQexec(conn_.get(), ("COPY " + identifier(table.name) + " (" + column_list(table) + ") FROM STDIN").c_str())};
    if (PQresultStatus(start.get()) != PGRES_COPY_IN)
      return fail("write " + table.name + ": " + trimmed(PQresultErrorMessage(start.get())));
    std::string data;
    for (const store::Row& row : rows) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i > 0) data += '\t';
        append_field(data, row[i]);
      }
      data += '\n';
    }
    const bool sent = PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) == 1;
    PQputCopyEnd(conn_.get(), sent ? nullptr : "xmppctl could not send the rows");
    bool ok = sent;
    while (Result result{PQgetResult(conn_.get())})
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK && ok)
        ok = fail("write " + table.name + ": " + trimmed(PQresultErrorMessage(result.get())));
    return ok || fail("write " + table.name + ": " + trimmed(PQerrorMessage(conn_.get())));
  }

  bool finish_write(const std::vector<Table>& copied) override {
    for (const Table& table : copied)
      for (const std::string& column : table.columns)
        if (!advance_sequence(table.name, column)) return false;
    return true;
  }

  bool commit() override { return command("COMMIT"); }
  void rollback() override { command("ROLLBACK"); }

 private:
  // The sequence behind `column` (an identity or serial column), if any, set so that its
  // next value is one past the largest id in the table.
  bool advance_sequence(const std::string& table, const std::string& column) {
    Result sequence = exec_params("SELECT pg_get_serial_sequence($1, $2)", {identifier(table), column});
    if (!sequence) return false;
    if (PQgetisnull(sequence.get(), 0, 0)) return true;
    return static_cast<bool>(exec_params("SELECT setval($1, COALESCE((SELECT max(" + identifier(column) + ") FROM " +
                                             identifier(table) + "), 0) + 1, false)",
                                         {PQgetvalue(sequence.get(), 0, 0)}));
  }

  static store::Value value(const PGresult* result, int i) {
    if (PQgetisnull(result, 0, i)) return std::monostate{};
    const char* text = PQgetvalue(result, 0, i);
    const Oid type = PQftype(result, i);
    if (type == kInt8 || type == kInt4 || type == kInt2) return static_cast<std::int64_t>(std::strtoll(text, nullptr, 10));
    return std::string(text, static_cast<std::size_t>(PQgetlength(result, 0, i)));
  }

  std::string identifier(const std::string& name) {
    char* escaped = PQescapeIdentifier(conn_.get(), name.data(), name.size());
    std::string out = escaped == nullptr ? "\"\"" : escaped;
    PQfreemem(escaped);
    return out;
  }
  std::string names(const std::vector<std::string>& list) {
    std::string out;
    for (const std::string& name : list) out += (out.empty() ? "" : ", ") + identifier(name);
    return out;
  }
  std::string column_list(const Table& table) { return names(table.columns); }

  bool command(const std::string& sql) {
    Result result{PQexec(conn_.get(), sql.c_str())};
    if (PQresultStatus(result.get()) == PGRES_COMMAND_OK || PQresultStatus(result.get()) == PGRES_TUPLES_OK) return true;
    return fail(sql.substr(0, sql.find(' ')) + ": " + trimmed(PQerrorMessage(conn_.get())));
  }

  // Text parameters, text results; null (error() set) unless the statement succeeded.
  Result exec_params(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    Result result{PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0)};
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;
    fail(trimmed(PQerrorMessage(conn_.get())));
    return nullptr;
  }

  std::unique_ptr<PGconn, ConnFinish> conn_;
  std::string description_;
};

}  // namespace

std::unique_ptr<CopyEnd> connect_postgres(const SqlSettings& sql, std::string& error) {
  // Only what the configuration sets: the rest is libpq's default, as for psql.
  std::vector<const char*> keys, values;
  const auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    keys.push_back(key);
    values.push_back(value.c_str());
  };
  add("host", sql.host);
  add("port", sql.port);
  add("dbname", sql.database);
  add("user", sql.username);
  add("password", sql.password);
  keys.insert(keys.end(), {"connect_timeout", "client_encoding", "application_name", nullptr});
  values.insert(values.end(), {"10", "UTF8", "xmppctl", nullptr});
  std::string description = "PostgreSQL database " + (sql.database.empty() ? std::string("(default)") : sql.database);
  if (!sql.host.empty()) description += " at " + sql.host + (sql.port.empty() ? "" : ":" + sql.port);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    error = description + ": " + (conn == nullptr ? "out of memory" : trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return nullptr;
  }
  return std::make_unique<PostgresEnd>(conn, std::move(description));
}

}  // namespace xmppd::ctl::copy
