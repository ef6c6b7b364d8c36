// Options of the HTTP process (xmppd-http) and of the HTTP-based services, by Prosody 0.12's
// names and defaults: mod_http (ports, interfaces, external URL, body size), mod_websocket,
// mod_http_openmetrics, mod_turn_external (per host) and mod_http_file_share (per
// Component "name" "http_file_share" section). One struct each for the parent, which reads
// them, and the processes that apply them, so the defaults are written once.
#ifndef XMPPD_CONFIG_HTTP_H
#define XMPPD_CONFIG_HTTP_H

#include <cstddef>
#include <string>
#include <vector>

namespace xmppd::config {

// Global: the HTTP listeners and what every HTTP service shares.
struct HttpSettings {
  std::vector<int> http_ports{5280}, https_ports{5281};
  // As Prosody's portmanager: each defaults to `interfaces`.
  std::vector<std::string> http_interfaces{"*", "::"}, https_interfaces{"*", "::"};
  // http_external_url: the base of the URLs given out (upload slots, host-meta), for a
  // server behind a reverse proxy; empty: https://HOST:FIRST_HTTPS_PORT/.
  std::string external_url;
  std::size_t max_content_size = 10 * 1024 * 1024;  // http_max_content_size: a request body
  // consider_websocket_secure: WebSocket over plain HTTP counts as encrypted (a TLS proxy in
  // front); else only wss:// (and loopback) satisfies c2s_require_encryption.
  bool consider_websocket_secure = false;
  // mod_http_openmetrics: who may read /metrics (loopback only by default).
  std::vector<std::string> openmetrics_allow_ips{"::1", "127.0.0.1"};
  std::string openmetrics_allow_cidr;
  // trusted_proxies, Prosody's name and default: reverse proxies (addresses or networks) whose
  // X-Forwarded-For gives the client's address and X-Forwarded-Proto: https makes it secure.
  std::vector<std::string> trusted_proxies{"127.0.0.1", "::1"};
  bool operator==(const HttpSettings&) const = default;
};

// Per VirtualHost: XEP-0215 credentials for an external TURN server (mod_turn_external), by
// the TURN REST scheme (a time-limited user name, HMAC-SHA1 of it under the shared secret).
struct TurnSettings {
  std::string secret;  // turn_external_secret; empty: the module offers nothing
  std::string host;    // turn_external_host; empty: the VirtualHost's name
  int port = 3478;     // turn_external_port
  int ttl = 86400;     // turn_external_ttl: seconds a credential is good for
  bool tcp = false;    // turn_external_tcp: also offer TURN over TCP
  std::string user;    // turn_external_user: the user name's part after "EXPIRY:"; empty: none
  int tls_port = 0;    // turn_external_tls_port: also list TURN over TLS (turns) there; 0: not
  bool operator==(const TurnSettings&) const = default;
};

// Per Component "name" "http_file_share" section (XEP-0363).
struct FileShareSettings {
  std::size_t size_limit = 10 * 1024 * 1024;  // http_file_share_size_limit: one file
  std::size_t expires_after = 7 * 86400;      // http_file_share_expires_after: seconds; 0 never (also negative)
  // http_file_share_daily_quota: bytes one user may upload in 24 hours; 0: ten times size_limit.
  std::size_t daily_quota = 0;
  std::size_t global_quota = 0;  // http_file_share_global_quota: bytes stored in all; 0: no limit
  // http_file_share_allowed_file_types: MIME types ("image/*" patterns) accepted; empty: any.
  std::vector<std::string> allowed_file_types;
  // http_file_share_safe_file_types: served inline; anything else as an attachment.
  std::vector<std::string> safe_file_types{"image/*", "video/*", "audio/*", "text/plain"};
  // http_file_share_access: as Prosody, empty: the users of any VirtualHost may upload;
  // otherwise only the JIDs and domains listed.
  std::vector<std::string> access;
  std::size_t effective_daily_quota() const { return daily_quota != 0 ? daily_quota : size_limit * 10; }
  bool operator==(const FileShareSettings&) const = default;
};

}  // namespace xmppd::config

#endif
