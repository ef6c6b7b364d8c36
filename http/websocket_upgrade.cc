// The WebSocket opening handshake's checks (websocket_upgrade.h).
#include "http/websocket_upgrade.h"

#include <openssl/sha.h>

#include "common/base64.h"

namespace xmppd::http {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool equal_any_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

UpgradeVerdict refuse(int status, std::string reason) {
  UpgradeVerdict v;
  v.status = status;
  v.reason = std::move(reason);
  return v;
}

}  // namespace

bool has_token(std::string_view list, std::string_view token, bool any_case) {
  while (true) {
    std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (any_case ? equal_any_case(item, token) : item == token) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

std::string websocket_accept(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

UpgradeVerdict check_upgrade(const UpgradeRequest& r) {
  // Prosody answers anything but a WebSocket GET with a page saying what the endpoint is.
  if (!r.get) return refuse(405, "only GET upgrades to a WebSocket");
  if (!r.key) {
    UpgradeVerdict v;
    v.kind = UpgradeVerdict::Kind::kTextPage;
    v.status = 200;
    return v;
  }
  if (!r.upgrade || !has_token(*r.upgrade, "websocket", true)) return refuse(400, "Upgrade: websocket is missing");
  if (!r.connection || !has_token(*r.connection, "upgrade", true)) return refuse(400, "Connection: upgrade is missing");
  // §4.2.2: another version gets 426 and the versions this server speaks.
  if (!r.version || trim(*r.version) != "13") return refuse(426, "only WebSocket version 13");
  auto nonce = base64_decode(trim(*r.key));
  if (!nonce || nonce->size() != 16) return refuse(400, "Sec-WebSocket-Key is not 16 bytes in base64");
  // RFC 7395 §3.2: the client must ask for "xmpp"; Prosody refuses others with 501.
  if (!r.protocol || !has_token(*r.protocol, "xmpp", false)) return refuse(501, "the WebSocket subprotocol must be xmpp");
  UpgradeVerdict v;
  v.kind = UpgradeVerdict::Kind::kUpgrade;
  v.status = 101;
  v.accept = websocket_accept(trim(*r.key));
  return v;
}

}  // namespace xmppd::http
