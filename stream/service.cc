#include "stream/service.h"

#include <utility>

#include "common/log.h"
#include "tls/remote_key.h"

namespace xmppd::stream {

bool Service::init(std::string& error) {
  if (tls::init_remote_keys()) return true;
  error = "cannot set up OpenSSL's providers";
  return false;
}

Service::Service(struct event_base* base, StreamKind kind, tls::Service::ViolationHandler on_helper_violation)
    : kind_(kind),
      tls_(base, kind == StreamKind::kClient ? "c2s" : "s2s", kind == StreamKind::kClient ? "xmpp-client" : "xmpp-server",
           std::move(on_helper_violation)),
      sessions_(base, kind, tls_.contexts()) {
  tls_.on_certificates([this] { open_held_listeners(); });
}

void Service::configure(const google::protobuf::RepeatedPtrField<std::string>& hosts,
                        const google::protobuf::RepeatedPtrField<ipc::HostTls>& tls, const ipc::StreamLimits& limits) {
  tls_.configure(tls);
  sessions_.configure({hosts.begin(), hosts.end()}, limits);
}

void Service::add_listener(const ipc::Listener& listener, UniqueFd fd) {
  bool direct = listener.kind() == ipc::Listener::KIND_C2S_DIRECT_TLS ||
                listener.kind() == ipc::Listener::KIND_S2S_DIRECT_TLS;
  log::info("%s%s on %s port %u%s", name(), direct ? " direct TLS" : "", listener.address().c_str(), listener.port(),
            tls_.has_certificates() ? "" : " (accepting once the TLS certificates are in)");
  if (!tls_.has_certificates()) {
    held_.push_back(HeldListener{std::move(fd), direct});
    return;
  }
  // Direct TLS connections are admitted like the others before their handshake, which then
  // runs under the session's stream header deadline.
  sessions_.add_listener(std::move(fd), direct);
}

void Service::open_held_listeners() {
  for (HeldListener& held : std::exchange(held_, {})) sessions_.add_listener(std::move(held.fd), held.direct_tls);
}

}  // namespace xmppd::stream
