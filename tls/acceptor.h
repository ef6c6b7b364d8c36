// Direct TLS (XEP-0368) on a listening socket: accept, run the server handshake on the
// event loop, and hand over the established connection.
#pragma once

#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/listener.h"
#include "common/unique_fd.h"
#include "proto/channel.h"
#include "tls/server_contexts.h"

namespace xmppd::tls {

struct Established {
  UniqueFd fd;
  SslPtr ssl;
  std::string peer;  // "address port", for logs
};

class Acceptor {
 public:
  using Handler = std::function<void(Established)>;
  static constexpr int kHandshakeTimeoutSeconds = 30;

  Acceptor(struct event_base* base, UniqueFd listener, const ServerContexts& contexts, std::string service,
           Handler on_established);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  ~Acceptor();

 private:
  struct Handshake {
    Acceptor* owner;
    UniqueFd fd;
    SslPtr ssl;
    std::string peer;
    ipc::EventPtr event;
  };

  static void on_handshake(evutil_socket_t, short what, void* arg);
  void start(UniqueFd fd, std::string peer);
  void step(Handshake* h, bool timed_out);
  void finish(Handshake* h);

  struct event_base* base_;
  const ServerContexts& contexts_;
  std::string service_;
  Handler on_established_;
  std::unique_ptr<net::Listener> listener_;
  std::map<Handshake*, std::unique_ptr<Handshake>> pending_;
};

}  // namespace xmppd::tls

namespace xmppd::tls {
// "TLSv1.3 TLS_AES_256_GCM_SHA384, SNI example.com, ALPN xmpp-client", for logs.
std::string describe_session(SSL* ssl);
}  // namespace xmppd::tls
