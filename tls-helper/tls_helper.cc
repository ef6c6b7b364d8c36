// xmppd-tls: the tls helper.
//
// Holds:      every private key (nothing else in xmppd ever does).
// Talks to:   the parent (control, key files), the router and the s2s worker (signing).
// Runs as:    tls_helper_user, chrooted to empty_path: it opens no file at all; the parent
//             opens the certificate and key files and passes their descriptors.
// Syscalls:   sandbox/policy.cc, role "tls": IPC records and the event loop, nothing else.
//
// It reads no network byte: its only inputs are framed requests from the two processes
// that do. It sends them certificate chains, and signs only TLS handshake signature inputs
// (signing_input.cc) with keys of the service the asking process provides. After a reload
// the previous keys sign for 60 s more, then are freed (key_store.h); a client that stops
// reading its answers is dropped (proto/channel.h), and refusals are logged in summary
// (common/refusal_log.h). Its two timers need no syscall beyond the event loop's.
#include <openssl/crypto.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>

#include "common/log.h"
#include "common/refusal_log.h"
#include "runtime/child.h"
#include "runtime/metric_samples.h"
#include "tls-helper/key_store.h"
#include "tls-helper/signing_input.h"
#include "tls_signer.pb.h"

namespace xmppd::tls_helper {
namespace {

constexpr std::size_t kMaxCredentialFile = 1 << 20;
// Signing inputs are small; a certificate set may hold many chains. A client waits for
// each signature before it asks again (tls/helper_link.cc), so what waits for it is one
// answer and a certificate set or two after reloads: a client that lets 4 MiB pile up has
// stopped reading, and the channel drops it as a violation.
constexpr ipc::Limits kFromClient{64 << 10, 0};
constexpr ipc::Limits kToClient{1 << 20, 0, 4 << 20};

using ClientChannel = ipc::TypedChannel<ipc::ToTlsHelper>;

bool read_whole(int fd, std::string& out) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxCredentialFile) return false;
  }
}

// The libevent timeout that ends at `due` (at once if it is past).
timeval delay_until(std::chrono::steady_clock::time_point due) {
  auto wait = std::chrono::ceil<std::chrono::microseconds>(due - std::chrono::steady_clock::now());
  if (wait.count() < 0) wait = {};
  return {static_cast<time_t>(wait.count() / 1000000), static_cast<suseconds_t>(wait.count() % 1000000)};
}

void forget(std::map<std::string, std::string>& files) {
  for (auto& [path, contents] : files) OPENSSL_cleanse(contents.data(), contents.size());
  files.clear();
}

}  // namespace

