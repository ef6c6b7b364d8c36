#include "config/sql_option.h"

#include <string_view>

#include "config/settings.h"

namespace xmppd::config {
namespace {

// Prosody's backends xmppd has: its SQLite store stands for "internal" (Prosody's files).
bool known_backend(std::string_view name) { return name == "internal" || name == "sql"; }

std::optional<Problem> backend_problem(const Value& v, int line) {
  if (!v.is_string()) return Problem{false, "expects a backend name (\"internal\" or \"sql\"), got " +
                                                std::string(type_name(v)), line};
  if (known_backend(v.as_string())) return std::nullopt;
  return Problem{false, "names the backend \"" + v.as_string() + "\"; xmppd has \"internal\" (its SQLite store) "
                        "and \"sql\" (the sql option's database)", line};
}

const Value* field(const Table& table, std::string_view name) {
  const Value* found = nullptr;
  for (const TableEntry& e : table.entries)
    if (e.key && *e.key == name) found = &e.value;  // a later key replaces an earlier one
  return found;
}

std::optional<Problem> string_field(const TableEntry& e) {
  if (e.value.is_string()) return std::nullopt;
  return Problem{false, "expects " + *e.key + " to be a string, got " + std::string(type_name(e.value)), e.value.line};
}

std::optional<Problem> check_sql_entry(const TableEntry& e) {
  const std::string& key = *e.key;
  if (key == "port") {
    if (e.value.is_integer() && e.value.as_integer() >= 1 && e.value.as_integer() <= 65535) return std::nullopt;
    return Problem{false, "expects port to be a TCP port from 1 to 65535", e.value.line};
  }
  if (key != "driver" && key != "database" && key != "host" && key != "username" && key != "password")
    return Problem{true, "has '" + key + "', which xmppd does not read: ignored", e.value.line};
  if (auto problem = string_field(e)) return problem;
  const std::string& s = e.value.as_string();
  if (key == "driver" && s != "PostgreSQL" && s != "SQLite3")
    return Problem{false, "names the driver \"" + s + "\"; xmppd has \"PostgreSQL\" and \"SQLite3\"", e.value.line};
  // The storage process is chrooted to an empty directory: a Unix socket's directory is not
  // in it, so the server is reached over TCP only.
  if (key == "host" && (s.empty() || s.front() == '/'))
    return Problem{false, "expects host to be a host name or address: xmppd reaches PostgreSQL over TCP "
                          "(its storage process is chrooted, with no Unix socket in reach)", e.value.line};
  return std::nullopt;
}

}  // namespace

std::optional<Problem> check_storage(const Value& v) {
  if (v.is_string()) return backend_problem(v, 0);
  if (!v.is_table()) return Problem{false, "expects \"internal\", \"sql\" or a table of them by store"};
  const Value* first = nullptr;
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.key) return Problem{false, "expects store names as keys, such as { roster = \"sql\" }", e.value.line};
    if (auto problem = backend_problem(e.value, e.value.line)) return problem;
    if (first == nullptr) first = &e.value;
    if (e.value.as_string() != first->as_string())
      return Problem{false, "gives " + *e.key + " \"" + e.value.as_string() + "\" and another store \"" +
                                first->as_string() + "\": xmppd keeps one backend for all the stores",
                     e.value.line};
  }
  return std::nullopt;
}

void store_storage(const Value& v, Settings& settings, HostSettings&) {
  settings.storage = "internal";
  if (v.is_string()) {
    settings.storage = v.as_string();
  } else if (!v.as_table().entries.empty()) {
    settings.storage = v.as_table().entries.front().value.as_string();
  }
}

std::optional<Problem> check_sql(const Value& v) {
  if (!v.is_table()) return Problem{false, "expects a table such as { driver = \"PostgreSQL\"; database = \"xmppd\" }"};
  std::optional<Problem> warning;
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.key) return Problem{false, "expects named fields (driver, database, host, port, username, password)",
                               e.value.line};
    std::optional<Problem> problem = check_sql_entry(e);
    if (problem && !problem->warning) return problem;
    if (problem && !warning) warning = problem;
  }
  const Value* driver = field(v.as_table(), "driver");
  const Value* database = field(v.as_table(), "database");
  const bool sqlite = driver == nullptr || driver->as_string() == "SQLite3";
  // A file in the router's directory, which is all the router can open.
  if (sqlite && database != nullptr &&
      (database->as_string().empty() || database->as_string().find('/') != std::string::npos ||
       database->as_string().front() == '.'))
    return Problem{false, "expects database to be a file name (no '/', not starting with '.') for SQLite3: "
                          "the file is made in data_path's router directory", database->line};
  return warning;
}

void store_sql(const Value& v, Settings& settings, HostSettings&) {
  const bool manage = settings.sql.manage_tables;
  settings.sql = SqlSettings{};
  settings.sql.manage_tables = manage;
  for (const TableEntry& e : v.as_table().entries) {
    const std::string& key = *e.key;
    if (key == "port") settings.sql.port = static_cast<int>(e.value.as_integer());
    if (!e.value.is_string()) continue;
    if (key == "driver") settings.sql.driver = e.value.as_string();
    if (key == "database") settings.sql.database = e.value.as_string();
    if (key == "host") settings.sql.host = e.value.as_string();
    if (key == "username") settings.sql.username = e.value.as_string();
    if (key == "password") settings.sql.password = e.value.as_string();
  }
}

}  // namespace xmppd::config
