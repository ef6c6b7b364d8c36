// The column helpers of the storage interface (store/database.h), shared by every backend.
#include "store/database.h"

namespace xmppd::store {

std::int64_t integer(const Row& row, std::size_t i) {
  if (i >= row.size()) return 0;
  if (const auto* n = std::get_if<std::int64_t>(&row[i])) return *n;
  return 0;
}

std::string text(const Row& row, std::size_t i) {
  if (i >= row.size()) return {};
  if (const auto* s = std::get_if<std::string>(&row[i])) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&row[i])) return std::to_string(*n);
  return {};
}

std::string take_text(Row& row, std::size_t i) {
  if (i < row.size())
    if (auto* s = std::get_if<std::string>(&row[i])) return std::move(*s);
  return text(row, i);
}

}  // namespace xmppd::store
