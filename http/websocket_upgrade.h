// The WebSocket opening handshake (RFC 6455 §4.2) for /xmpp-websocket (RFC 7395 §3.2),
// decided from the request's method and headers alone: whether to upgrade, or which
// answer to give. Pure, so that every refusal is unit-tested; the headers are the client's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xmppd::http {

struct UpgradeRequest {
  bool get = false;  // the method is GET
  // Each header's value, or nullopt when absent (several of one name joined by ", ").
  std::optional<std::string_view> connection, upgrade, version, key, protocol;
};

struct UpgradeVerdict {
  enum class Kind {
    kUpgrade,   // 101 with `accept`
    kTextPage,  // a plain GET (no key): a page saying what this is, as Prosody answers
    kRefuse,    // `status` with `reason`; 426 carries Sec-WebSocket-Version: 13
  };
  Kind kind = Kind::kRefuse;
  int status = 400;
  std::string reason;
  std::string accept;  // Sec-WebSocket-Accept
};

UpgradeVerdict check_upgrade(const UpgradeRequest& request);

// RFC 6455 §4.2.2: base64(SHA-1(key + the protocol's GUID)).
std::string websocket_accept(std::string_view key);

// Whether a comma-separated header value holds `token` (RFC 7230 §7 lists), ASCII case
// ignored when `any_case`.
bool has_token(std::string_view list, std::string_view token, bool any_case);

}  // namespace xmppd::http
