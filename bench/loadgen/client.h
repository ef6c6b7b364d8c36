// One XMPP client connection of the load generator, driven by the shared libevent loop:
// TCP connect, stream, STARTTLS, SCRAM, stream restart, resource binding, initial presence,
// then stanzas in both directions. Non-blocking throughout; output is gathered in a buffer
// per connection and written once per loop pass (Shared::queue_flush), so that a burst of
// stanzas becomes one TLS record and one system call.
#pragma once

#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/loadgen/scram_client.h"
#include "bench/loadgen/xml_scan.h"

namespace loadgen {

inline std::uint64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

enum class ErrorKind { kConnect, kTls, kStream, kAuth, kBind, kTimeout, kClosed, kProtocol, kCount };
const char* error_kind_name(ErrorKind kind);

struct Endpoint {
  struct sockaddr_storage addr = {};
  socklen_t addr_len = 0;
  std::string domain;
  std::string text;  // as given, for messages
};

class Client;

class ClientListener {
 public:
  // Bound and initial presence sent.
  virtual void on_online(Client& client) = 0;
  // The connection is gone (before or after it was online); `client` stays valid but closed.
  virtual void on_failed(Client& client, ErrorKind kind, const std::string& what) = 0;
  // A <message/> for an online client; `tree` is valid during the call only.
  virtual void on_message(Client& client, const XmlTree& tree) = 0;
  // A <presence/>, or an <iq/> result or error, for an online client (the group chat mode
  // follows its joins with them); `tree` is valid during the call only.
  virtual void on_stanza(Client&, const XmlTree&) {}

 protected:
  ~ClientListener() = default;
};

// What all connections share: the loop, the TLS context, scratch buffers and the pass-end
// flush of output.
struct Shared {
  Shared() = default;
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared();
  // init() once `base` is set; shutdown() before the base is freed.
  void init();
  void shutdown();
  void queue_flush(Client& client);

  struct event_base* base = nullptr;
  SSL_CTX* ssl_ctx = nullptr;
  bool verify = true;
  bool release_buffers = false;  // idle clients give their buffers back to the allocator
  xmppd::auth::ScramHash hash = xmppd::auth::ScramHash::kSha1;
  std::string mechanism = "SCRAM-SHA-1";
  SaltedPasswordCache cache;
  ClientListener* listener = nullptr;

  XmlScanner scanner;
  XmlTree tree;
  std::vector<char> read_buffer = std::vector<char>(64 * 1024);

 private:
  static void on_flush(evutil_socket_t, short, void* arg);
  struct event* flush_event_ = nullptr;
  std::vector<Client*> flush_list_;
  std::vector<Client*> flushing_;
};

class Client {
 public:
  enum class State {
    kNew, kConnecting, kPlainFeatures, kWaitProceed, kTlsHandshake, kTlsFeatures, kWaitChallenge,
    kWaitSuccess, kBoundFeatures, kWaitBind, kOnline, kClosed,
  };
  Client(Shared& shared, const Endpoint& endpoint, std::string user, std::string password, std::string resource,
         std::uint32_t tag);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // Starts the connection; failures are reported to the listener (possibly from inside).
  void start();
  // Ends the stream (</stream:stream>, written at once if the socket takes it) and closes.
  void close();
  // Closes with an error reported to the listener, unless already closed.
  void fail(ErrorKind kind, const std::string& what);

  State state() const { return state_; }
  static const char* state_name(State state);
  bool online() const { return state_ == State::kOnline; }
  bool closed() const { return state_ == State::kClosed; }
  std::uint32_t tag() const { return tag_; }
  std::uint64_t started_ns() const { return started_ns_; }
  const std::string& jid() const { return jid_; }  // as bound

  // The output buffer, to append stanzas to; it is written at the end of the loop pass.
  std::string& output() {
    shared_.queue_flush(*this);
    return out_;
  }
  std::size_t pending_output() const { return out_.size() - out_off_; }
  void flush();

 private:
  friend struct Shared;
  static void on_read(evutil_socket_t, short, void* arg);
  static void on_write(evutil_socket_t, short, void* arg);
  void finish_connect();
  void continue_handshake();
  void do_read();
  void process_input();
  void handle(const XmlTree& tree);
  void send_header();
  void close_fd();
  void want_write();

  Shared& shared_;
  const Endpoint& endpoint_;
  std::string user_;
  std::string password_;
  std::string resource_;
  std::uint32_t tag_;
  State state_ = State::kNew;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  struct event* read_event_ = nullptr;
  struct event* write_event_ = nullptr;
  bool header_seen_ = false;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  bool flush_queued_ = false;
  std::uint64_t started_ns_ = 0;
  std::string in_;
  std::string out_;
  std::size_t out_off_ = 0;
  ScramClient scram_;
  std::string jid_;
};

}  // namespace loadgen