class TlsHelper final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kTls; }
  ipc::Role wire_role() const override { return ipc::ROLE_TLS; }
  bool links_to(ipc::Role peer) const override {
    return peer == ipc::ROLE_ROUTER || peer == ipc::ROLE_S2S || peer == ipc::ROLE_HTTP;
  }

  bool prepare(runtime::ChildRuntime&, const ipc::Configure& configure, std::string& error) override {
    settings_ = configure.tls();
    // OpenSSL reads its configuration file on first use: that use must come before the chroot.
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
      error = "cannot initialise OpenSSL";
      return false;
    }
    return true;
  }
  void reconfigure(const ipc::Configure& configure) override { settings_ = configure.tls(); }

  void add_control_handlers(ipc::TypedChannel<ipc::ParentToChild>& control) override {
    control.on(ipc::ParentToChild::kCredentialFile, 1, [this](const ipc::ParentToChild& m, auto& fds) {
      std::string contents;
      const std::string& path = m.credential_file().path();
      if (!read_whole(fds[0].get(), contents)) {
        log::error("%s: cannot read (%s)", path.c_str(), errno ? std::strerror(errno) : "over 1 MiB");
        OPENSSL_cleanse(contents.data(), contents.size());
        return;
      }
      files_[path] = std::move(contents);
    });
    control.on(ipc::ParentToChild::kLoadCredentials, 0, [this](const ipc::ParentToChild& m, auto&) {
      load(m.load_credentials().generation());
    });
  }

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    ipc::Service service = service_of(peer);
    auto channel = std::make_unique<ClientChannel>(runtime_->base(), std::move(fd), kFromClient, kToClient,
                                                   runtime::wire_role_name(peer));
    ClientChannel* raw = channel.get();
    channel->on(ipc::ToTlsHelper::kSign, 0, [this, raw, peer, service](const ipc::ToTlsHelper& m, auto&) {
      answer(*raw, peer, service, m.sign());
    });
    channel->start([this, peer, raw](ipc::CloseReason reason, std::string_view detail) {
      if (reason == ipc::CloseReason::kViolation) runtime_->report_peer_violation(peer, detail);
      auto it = clients_.find(peer);
      if (it != clients_.end() && it->second.get() == raw) clients_.erase(it);
    });
    channel->send(wrap(store_.certificates_for(service, generation_)));
    clients_[peer] = std::move(channel);
  }

 private:
  // Each peer gets the chains of its own service and may have only their keys used.
  static ipc::Service service_of(ipc::Role peer) {
    switch (peer) {
      case ipc::ROLE_ROUTER: return ipc::SERVICE_C2S;
      case ipc::ROLE_HTTP: return ipc::SERVICE_HTTPS;
      default: return ipc::SERVICE_S2S;
    }
  }

  static ipc::FromTlsHelper wrap(ipc::CertificateSet set) {
    ipc::FromTlsHelper m;
    *m.mutable_certificates() = std::move(set);
    return m;
  }

  void load(std::uint64_t generation) {
    LoadReport report;
    std::uint32_t next = next_key_id_;
    auto keys = load_keys(settings_, files_, next, report, std::time(nullptr));
    forget(files_);
    for (const auto& w : report.warnings) log::warning("%s", w.c_str());
    for (const auto& e : report.errors) log::error("%s", e.c_str());

    ipc::ChildToParent answer;
    ipc::CredentialsLoaded* loaded = answer.mutable_credentials_loaded();
    loaded->set_generation(generation);
    for (auto& e : report.errors) loaded->add_errors(e);
    for (auto& w : report.warnings) loaded->add_warnings(w);
    runtime_->send_to_parent(answer);
    if (!keys) return;

    next_key_id_ = next;
    generation_ = generation;
    log::info("serving %zu certificates (generation %llu)", keys->size(), static_cast<unsigned long long>(generation));
    store_.replace(std::move(*keys), KeyStore::Clock::now());
    schedule_retirement();
    for (auto& [peer, channel] : clients_)
      channel->send(wrap(store_.certificates_for(service_of(peer), generation_)));
  }

  void answer(ClientChannel& channel, ipc::Role peer, ipc::Service service, const ipc::SignRequest& request) {
    ipc::FromTlsHelper reply;
    ipc::SignResponse* response = reply.mutable_signature();
    response->set_request_id(request.request_id());
    std::string error;
    if (auto signature = sign_for(peer, service, request, error)) {
      response->set_signature(signature->data(), signature->size());
    } else {
      response->set_error(error);
      ++refused_;
    }
    if (!error.empty()) note_refusal(peer, error);
    channel.send(reply);
  }

  std::optional<std::vector<std::uint8_t>> sign_for(ipc::Role peer, ipc::Service service,
                                                    const ipc::SignRequest& request, std::string& error) {
    const HeldKey* key = store_.find(request.key_id(), KeyStore::Clock::now());
    if (key == nullptr || key->service != service) {
      error = "key " + std::to_string(request.key_id()) + " is not one this process uses";
      return std::nullopt;
    }
    std::span<const std::uint8_t> message(reinterpret_cast<const std::uint8_t*>(request.message().data()),
                                          request.message().size());
    SigningInput input = classify_signing_input(message, key->versions);
    // Only the s2s worker acts as a TLS client that presents a certificate.
    bool role_may = input != SigningInput::kTls13ClientCertificateVerify || peer == ipc::ROLE_S2S;
    if (!role_may || !scheme_allowed(input, request.scheme())) {
      error = std::string(describe(input)) + " with this scheme is not signed";
      return std::nullopt;
    }
    auto signature = sign(*key, request.scheme(), request.digest(), message, error);
    if (signature) ++signatures_[{key->type, peer}];
    return signature;
  }

 public:
  // Signatures by key type and by whom they were for (handshakes with a key this process
  // holds), and refusals: what /metrics shows of this process.
  void metrics(ipc::Metrics& out) override {
    for (const auto& [key, count] : signatures_) {
      const char* type = key.first == ipc::KEY_TYPE_RSA       ? "rsa"
                         : key.first == ipc::KEY_TYPE_EC      ? "ec"
                         : key.first == ipc::KEY_TYPE_ED25519 ? "ed25519"
                                                              : "other";
      runtime::add_counter(out, "xmppd_tls_signatures", "TLS handshake signatures made, by key type and requester",
                           static_cast<double>(count), {{"key_type", type}, {"for", runtime::wire_role_name(key.second)}});
    }
    runtime::add_counter(out, "xmppd_tls_signature_refusals", "Signing requests refused",
                         static_cast<double>(refused_));
  }

 private:

  // The previous generation's keys are freed when their grace ends (find() already refuses
  // them from then on; this only takes them out of memory).
  void schedule_retirement() {
    auto due = store_.previous_retires_at();
    if (!due) return;
    if (!retire_event_) retire_event_.reset(evtimer_new(runtime_->base(), on_retire, this));
    timeval tv = delay_until(*due);
    evtimer_add(retire_event_.get(), &tv);
  }
  static void on_retire(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<TlsHelper*>(arg);
    self->store_.retire_expired(KeyStore::Clock::now());
    if (!self->store_.previous_retires_at()) log::info("keys of the previous generation retired");
    self->schedule_retirement();
  }

  void note_refusal(ipc::Role peer, const std::string& error) {
    if (auto line = refusals_.refused(runtime::wire_role_name(peer), error, RefusalLog::Clock::now()))
      log::warning("%s", line->c_str());
    schedule_refusal_summary();
  }
  void schedule_refusal_summary() {
    auto due = refusals_.next_flush();
    if (!due) return;
    if (!refusal_event_) refusal_event_.reset(evtimer_new(runtime_->base(), on_refusal_summary, this));
    if (evtimer_pending(refusal_event_.get(), nullptr)) return;
    timeval tv = delay_until(*due);
    evtimer_add(refusal_event_.get(), &tv);
  }
  static void on_refusal_summary(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<TlsHelper*>(arg);
    for (const std::string& line : self->refusals_.flush(RefusalLog::Clock::now())) log::warning("%s", line.c_str());
    self->schedule_refusal_summary();
  }

  ipc::TlsSettings settings_;
  std::map<std::string, std::string> files_;
  KeyStore store_;
  std::uint64_t generation_ = 0;
  std::uint32_t next_key_id_ = 1;
  std::map<ipc::Role, std::unique_ptr<ClientChannel>> clients_;
  EventPtr retire_event_;
  RefusalLog refusals_{"refused to sign for"};
  std::map<std::pair<ipc::KeyType, ipc::Role>, std::uint64_t> signatures_;
  std::uint64_t refused_ = 0;
  EventPtr refusal_event_;
};

}  // namespace xmppd::tls_helper

int main() {
  xmppd::tls_helper::TlsHelper helper;
  return xmppd::runtime::ChildRuntime(helper).run();
}
