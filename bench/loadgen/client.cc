#include "bench/loadgen/client.h"

#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace loadgen {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnect: return "connect";
    case ErrorKind::kTls: return "tls";
    case ErrorKind::kStream: return "stream_error";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kBind: return "bind";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kClosed: return "closed";
    case ErrorKind::kProtocol: return "protocol";
    case ErrorKind::kCount: break;
  }
  return "?";
}

const char* Client::state_name(State state) {
  switch (state) {
    case State::kNew: return "new";
    case State::kConnecting: return "connecting";
    case State::kPlainFeatures: return "waiting for features";
    case State::kWaitProceed: return "waiting for <proceed/>";
    case State::kTlsHandshake: return "TLS handshake";
    case State::kTlsFeatures: return "waiting for features after TLS";
    case State::kWaitChallenge: return "waiting for SASL challenge";
    case State::kWaitSuccess: return "waiting for SASL success";
    case State::kBoundFeatures: return "waiting for features after SASL";
    case State::kWaitBind: return "waiting for bind result";
    case State::kOnline: return "online";
    case State::kClosed: return "closed";
  }
  return "?";
}

namespace {

std::string openssl_error(const char* what) {
  std::string text = what;
  unsigned long code;
  char buf[256];
  while ((code = ERR_get_error()) != 0) {
    ERR_error_string_n(code, buf, sizeof buf);
    text += ": ";
    text += buf;
  }
  return text;
}

// The condition (first child's name) and text of a stream error or SASL failure.
std::string describe_error(const XmlTree& tree, const XmlNode& node) {
  std::string out;
  for (const XmlNode* c = tree.first_child(node); c != nullptr; c = tree.next_sibling(*c)) {
    if (c->name == "text") continue;
    if (!out.empty()) out += ' ';
    out += c->name;
  }
  if (const XmlNode* text = tree.child(node, "text"); text != nullptr && !text->text.empty())
    out += " (" + unescape(text->text) + ")";
  return out.empty() ? std::string(node.name) : out;
}

}  // namespace

Shared::~Shared() { shutdown(); }

void Shared::init() { flush_event_ = event_new(base, -1, 0, &Shared::on_flush, this); }

void Shared::shutdown() {
  if (flush_event_ != nullptr) event_free(flush_event_);
  flush_event_ = nullptr;
}

void Shared::queue_flush(Client& client) {
  if (client.flush_queued_) return;
  client.flush_queued_ = true;
  if (flush_list_.empty()) event_active(flush_event_, 0, 0);
  flush_list_.push_back(&client);
}

void Shared::on_flush(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Shared*>(arg);
  self->flushing_.swap(self->flush_list_);
  for (Client* c : self->flushing_) {
    c->flush_queued_ = false;
    c->flush();
  }
  self->flushing_.clear();
}

Client::Client(Shared& shared, const Endpoint& endpoint, std::string user, std::string password,
               std::string resource, std::uint32_t tag)
    : shared_(shared),
      endpoint_(endpoint),
      user_(std::move(user)),
      password_(std::move(password)),
      resource_(std::move(resource)),
      tag_(tag),
      scram_(shared.hash) {}

Client::~Client() { close_fd(); }

void Client::close_fd() {
  if (read_event_ != nullptr) event_free(read_event_);
  if (write_event_ != nullptr) event_free(write_event_);
  read_event_ = write_event_ = nullptr;
  if (ssl_ != nullptr) SSL_free(ssl_);
  ssl_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::string().swap(in_);
  std::string().swap(out_);
  out_off_ = 0;
}

void Client::fail(ErrorKind kind, const std::string& what) {
  if (state_ == State::kClosed) return;
  close_fd();
  state_ = State::kClosed;
  shared_.listener->on_failed(*this, kind, what);
}

void Client::close() {
  if (state_ == State::kClosed) return;
  if (state_ != State::kConnecting && state_ != State::kTlsHandshake && state_ != State::kNew && fd_ >= 0) {
    out_ += "</stream:stream>";
    flush();
  }
  close_fd();
  state_ = State::kClosed;
}

