// The values of the storage interface (store/database.h) as they cross the router ↔ storage
// channel (proto/router_storage.proto), and the limits of that channel. Both ends use these;
// neither trusts what the other sends: a value with nothing set is refused.
#pragma once

#include <cstddef>

#include "router_storage.pb.h"
#include "store/database.h"

namespace xmppd::store {

// One record either way: the PeerLink's socket buffers (daemon/parent.cc, connect_links)
// hold this much. A stanza (c2s_stanza_size_limit is at most 1,000,000 bytes) and its
// other columns fit in one.
inline constexpr std::size_t kStorageRecordBytes = 1 << 20;
// What a page of rows may fill before the next begins, leaving room for the envelope.
inline constexpr std::size_t kStoragePageBytes = kStorageRecordBytes - 4096;

void to_wire(const Value& value, ipc::SqlValue& out);
void to_wire(std::span<const Value> values, google::protobuf::RepeatedPtrField<ipc::SqlValue>& out);
// False when `in` has no value set (a violation by whoever sent it).
bool from_wire(const ipc::SqlValue& in, Value& value);
bool from_wire(const google::protobuf::RepeatedPtrField<ipc::SqlValue>& in, Row& row);

}  // namespace xmppd::store
