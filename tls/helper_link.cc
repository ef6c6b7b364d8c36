#include "tls/helper_link.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace xmppd::tls {

HelperLink::HelperLink(struct event_base* base, UniqueFd sock, CertificatesHandler on_certificates,
                       ClosedHandler on_closed)
    : sock_(std::move(sock)), on_certificates_(std::move(on_certificates)), on_closed_(std::move(on_closed)) {
  ipc::set_nonblocking(sock_.get());
  buffer_.resize(kFromHelper.max_record + 1);
  read_event_.reset(event_new(base, sock_.get(), EV_READ | EV_PERSIST, on_readable, this));
  deferred_event_.reset(event_new(base, -1, 0, on_deferred, this));
  event_add(read_event_.get(), nullptr);
  set_remote_signer(this);
}

HelperLink::~HelperLink() { set_remote_signer(nullptr); }

void HelperLink::on_readable(evutil_socket_t, short, void* arg) { static_cast<HelperLink*>(arg)->read_available(); }

void HelperLink::on_deferred(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HelperLink*>(arg);
  std::vector<ipc::CertificateSet> sets = std::move(self->deferred_);
  self->deferred_.clear();
  for (const auto& set : sets) self->on_certificates_(set);
}

bool HelperLink::handle(std::span<const std::uint8_t> bytes, std::vector<UniqueFd>& fds, std::string& why) {
  ipc::FromTlsHelper message;
  if (!ipc::decode_envelope(message, bytes, why)) return false;
  if (!fds.empty()) {
    why = "descriptor on the signing link";
    return false;
  }
  switch (message.msg_case()) {
    case ipc::FromTlsHelper::kCertificates:
      // Applied from the loop, never in the middle of a handshake's signature.
      deferred_.push_back(std::move(*message.mutable_certificates()));
      event_active(deferred_event_.get(), 0, 0);
      return true;
    case ipc::FromTlsHelper::kSignature:
      // An answer to a request that timed out is late, not hostile: dropped.
      if (awaited_ != 0 && message.signature().request_id() == awaited_) {
        answer_ = std::move(*message.mutable_signature());
        answered_ = true;
      }
      return true;
    default:
      why = "message type not accepted from the tls helper";
      return false;
  }
}

void HelperLink::read_available() {
  std::vector<UniqueFd> fds;
  for (;;) {
    std::size_t length = 0;
    ipc::RecvStatus status = ipc::recv_record(sock_.get(), buffer_, 0, length, fds);
    if (status == ipc::RecvStatus::kWouldBlock) return;
    if (status != ipc::RecvStatus::kRecord) {
      close(status != ipc::RecvStatus::kClosed && status != ipc::RecvStatus::kError, ipc::describe(status));
      return;
    }
    std::string why;
    if (!handle(std::span(buffer_.data(), length), fds, why)) {
      close(true, why);
      return;
    }
    if (answered_) return;
  }
}

void HelperLink::close(bool violation, std::string_view detail) {
  if (!sock_) return;
  read_event_.reset();
  sock_.reset();
  if (on_closed_) on_closed_(violation, detail);
}

bool HelperLink::wait_readable(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  struct pollfd p = {sock_.get(), POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(left.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

bool HelperLink::send_blocking(const ipc::ToTlsHelper& message, std::chrono::steady_clock::time_point deadline) {
  std::string bytes = message.SerializeAsString();
  std::span<const std::uint8_t> record(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (bytes.size() > kToHelper.max_record) return false;
  for (;;) {
    switch (ipc::send_record(sock_.get(), record, {})) {
      case ipc::SendStatus::kSent: return true;
      case ipc::SendStatus::kError: return false;
      case ipc::SendStatus::kWouldBlock: break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    struct pollfd p = {sock_.get(), POLLOUT, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  }
}

bool HelperLink::sign(std::uint32_t key_id, ipc::SignatureScheme scheme, std::string_view digest,
                      std::span<const std::uint8_t> message, std::vector<std::uint8_t>& signature) {
  if (!sock_) return false;
  auto deadline = std::chrono::steady_clock::now() + kSignTimeout;
  ipc::ToTlsHelper request;
  ipc::SignRequest* r = request.mutable_sign();
  r->set_request_id(next_request_++);
  r->set_key_id(key_id);
  r->set_scheme(scheme);
  r->set_digest(std::string(digest));
  r->set_message(message.data(), message.size());
  if (!send_blocking(request, deadline)) {
    log::error("cannot send a signing request to the tls helper");
    return false;
  }
  awaited_ = r->request_id();
  answered_ = false;
  while (!answered_ && sock_ && wait_readable(deadline)) read_available();
  awaited_ = 0;
  if (!answered_) {
    log::error("no signature from the tls helper within %lld ms", static_cast<long long>(kSignTimeout.count()));
    return false;
  }
  if (!answer_.error().empty()) {
    log::error("tls helper refused to sign: %s", answer_.error().c_str());
    return false;
  }
  signature.assign(answer_.signature().begin(), answer_.signature().end());
  return true;
}

}  // namespace xmppd::tls
