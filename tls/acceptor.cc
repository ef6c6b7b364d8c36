#include "tls/acceptor.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include "common/log.h"

namespace xmppd::tls {
namespace {

std::string handshake_error(SSL* ssl, int rc) {
  int err = SSL_get_error(ssl, rc);
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
  }
  return err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN ? "connection closed" : "error " + std::to_string(err);
}

}  // namespace

Acceptor::Acceptor(struct event_base* base, UniqueFd listener, const ServerContexts& contexts, std::string service,
                   Handler on_established)
    : base_(base), contexts_(contexts), service_(std::move(service)), on_established_(std::move(on_established)) {
  listener_ = std::make_unique<net::Listener>(
      base_, std::move(listener), service_ + " direct TLS",
      [this](UniqueFd fd, std::string peer) { start(std::move(fd), std::move(peer)); });
}

Acceptor::~Acceptor() = default;

void Acceptor::start(UniqueFd fd, std::string peer) {
  SslPtr ssl = contexts_.new_ssl();
  if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1) {
    log::warning("%s from %s: no certificate to offer; closed", service_.c_str(), peer.c_str());
    return;
  }
  auto h = std::make_unique<Handshake>(Handshake{this, std::move(fd), std::move(ssl), std::move(peer), nullptr});
  Handshake* raw = h.get();
  pending_[raw] = std::move(h);
  step(raw, false);
}

void Acceptor::on_handshake(evutil_socket_t, short what, void* arg) {
  auto* h = static_cast<Handshake*>(arg);
  h->owner->step(h, (what & EV_TIMEOUT) != 0);
}

void Acceptor::step(Handshake* h, bool timed_out) {
  if (timed_out) {
    log::info("%s TLS handshake from %s timed out", service_.c_str(), h->peer.c_str());
    pending_.erase(h);
    return;
  }
  int rc = SSL_accept(h->ssl.get());
  if (rc == 1) {
    finish(h);
    return;
  }
  short wanted;
  switch (SSL_get_error(h->ssl.get(), rc)) {
    case SSL_ERROR_WANT_READ: wanted = EV_READ; break;
    case SSL_ERROR_WANT_WRITE: wanted = EV_WRITE; break;
    default:
      log::info("%s TLS handshake from %s failed: %s", service_.c_str(), h->peer.c_str(),
                handshake_error(h->ssl.get(), rc).c_str());
      pending_.erase(h);
      return;
  }
  h->event.reset(event_new(base_, h->fd.get(), wanted, on_handshake, h));
  timeval timeout{kHandshakeTimeoutSeconds, 0};
  event_add(h->event.get(), &timeout);
}

void Acceptor::finish(Handshake* h) {
  std::unique_ptr<Handshake> done = std::move(pending_[h]);
  pending_.erase(h);
  done->event.reset();
  on_established_(Established{std::move(done->fd), std::move(done->ssl), std::move(done->peer)});
}

}  // namespace xmppd::tls

namespace xmppd::tls {
std::string describe_session(SSL* ssl) {
  std::string text = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  text += ", SNI ";
  text += sni != nullptr ? sni : "(none)";
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  text += ", ALPN ";
  text += alpn_len > 0 ? std::string(reinterpret_cast<const char*>(alpn), alpn_len) : "(none)";
  return text;
}
}  // namespace xmppd::tls
