// The HTTP process's own samples for /metrics (ChildRole::metrics): its server's counters, its
// TLS handshakes and its file-share store.
#pragma once

#include <cstdint>

#include "http/http_server.h"
#include "reports.pb.h"

namespace xmppd::http {

void add_server_metrics(ipc::Metrics& out, const HttpServer& server);

// The file-share store's figures (http/file_share_store.h), passed as numbers so that this
// library needs not the store's.
struct FileShareFigures {
  std::uint64_t bytes = 0, files = 0;       // stored now
  std::uint64_t uploads = 0, uploaded = 0;  // stored since start: files and bytes
};
void add_file_share_metrics(ipc::Metrics& out, const FileShareFigures& figures);

}  // namespace xmppd::http
