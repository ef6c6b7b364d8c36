#include "store/catalog.h"

#include <array>

namespace xmppd::store {
namespace {

// In the order of the enum; catalog_unittest checks that every entry is filled in and that
// every text prepares on SQLite with exactly `params` placeholders named $1..$N.
constexpr std::array<StatementText, static_cast<std::size_t>(Statement::kCount)> kCatalog = {{
    // A write batch: IMMEDIATE takes SQLite's write lock at once, so that a batch never fails
    // half way for want of it. PostgreSQL has no such mode and needs none.
    {"batch.begin", 0, "BEGIN IMMEDIATE", "BEGIN"},
    {"batch.commit", 0, "COMMIT", {}},
    {"batch.rollback", 0, "ROLLBACK", {}},
    {"operation.savepoint", 0, "SAVEPOINT operation", {}},
    {"operation.release", 0, "RELEASE SAVEPOINT operation", {}},
    {"operation.rollback", 0, "ROLLBACK TO SAVEPOINT operation", {}},
}};

}  // namespace

const StatementText* statement_text(Statement id) {
  const auto index = static_cast<std::size_t>(id);
  return index < kCatalog.size() ? &kCatalog[index] : nullptr;
}

}  // namespace xmppd::store
