// XEP-0156 over HTTP (host_meta.h): two fixed documents per WebSocket host, with CORS open to
// every origin (web clients on other sites look them up, and they hold nothing private).
#include "http/host_meta.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "http/http_server.h"

namespace xmppd::http {
namespace {

constexpr char kWebSocketRel[] = "urn:xmpp:alt-connections:websocket";

// The URL comes from the configuration, not from the request; escaped all the same.
std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // no control character is in a URL
    out += c;
  }
  return out;
}

}  // namespace

std::string websocket_url(const ipc::HttpSettings& settings, const std::string& host) {
  std::string base = settings.external_url();
  if (!base.empty()) {
    if (base.starts_with("https://"))
      base = "wss://" + base.substr(8);
    else if (base.starts_with("http://"))
      base = "ws://" + base.substr(7);
    if (!base.ends_with("/")) base += '/';
  } else if (settings.https_port() != 0) {
    base = "wss://" + host + ":" + std::to_string(settings.https_port()) + "/";
  } else {
    base = "ws://" + host + ":" + std::to_string(settings.http_port()) + "/";
  }
  return base + "xmpp-websocket";
}

std::string host_meta_xrd(const std::string& url) {
  return "<?xml version='1.0' encoding='utf-8'?>\n"
         "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n"
         "  <Link rel='" +
         std::string(kWebSocketRel) + "' href='" + xml_escape(url) + "'/>\n</XRD>\n";
}

std::string host_meta_json(const std::string& url) {
  return "{\"links\":[{\"rel\":\"" + std::string(kWebSocketRel) + "\",\"href\":\"" + json_escape(url) + "\"}]}\n";
}

void HostMeta::configure(const ipc::HttpSettings& settings) {
  settings_ = settings;
  hosts_ = std::set<std::string>(settings.websocket_hosts().begin(), settings.websocket_hosts().end());
}

void HostMeta::on_request(evhttp_request* req, const RequestInfo& info) {
  const bool json = info.path == "/.well-known/host-meta.json";
  if ((!json && info.path != "/.well-known/host-meta") || !hosts_.contains(info.host)) return send_error(req, 404);
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
  const evhttp_cmd_type method = evhttp_request_get_command(req);
  if (method == EVHTTP_REQ_OPTIONS) {
    evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    evhttp_add_header(out, "Access-Control-Max-Age", "7200");
    evhttp_send_reply(req, 204, "No Content", nullptr);
    return;
  }
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) return send_error(req, 405);
  const std::string url = websocket_url(settings_, info.host);
  const std::string body = json ? host_meta_json(url) : host_meta_xrd(url);
  evhttp_add_header(out, "Content-Type", json ? "application/json" : "application/xrd+xml");
  evbuffer* buffer = evbuffer_new();
  evbuffer_add(buffer, body.data(), body.size());
  evhttp_send_reply(req, 200, "OK", buffer);
  evbuffer_free(buffer);
}

}  // namespace xmppd::http
