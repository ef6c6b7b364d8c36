#include "storage/schema_setup.h"

#include "store/schema.h"

namespace xmppd::storage {

bool apply_schema(store::PostgresDatabase& db, std::string& error) { return store::upgrade_schema(db, error); }

}  // namespace xmppd::storage
