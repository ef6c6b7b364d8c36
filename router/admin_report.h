// The router's answers to xmppctl (control.proto AdminQuery, reports.proto): show c2s lists
// the bound client sessions, kick ends some, show components lists the configured
// components and show muc the rooms. The question comes from the parent, which is trusted;
// the JIDs and addresses in the answer came from clients and components and are only
// reported (as valid UTF-8: the parent parses the answer).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "control.pb.h"
#include "router/local_sessions.h"
#include "runtime/admin_pages.h"

namespace xmppd::router {

class ConnectedComponents;
class MucService;
class FileShareService;

// What the answers read; all of it stays the router's.
struct AdminSubjects {
  const LocalSessions& sessions;
  const ConnectedComponents& external;
  const std::map<std::string, std::unique_ptr<MucService>>& muc;
  const std::map<std::string, std::unique_ptr<FileShareService>>& file_share;
};

// Answers `query` through `send`: C2sSessions, ComponentReports or RoomReports pages, AdminDone
// for kick, and AdminDone with an error for a question that is not the router's.
void answer_admin_query(const ipc::AdminQuery& query, const AdminSubjects& subjects, time_t now,
                        const runtime::AdminPages::Send& send);

}  // namespace xmppd::router
