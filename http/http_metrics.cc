// What the HTTP process counts, for /metrics: requests, responses by status class and
// connections, from the server's counters (http/http_server.h), TLS handshakes, and the
// file-share store's size and uploads. The process's memory and CPU
// time the runtime adds itself.
#include "http/http_metrics.h"

#include <string>

#include "runtime/metric_samples.h"
#include "tls/handshake_counts.h"

namespace xmppd::http {

void add_server_metrics(ipc::Metrics& out, const HttpServer& server) {
  using runtime::add_counter;
  using runtime::add_gauge;
  const ServerCounters& c = server.counters();
  add_counter(out, "xmppd_http_requests", "HTTP requests read and dispatched", static_cast<double>(c.requests));
  static constexpr const char* kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 1; i < 6; ++i)
    add_counter(out, "xmppd_http_responses", "HTTP responses sent, by status class",
                static_cast<double>(c.responses[i]), {{"class", kClasses[i]}});
  const Connections& connections = server.connections();
  add_gauge(out, "xmppd_http_connections", "HTTP connections open", static_cast<double>(connections.open()));
  add_counter(out, "xmppd_http_connections_refused", "HTTP connections refused over a connection limit",
              static_cast<double>(connections.refused()));
  add_counter(out, "xmppd_http_connections_too_slow", "HTTP connections cut for sending a request too slowly",
              static_cast<double>(connections.too_slow()));
  const tls::HandshakeCounts& handshakes = tls::handshake_counts();
  runtime::add_tls_handshakes(out, handshakes.completed, handshakes.failed);
}

void add_file_share_metrics(ipc::Metrics& out, const FileShareFigures& f) {
  using runtime::add_counter;
  using runtime::add_gauge;
  add_gauge(out, "xmppd_upload_stored_bytes", "Bytes of uploaded files stored now (XEP-0363)",
            static_cast<double>(f.bytes), {}, "bytes");
  add_gauge(out, "xmppd_upload_stored_files", "Uploaded files stored now (XEP-0363)", static_cast<double>(f.files));
  add_counter(out, "xmppd_uploads", "Uploads stored since the process started", static_cast<double>(f.uploads));
  add_counter(out, "xmppd_upload_bytes", "Bytes of the uploads stored since the process started",
              static_cast<double>(f.uploaded), {}, "bytes");
}

}  // namespace xmppd::http
