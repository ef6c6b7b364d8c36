// The copy of a store's tables from one end to the other (store_copy.h): all in one
// transaction of the target, in batches of rows, the counts checked before the commit.
#include <algorithm>

#include "xmppctl/store_copy.h"

namespace xmppd::ctl::copy {
namespace {

// Rows handed to the target at a time: one COPY or one run of a prepared insert each, and a
// bound on what is held in memory for a table of any size (an archive) with rows of any size
// (stanzas of up to c2s_stanza_size_limit): whichever limit comes first.
constexpr std::size_t kBatchRows = 1000;
constexpr std::size_t kBatchBytes = 8 << 20;

std::size_t bytes_of(const store::Row& row) {
  std::size_t n = 0;
  for (const store::Value& value : row)
    n += 8 + (std::holds_alternative<std::string>(value) ? std::get<std::string>(value).size() : 0);
  return n;
}

const Table* find(const std::vector<Table>& tables, const std::string& name) {
  auto it = std::find_if(tables.begin(), tables.end(), [&](const Table& t) { return t.name == name; });
  return it == tables.end() ? nullptr : &*it;
}

bool has(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// What is copied of each table: every column of the source, which must have a place in the
// target (a copy that dropped one would lose data), and an implicit column of the source
// (SQLite's rowid) where the target declares it. A column only the target has takes its default.
bool plan(const std::vector<Table>& source, const std::vector<Table>& target, const CopyEnd& to,
          std::vector<Table>& plans, std::string& error) {
  for (const Table& table : source) {
    const Table* there = find(target, table.name);
    if (there == nullptr) {
      error = to.describe() + " has no table " + table.name;
      return false;
    }
    Table copied{table.name, {}, {}};
    for (const std::string& column : table.columns) {
      if (!has(there->columns, column) && !has(there->implicit, column)) {
        error = to.describe() + ": table " + table.name + " has no column " + column;
        return false;
      }
      copied.columns.push_back(column);
    }
    for (const std::string& column : table.implicit)
      if (has(there->columns, column)) copied.columns.push_back(column);
    plans.push_back(std::move(copied));
  }
  return true;
}

// The tables of `to` among `source` that hold rows, for the refusal without -F.
bool occupied(CopyEnd& to, const std::vector<Table>& source, std::string& names, std::string& error) {
  for (const Table& table : source) {
    std::int64_t rows = 0;
    if (!to.count(table.name, rows)) {
      error = to.error();
      return false;
    }
    if (rows > 0) names += (names.empty() ? "" : ", ") + table.name + " (" + std::to_string(rows) + " rows)";
  }
  return true;
}

bool copy_one(CopyEnd& from, CopyEnd& to, const Table& table, Copied& done, std::string& error) {
  std::vector<store::Row> batch;
  std::size_t bytes = 0;
  bool written = true;
  const bool read = from.read(table, [&](store::Row& row) {
    bytes += bytes_of(row);
    batch.push_back(std::move(row));
    if (batch.size() < kBatchRows && bytes < kBatchBytes) return true;
    written = to.write(table, batch);
    done.rows += static_cast<std::int64_t>(batch.size());
    batch.clear();
    bytes = 0;
    return written;
  });
  if (read && written && !batch.empty()) {
    written = to.write(table, batch);
    done.rows += static_cast<std::int64_t>(batch.size());
  }
  if (!written) {
    error = to.describe() + ": " + to.error();
    return false;
  }
  if (!read) {
    error = from.describe() + ": " + from.error();
    return false;
  }
  // Read back in the same transaction: what the commit will make durable is what was read.
  std::int64_t there = -1;
  if (!to.count(table.name, there)) {
    error = to.describe() + ": " + to.error();
    return false;
  }
  if (there != done.rows) {
    error = to.describe() + ": table " + table.name + " has " + std::to_string(there) + " rows after the copy of " +
            std::to_string(done.rows);
    return false;
  }
  return true;
}

// Inside the target's transaction, so that a table made for the copy goes with it on failure.
bool copy_all(CopyEnd& from, CopyEnd& to, const std::vector<Table>& source, bool replace,
              std::vector<Copied>& copied, std::string& error) {
  std::vector<Table> target;
  if (!to.prepare_schema() || !to.tables(target)) {
    error = to.describe() + ": " + to.error();
    return false;
  }
  std::vector<Table> plans;
  if (!plan(source, target, to, plans, error)) return false;
  std::string names;
  if (!occupied(to, source, names, error)) return false;
  if (!names.empty() && !replace) {
    error = to.describe() + " is not empty: " + names + "; nothing copied (-F replaces what it holds)";
    return false;
  }
  // Emptied first, all of them: a table's copy then starts from nothing whatever the order.
  if (replace)
    for (const Table& table : source)
      if (!to.clear(table.name)) {
        error = to.describe() + ": " + to.error();
        return false;
      }
  for (const Table& table : plans) {
    Copied done{table.name, 0};
    if (!copy_one(from, to, table, done, error)) return false;
    copied.push_back(done);
  }
  if (!to.finish_write(plans) || !to.commit()) {
    error = to.describe() + ": " + to.error();
    return false;
  }
  return true;
}

}  // namespace

bool copy_tables(CopyEnd& from, CopyEnd& to, bool replace, std::vector<Copied>& copied, std::string& error) {
  std::vector<Table> source;
  if (!from.begin_read() || !from.tables(source)) {
    error = from.describe() + ": " + from.error();
    from.end_read();
    return false;
  }
  if (source.empty()) {
    error = from.describe() + " holds no tables: not a store of xmppd";
    from.end_read();
    return false;
  }
  bool ok = to.begin_write();
  if (!ok) error = to.describe() + ": " + to.error();
  ok = ok && copy_all(from, to, source, replace, copied, error);
  if (!ok) to.rollback();
  from.end_read();
  return ok;
}

}  // namespace xmppd::ctl::copy
