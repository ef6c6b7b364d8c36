#include "store/wire_values.h"

namespace xmppd::store {

void to_wire(const Value& value, ipc::SqlValue& out) {
  if (const auto* n = std::get_if<std::int64_t>(&value))
    out.set_integer(*n);
  else if (const auto* s = std::get_if<std::string>(&value))
    out.set_text(*s);
  else
    out.set_null(true);
}

void to_wire(std::span<const Value> values, google::protobuf::RepeatedPtrField<ipc::SqlValue>& out) {
  out.Reserve(static_cast<int>(values.size()));
  for (const Value& value : values) to_wire(value, *out.Add());
}

bool from_wire(const ipc::SqlValue& in, Value& value) {
  switch (in.value_case()) {
    case ipc::SqlValue::kNull: value = std::monostate{}; return in.null();
    case ipc::SqlValue::kInteger: value = static_cast<std::int64_t>(in.integer()); return true;
    case ipc::SqlValue::kText: value = in.text(); return true;
    default: return false;
  }
}

bool from_wire(const google::protobuf::RepeatedPtrField<ipc::SqlValue>& in, Row& row) {
  row.clear();
  row.reserve(static_cast<std::size_t>(in.size()));
  for (const ipc::SqlValue& v : in)
    if (!from_wire(v, row.emplace_back())) return false;
  return true;
}

}  // namespace xmppd::store