void Client::start() {
  // Also a new login of a client that was closed (--reconnect): nothing of the old one is kept.
  close_fd();
  scram_ = ScramClient(shared_.hash);
  header_seen_ = read_wants_write_ = write_wants_read_ = false;
  started_ns_ = now_ns();
  fd_ = socket(endpoint_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail(ErrorKind::kConnect, std::string("socket: ") + std::strerror(errno));
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  read_event_ = event_new(shared_.base, fd_, EV_READ | EV_PERSIST, &Client::on_read, this);
  write_event_ = event_new(shared_.base, fd_, EV_WRITE, &Client::on_write, this);
  state_ = State::kConnecting;
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&endpoint_.addr), endpoint_.addr_len) == 0) {
    finish_connect();
  } else if (errno == EINPROGRESS) {
    event_add(write_event_, nullptr);
  } else {
    fail(ErrorKind::kConnect, "connect to " + endpoint_.text + ": " + std::strerror(errno));
  }
}

void Client::finish_connect() {
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  if (error != 0) {
    fail(ErrorKind::kConnect, "connect to " + endpoint_.text + ": " + std::strerror(error));
    return;
  }
  event_add(read_event_, nullptr);
  state_ = State::kPlainFeatures;
  send_header();
}

void Client::send_header() {
  header_seen_ = false;
  out_ +=
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='";
  out_ += endpoint_.domain;
  out_ += "' version='1.0'>";
  flush();
}

void Client::want_write() {
  if (write_event_ != nullptr) event_add(write_event_, nullptr);
}

void Client::on_read(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Client*>(arg);
  if (self->state_ == State::kTlsHandshake) {
    self->continue_handshake();
    return;
  }
  self->do_read();
  if (self->write_wants_read_ && !self->closed()) self->flush();
}

void Client::on_write(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Client*>(arg);
  switch (self->state_) {
    case State::kConnecting: self->finish_connect(); return;
    case State::kTlsHandshake: self->continue_handshake(); return;
    case State::kClosed: return;
    default: break;
  }
  if (self->read_wants_write_) {
    self->read_wants_write_ = false;
    self->do_read();
    if (self->closed()) return;
  }
  self->flush();
}

void Client::continue_handshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    state_ = State::kTlsFeatures;
    send_header();
    return;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) return;  // the read event is always on
  if (e == SSL_ERROR_WANT_WRITE) {
    want_write();
    return;
  }
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    fail(ErrorKind::kTls, std::string("certificate of ") + endpoint_.domain + " not accepted: " +
                              X509_verify_cert_error_string(verify));
    return;
  }
  fail(ErrorKind::kTls, openssl_error("TLS handshake failed"));
}

void Client::flush() {
  if (fd_ < 0 || state_ == State::kConnecting || state_ == State::kTlsHandshake) return;
  while (out_off_ < out_.size()) {
    std::size_t len = std::min<std::size_t>(out_.size() - out_off_, INT_MAX);
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n = SSL_write(ssl_, out_.data() + out_off_, static_cast<int>(len));
      if (n > 0) {
        out_off_ += static_cast<std::size_t>(n);
        write_wants_read_ = false;
        continue;
      }
      int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_WANT_WRITE) {
        want_write();
        return;
      }
      if (e == SSL_ERROR_WANT_READ) {
        write_wants_read_ = true;
        return;
      }
      fail(ErrorKind::kClosed, openssl_error("TLS write failed"));
      return;
    }
    ssize_t n = send(fd_, out_.data() + out_off_, len, MSG_NOSIGNAL);
    if (n > 0) {
      out_off_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      want_write();
      return;
    }
    fail(ErrorKind::kClosed, std::string("write: ") + std::strerror(errno));
    return;
  }
  out_.clear();
  out_off_ = 0;
  if (shared_.release_buffers && state_ == State::kOnline) std::string().swap(out_);
}

