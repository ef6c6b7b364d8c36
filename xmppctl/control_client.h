// The client end of DATA_PATH/control.sock (admin.proto): one connection per question, one
// request, then the answer records. The parent checks our uid; we check nothing of its answer
// beyond its type, but print what it carries with control characters replaced (table.h),
// since JIDs and certificate names in it come from the network.
#pragma once

#include <functional>
#include <string>

#include "admin.pb.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {

// Sends `request` to the server of `context` and returns its answer; exits with
// kExitUnreachable if the server cannot be reached or does not answer in time, kExitFailed
// if the answer is not understood.
ipc::AdminResponse ask(const Context& context, const ipc::AdminRequest& request);

// The same for a list answer that may come in pages (admin.proto AdminResponse.more): calls
// `page` for each, in order, until the last.
void ask_pages(const Context& context, const ipc::AdminRequest& request,
               const std::function<void(const ipc::AdminResponse&)>& page);

// An AdminDone with an error (a child not running or refusing, no answer in time): printed,
// and xmppctl exits with kExitFailed.
void expect_no_error(const ipc::AdminResponse& response);
// On a list's last page: says on stderr that the server cut the list (runtime::kAdminMaxEntries).
void warn_if_cut(const ipc::AdminResponse& page);

// True if a server answers at DATA_PATH/control.sock (for verbs that must run without one).
bool server_running(const Context& context);

}  // namespace xmppd::ctl
