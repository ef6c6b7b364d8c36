// turn_external (XEP-0215 External Service Discovery, urn:xmpp:extdisco:2, and the
// urn:xmpp:extdisco:1 of XEP-0215 v0.6 that Prosody still answers, in the namespace asked),
// as Prosody's mod_turn_external with mod_external_services: a host that enables it with a
// turn_external_secret tells its own clients of a STUN and a TURN server, over UDP (and TCP
// with turn_external_tcp), and gives them time-limited TURN credentials that the TURN server
// checks with the same secret. The secret never leaves the router; what a client gets is
// good until its expiry only.
//
// Trusts: the IQ's addresses (the router checked them); the payload's 'type' filter is
// compared, never echoed.
#include "router/modules/turn_external.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <ctime>
#include <optional>
#include <vector>

#include "common/base64.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {

TurnCredentials turn_rest_credentials(std::string_view secret, std::int64_t expiry, std::string_view user) {
  TurnCredentials out;
  out.username = std::to_string(expiry);
  if (!user.empty()) out.username += ":" + std::string(user);  // as Prosody's turn_external_user
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(out.username.data()), out.username.size(), mac, &length) == nullptr)
    return {};
  out.password = base64_encode(std::string_view(reinterpret_cast<const char*>(mac), length));
  return out;
}

namespace {

constexpr std::string_view kExtdiscoNs = "urn:xmpp:extdisco:2";
constexpr std::string_view kExtdisco1Ns = "urn:xmpp:extdisco:1";  // XEP-0215 v0.6, as Prosody

struct Service {
  std::string_view type, transport;
};

// What <credentials/> asks for: <service type='turn' host='...' port='...'/> each, as XEP-0215
// §3.2 and Prosody (port optional: any). Nullopt when one lacks its type or host.
struct Wanted {
  std::string type, host;
  unsigned port = 0;
};
std::optional<std::vector<Wanted>> wanted_credentials(const xml::Element& payload) {
  std::vector<Wanted> out;
  for (const xml::Element* e : payload.children()) {
    if (e->ns() != payload.ns() || e->name() != "service") continue;
    Wanted w{e->attribute_or("type"), e->attribute_or("host"), 0};
    if (w.type.empty() || w.host.empty()) return std::nullopt;
    const std::string port = e->attribute_or("port");
    if (!port.empty() && std::from_chars(port.data(), port.data() + port.size(), w.port).ec != std::errc()) w.port = 0;
    out.push_back(std::move(w));
  }
  return out;
}

std::string xep0082(std::time_t t) {
  char out[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

class TurnExternal final : public Module {
 public:
  explicit TurnExternal(const ModuleContext& context)
      : Module("turn_external", context.index), server_(context.server) {
    for (std::string_view ns : {kExtdiscoNs, kExtdisco1Ns}) {
      context.table.on_iq(IqScope::kServer, ns, "services", *this, [this](const IqRequest& iq) { answer(iq, false); });
      context.table.on_iq(IqScope::kServer, ns, "credentials", *this,
                          [this](const IqRequest& iq) { answer(iq, true); });
    }
  }
  // The router enables the module only on hosts with a secret (daemon/router_settings.cc),
  // so the feature is never offered by a host that would answer nothing.
  void server_features(std::vector<std::string>& features) const override {
    features.emplace_back(kExtdiscoNs);
    features.emplace_back(kExtdisco1Ns);
  }

 private:
  void answer(const IqRequest& iq, bool credentials_only) {
    if (iq.set()) return server_.bounce(iq.stanza, "cancel", "bad-request");
    // As Prosody: the host's services are for clients of this server, not for other servers' users.
    if (iq.session == nullptr) return server_.bounce(iq.stanza, "auth", "forbidden");
    const HostConfig* host = server_.host(iq.to.domain());
    if (host == nullptr || !host->turn) return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    const TurnOptions& turn = *host->turn;
    const std::string wanted = iq.payload.attribute_or("type");
    std::optional<std::vector<Wanted>> credentials;
    if (credentials_only && !(credentials = wanted_credentials(iq.payload)))
      return server_.bounce(iq.stanza, "modify", "bad-request", "The 'type' and 'host' attributes are required.");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    // The answer in the namespace of the question (extdisco:2 or :1), as Prosody's.
    const std::string_view ns = iq.payload.ns() == kExtdisco1Ns ? kExtdisco1Ns : kExtdiscoNs;
    xml::Element& list = result.add_child(xml::Element(ns, iq.payload.name()));
    for (const Service& service : services(turn)) {
      if (credentials_only ? !asked_for(*credentials, service, turn) : !wanted.empty() && wanted != service.type)
        continue;
      add_service(list, service, turn);
    }
    server_.send(result);
  }

  // Only TURN has credentials; a service is given when asked for by type and host, and by
  // port unless none was named.
  static bool asked_for(const std::vector<Wanted>& credentials, const Service& service, const TurnOptions& turn) {
    if (service.type != "turn") return false;
    for (const Wanted& w : credentials)
      if (w.type == service.type && w.host == turn.host && (w.port == 0 || w.port == turn.port)) return true;
    return false;
  }

  static std::vector<Service> services(const TurnOptions& turn) {
    std::vector<Service> out = {{"stun", "udp"}};
    if (turn.tcp) out.push_back({"stun", "tcp"});
    out.push_back({"turn", "udp"});
    if (turn.tcp) out.push_back({"turn", "tcp"});
    // As Prosody's: listed at its port, without credentials (only "turn" has a secret there).
    if (turn.tls_port != 0) out.push_back({"turns", "tcp"});
    return out;
  }

  static void add_service(xml::Element& list, const Service& service, const TurnOptions& turn) {
    xml::Element& e = list.add_child(xml::Element(list.ns(), "service"));
    e.set_attribute("type", std::string(service.type));
    e.set_attribute("transport", std::string(service.transport));
    e.set_attribute("host", turn.host);
    e.set_attribute("port", std::to_string(service.type == "turns" ? turn.tls_port : turn.port));
    if (service.type != "turn") return;
    const std::time_t expiry = std::time(nullptr) + static_cast<std::time_t>(turn.ttl);
    TurnCredentials credentials = turn_rest_credentials(turn.secret, expiry, turn.user);
    e.set_attribute("username", credentials.username);
    e.set_attribute("password", credentials.password);
    e.set_attribute("expires", xep0082(expiry));
    e.set_attribute("restricted", "1");
  }

  Server& server_;
};

}  // namespace

std::unique_ptr<Module> make_turn_external(const ModuleContext& context) {
  return std::make_unique<TurnExternal>(context);
}

}  // namespace xmppd::router
