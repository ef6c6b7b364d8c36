// What one user may make the router hold (xmppd.conf(5): the max_user_* and max_* options).
// Each is refused with a stanza error when reached, never by dropping what is already kept.
// The parent's settings and the router's copy are one struct, with one set of defaults.
#pragma once

#include "config/quotas.h"

namespace xmppd::router {

using UserQuotas = config::QuotaSettings;

}  // namespace xmppd::router