void Client::do_read() {
  char* buf = shared_.read_buffer.data();
  const std::size_t size = shared_.read_buffer.size();
  for (;;) {
    std::size_t got;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buf, static_cast<int>(size));
      if (n <= 0) {
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ) return;
        if (e == SSL_ERROR_WANT_WRITE) {
          read_wants_write_ = true;
          want_write();
          return;
        }
        if (e == SSL_ERROR_ZERO_RETURN)
          fail(ErrorKind::kClosed, std::string("server closed TLS (") + state_name(state_) + ")");
        else
          fail(ErrorKind::kClosed, openssl_error((std::string("TLS read failed (") + state_name(state_) + ")").c_str()));
        return;
      }
      got = static_cast<std::size_t>(n);
    } else {
      ssize_t n = read(fd_, buf, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        fail(ErrorKind::kClosed, std::string("read: ") + std::strerror(errno));
        return;
      }
      if (n == 0) {
        fail(ErrorKind::kClosed, std::string("server closed the connection (") + state_name(state_) + ")");
        return;
      }
      got = static_cast<std::size_t>(n);
    }
    in_.append(buf, got);
    process_input();
    // After <proceed/> the next bytes are TLS, read by the handshake.
    if (state_ == State::kClosed || state_ == State::kTlsHandshake) return;
  }
}

void Client::process_input() {
  std::size_t off = 0;
  for (;;) {
    std::size_t consumed = 0;
    ScanResult r = shared_.scanner.scan(std::string_view(in_).substr(off), !header_seen_, consumed, shared_.tree);
    if (r == ScanResult::kIncomplete) {
      off += consumed;
      break;
    }
    if (r == ScanResult::kError) {
      fail(ErrorKind::kProtocol, "cannot parse what the server sent: " + in_.substr(off, 200));
      return;
    }
    off += consumed;
    if (r == ScanResult::kStreamHeader) {
      header_seen_ = true;
      continue;
    }
    if (r == ScanResult::kStreamEnd) {
      fail(ErrorKind::kClosed, std::string("server ended the stream (") + state_name(state_) + ")");
      return;
    }
    handle(shared_.tree);
    if (state_ == State::kClosed) return;
    if (state_ == State::kTlsHandshake) {
      off = in_.size();
      break;
    }
  }
  if (off == in_.size()) {
    in_.clear();
    if (shared_.release_buffers && state_ == State::kOnline) std::string().swap(in_);
  } else if (off > 0) {
    in_.erase(0, off);
  }
}

