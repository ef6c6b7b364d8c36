// The router's answers to xmppctl (control.proto AdminQuery, reports.proto): show c2s lists
// the bound client sessions, kick ends some. The question comes from the parent, which is
// trusted; the JIDs and addresses in the answer came from clients and are only reported.
#pragma once

#include "control.pb.h"
#include "router/local_sessions.h"
#include "runtime/admin_pages.h"

namespace xmppd::router {

// Answers `query` through `send`: C2sSessions pages for show c2s, AdminDone for kick, and
// AdminDone with an error for a question that is not the router's.
void answer_admin_query(const ipc::AdminQuery& query, const LocalSessions& sessions, time_t now,
                        const runtime::AdminPages::Send& send);

}  // namespace xmppd::router
