#ifndef XMPPD_CONFIG_EXPRESSION_H
#define XMPPD_CONFIG_EXPRESSION_H

// Constant expressions: literals, tables and + - * / over numbers, folded to
// a Value as they are read. Everything else Lua allows in an expression is
// refused with a message that names it.

#include <optional>

#include "config/token_cursor.h"
#include "config/value.h"

namespace xmppd::config {

// Reads one expression at the cursor. After an error (already reported) it
// returns nullopt and leaves the cursor inside the broken expression; the
// caller resynchronises.
std::optional<Value> parse_expression(TokenCursor& cursor);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_EXPRESSION_H