void Client::handle(const XmlTree& tree) {
  const XmlNode& root = tree.root();
  if (root.name == "error") {  // stream:error
    fail(ErrorKind::kStream, "stream error: " + describe_error(tree, root));
    return;
  }
  switch (state_) {
    case State::kOnline:
      if (root.name == "message") {
        shared_.listener->on_message(*this, tree);
      } else if (root.name == "presence") {
        shared_.listener->on_stanza(*this, tree);
      } else if (root.name == "iq") {
        std::string_view type = tree.attr(root, "type");
        if (type != "get" && type != "set") {
          shared_.listener->on_stanza(*this, tree);
          return;
        }
        std::string_view id = tree.attr(root, "id"), from = tree.attr(root, "from");
        std::string& o = output();
        o += "<iq type='";
        const XmlNode* payload = tree.first_child(root);
        bool ping = payload != nullptr && payload->name == "ping";
        o += ping ? "result" : "error";
        o += "' id='";
        o += id;
        if (!from.empty()) {
          o += "' to='";
          o += from;
        }
        o += ping ? "'/>"
                  : "'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                    "</error></iq>";
      }
      return;
    case State::kPlainFeatures:
      if (root.name != "features") break;
      if (tree.child(root, "starttls") == nullptr) {
        fail(ErrorKind::kTls, "server offers no STARTTLS");
        return;
      }
      out_ += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
      state_ = State::kWaitProceed;
      flush();
      return;
    case State::kWaitProceed:
      if (root.name != "proceed") {
        fail(ErrorKind::kTls, "STARTTLS refused: <" + std::string(root.name) + "/>");
        return;
      }
      ssl_ = SSL_new(shared_.ssl_ctx);
      if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
        fail(ErrorKind::kTls, openssl_error("SSL_new"));
        return;
      }
      SSL_set_tlsext_host_name(ssl_, endpoint_.domain.c_str());
      if (shared_.verify) SSL_set1_host(ssl_, endpoint_.domain.c_str());
      SSL_set_connect_state(ssl_);
      state_ = State::kTlsHandshake;
      continue_handshake();
      return;
    case State::kTlsFeatures: {
      if (root.name != "features") break;
      const XmlNode* mechanisms = tree.child(root, "mechanisms");
      std::string offered;
      bool found = false;
      for (const XmlNode* m = mechanisms ? tree.first_child(*mechanisms) : nullptr; m; m = tree.next_sibling(*m)) {
        if (m->text == shared_.mechanism) found = true;
        offered += offered.empty() ? "" : " ";
        offered += m->text;
      }
      if (!found) {
        fail(ErrorKind::kAuth, shared_.mechanism + " not offered (offered: " + offered + ")");
        return;
      }
      out_ += "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='";
      out_ += shared_.mechanism;
      out_ += "'>";
      out_ += scram_.first_message(user_);
      out_ += "</auth>";
      state_ = State::kWaitChallenge;
      flush();
      return;
    }
    case State::kWaitChallenge: {
      if (root.name == "failure") {
        fail(ErrorKind::kAuth, "SASL failure: " + describe_error(tree, root));
        return;
      }
      if (root.name != "challenge") break;
      std::string error;
      auto response = scram_.final_message(root.text, password_, shared_.cache, error);
      if (!response) {
        fail(ErrorKind::kAuth, error);
        return;
      }
      out_ += "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
      out_ += *response;
      out_ += "</response>";
      state_ = State::kWaitSuccess;
      flush();
      return;
    }
    case State::kWaitSuccess:
      if (root.name == "failure") {
        fail(ErrorKind::kAuth, "SASL failure: " + describe_error(tree, root));
        return;
      }
      if (root.name == "challenge") {  // v= as a challenge (RFC 6120 §6.3.10 allows it)
        if (!scram_.verify_success(root.text)) {
          fail(ErrorKind::kAuth, "server signature does not match");
          return;
        }
        out_ += "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
        flush();
        return;
      }
      if (root.name != "success") break;
      if (!root.text.empty() && !scram_.verify_success(root.text)) {
        fail(ErrorKind::kAuth, "server signature does not match");
        return;
      }
      scram_ = ScramClient(shared_.hash);  // nothing secret kept past the login
      state_ = State::kBoundFeatures;
      send_header();
      return;
    case State::kBoundFeatures:
      if (root.name != "features") break;
      if (tree.child(root, "bind") == nullptr) {
        fail(ErrorKind::kBind, "server offers no resource binding");
        return;
      }
      out_ += "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>";
      out_ += resource_;
      out_ += "</resource></bind></iq>";
      state_ = State::kWaitBind;
      flush();
      return;
    case State::kWaitBind: {
      if (root.name != "iq" || tree.attr(root, "id") != "bind") return;  // anything else: not ours
      const XmlNode* bind = tree.child(root, "bind");
      const XmlNode* jid = bind ? tree.child(*bind, "jid") : nullptr;
      if (tree.attr(root, "type") != "result" || jid == nullptr) {
        fail(ErrorKind::kBind, "bind refused: " + describe_error(tree, tree.child(root, "error") ? *tree.child(root, "error") : root));
        return;
      }
      jid_ = unescape(jid->text);
      out_ += "<presence/>";
      state_ = State::kOnline;
      flush();
      if (state_ == State::kOnline) shared_.listener->on_online(*this);
      return;
    }
    default:
      return;
  }
  fail(ErrorKind::kProtocol, std::string("unexpected <") + std::string(root.name) + "/> (" + state_name(state_) + ")");
}

}  // namespace loadgen
