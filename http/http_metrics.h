// The HTTP process's own samples for /metrics (ChildRole::metrics).
#pragma once

#include "http/http_server.h"
#include "reports.pb.h"

namespace xmppd::http {

void add_server_metrics(ipc::Metrics& out, const HttpServer& server);

}  // namespace xmppd::http
