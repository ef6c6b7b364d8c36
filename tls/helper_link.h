// The router's and the s2s worker's link to the tls helper: certificate sets arrive on it
// at any time, and signatures are asked for on it while a handshake waits.
//
// Signing blocks the calling process until the answer comes (bounded by kSignTimeout):
// libssl calls the provider synchronously inside SSL_do_handshake. A signature costs the
// helper well under a millisecond for ECDSA and Ed25519 and about one for RSA-2048; see
// BENCHMARKS.md for what this costs in handshakes per second.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "proto/channel.h"
#include "tls/remote_key.h"
#include "tls_signer.pb.h"

namespace xmppd::tls {

class HelperLink final : public RemoteSigner {
 public:
  using CertificatesHandler = std::function<void(const ipc::CertificateSet&)>;
  // A violation (with its reason) or the helper's end of the link going away.
  using ClosedHandler = std::function<void(bool violation, std::string_view detail)>;

  static constexpr std::chrono::milliseconds kSignTimeout{5000};
  static constexpr ipc::Limits kToHelper{64 << 10, 0};
  static constexpr ipc::Limits kFromHelper{1 << 20, 0};

  HelperLink(struct event_base* base, UniqueFd sock, CertificatesHandler on_certificates, ClosedHandler on_closed);
  ~HelperLink() override;

  bool sign(std::uint32_t key_id, ipc::SignatureScheme scheme, std::string_view digest,
            std::span<const std::uint8_t> message, std::vector<std::uint8_t>& signature) override;

 private:
  static void on_readable(evutil_socket_t, short, void* arg);
  static void on_deferred(evutil_socket_t, short, void* arg);
  // Handles one record; returns false (with `why`) on a violation.
  bool handle(std::span<const std::uint8_t> bytes, std::vector<UniqueFd>& fds, std::string& why);
  void read_available();
  void close(bool violation, std::string_view detail);
  bool send_blocking(const ipc::ToTlsHelper& message, std::chrono::steady_clock::time_point deadline);
  bool wait_readable(std::chrono::steady_clock::time_point deadline);

  UniqueFd sock_;
  CertificatesHandler on_certificates_;
  ClosedHandler on_closed_;
  ipc::EventPtr read_event_, deferred_event_;
  std::vector<std::uint8_t> buffer_;
  std::vector<ipc::CertificateSet> deferred_;  // arrived while a signature was awaited
  std::uint64_t next_request_ = 1;
  // Set while sign() waits: the answer it is waiting for lands here.
  std::uint64_t awaited_ = 0;
  bool answered_ = false;
  ipc::SignResponse answer_;
};

}  // namespace xmppd::tls
