// The outbound half of federation's plumbing: one attempt to open a TCP connection to a
// remote XMPP domain. It asks DNS for the domain's _xmpps-server and _xmpp-server SRV records
// at once, orders the targets (srv_order.h), and for each target in turn looks up A and AAAA
// at once and races its addresses the Happy Eyeballs way (RFC 8305): a host with a broken
// IPv6 (or IPv4) path costs a quarter of a second, not a connect timeout.
//
// The attempt hands over a connected socket and stays ready to go on: if TLS or the stream
// fails on that connection before it is authenticated, resume() tries the next address and
// then the next target, as RFC 6120 §3.2.1 asks.
//
// Addresses that are not public unicast (address_policy.h) are skipped like unreachable ones,
// and logged, unless private addresses are allowed: the remote domain's DNS must not steer
// the worker into the server's own host or network.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "proto/channel.h"
#include "s2s-worker/dns_answer.h"
#include "s2s-worker/resolver.h"
#include "s2s-worker/srv_order.h"

namespace xmppd::s2s {

// What DNS says about a target's TLSA records (RFC 7673 §3), looked up only when DANE is asked for.
struct DaneLookup {
  enum class State {
    kOff,      // DANE was not asked for
    kNone,     // no DANE for this target; `none` says why ("unsigned", "no TLSA records"...)
    kRecords,  // `records` are DNSSEC-validated, as is the SRV answer that named the target
  };
  State state = State::kOff;
  std::string name;  // "_5269._tcp.xmpp.example.com"
  std::string none;
  std::vector<TlsaRecord> records;
};

// RFC 7673 §3.2: what a target's TLSA answer means for `lookup` (its `name` set, state kNone):
// records, or why there is no DANE. False, with `why`, when the answer is bogus or could not be
// had: the target is ruled out. Shared by outbound connections and inbound DANE (dane_lookup.h).
bool read_tlsa_answer(TlsaAnswer answer, DaneLookup& lookup, std::string& why);

struct Connected {
  UniqueFd fd;          // connected, non-blocking, close-on-exec TCP socket with SO_KEEPALIVE
  Target target;        // which SRV target (host, port, direct_tls)
  std::string address;  // "192.0.2.1 port 5269": the peer, in common/net.h's form
  // The SRV answer that named the target was DNSSEC-validated; when the domain published no
  // SRV record, the A or AAAA answer that gave the address was.
  bool dnssec_secure = false;
  DaneLookup dane;
};

class ConnectAttempt {
 public:
  using OnConnected = std::function<void(Connected)>;
  // `reason` completes "Server-to-server connection failed: ".
  using OnFailed = std::function<void(std::string reason)>;

  // RFC 8305 §8's recommended values.
  static constexpr std::chrono::milliseconds kResolutionDelay{50};
  static constexpr std::chrono::milliseconds kConnectionAttemptDelay{250};
  // How long one address may take to answer a SYN: a host that drops them silently must not
  // hold the attempt for the kernel's two minutes.
  static constexpr std::chrono::seconds kConnectTimeout{10};

  // Neither callback is called from inside start() or resume(); the owner may destroy the
  // attempt from inside either. `resolver` must outlive the attempt.
  ConnectAttempt(struct event_base* base, Resolver& resolver, std::string domain, bool allow_private_addresses,
                 OnConnected on_connected, OnFailed on_failed);
  ConnectAttempt(const ConnectAttempt&) = delete;
  ConnectAttempt& operator=(const ConnectAttempt&) = delete;
  // Closes every socket in progress; DNS answers that arrive later are dropped.
  ~ConnectAttempt();

  // Look up the TLSA records of each target named by a DNSSEC-validated SRV answer (RFC 7673),
  // at the same time as its addresses; the connection waits for them. A bogus or failed TLSA
  // answer rules the target out. Before start().
  void set_dane(bool dane) { dane_ = dane; }
  void start();
  // The connection last handed over turned out unusable: go on with the next address, then
  // the next target; on_failed ends it all, `why` among its reasons. Ignored unless a
  // connection was handed over and not yet resumed.
  void resume(std::string why_previous_failed);

  const std::string& domain() const { return domain_; }

 private:
  enum class Phase { kIdle, kSrv, kTarget, kHandedOver, kDone };
  struct Dial;  // one connect(2) in flight

  // Event callbacks.
  static void on_kick(evutil_socket_t, short, void* arg);
  static void on_resolution_delay(evutil_socket_t, short, void* arg);
  static void on_attempt_delay(evutil_socket_t, short, void* arg);
  static void on_dial(evutil_socket_t, short what, void* arg);

  // SRV stage.
  void query_srv();
  void srv_answered(bool direct_tls, SrvAnswer answer);
  void plan();

  // Target stage: each may end in a callback, after which `this` may be gone.
  void next_target();
  void query_addresses();
  void query_tlsa();
  void tlsa_answered(unsigned generation, TlsaAnswer answer);
  void addresses_answered(unsigned generation, std::uint16_t type, AddressAnswer answer);
  bool refused(const Address& address);
  void advance();
  void start_next_dial();
  void dial_done(Dial* dial, short what);
  void hand_over(Dial* dial);
  void fail(std::string reason);

  std::optional<Address> next_address();
  void requeue_dials();
  void close_dials();
  bool target_exhausted() const;
  bool target_secure(int family) const;

  struct event_base* base_;
  Resolver& resolver_;
  std::string domain_;
  bool allow_private_addresses_;
  bool dane_ = false;
  OnConnected on_connected_;
  OnFailed on_failed_;
  // DNS callbacks hold a weak_ptr to this: the resolver cannot cancel a query, so its answer
  // may arrive after the attempt is gone.
  std::shared_ptr<ConnectAttempt*> self_;
  Phase phase_ = Phase::kIdle;

  std::optional<SrvAnswer> xmpps_, xmpp_;
  std::vector<Target> targets_;
  std::size_t next_target_ = 0;

  // The current target. `generation_` tells its DNS answers from those of earlier targets.
  Target target_{};
  unsigned generation_ = 0;
  bool from_srv_ = false;
  bool srv_secure_ = false;
  bool a_done_ = false, aaaa_done_ = false;
  bool a_secure_ = false, aaaa_secure_ = false;
  bool dns_failed_ = false;   // a reason about this target's DNS is already recorded
  bool tlsa_done_ = true;     // the target's TLSA answer is in, or none was asked for
  DaneLookup dane_lookup_;
  bool connecting_ = false;   // the Resolution Delay is over (or not needed)
  std::size_t addresses_seen_ = 0;
  std::deque<Address> untried6_, untried4_;
  int last_family_ = 0;
  std::vector<std::unique_ptr<Dial>> dials_;  // in the order they were started
  std::string handed_over_;                   // address of the connection handed over

  std::vector<std::string> reasons_;  // what went wrong, per address or target, in order
  ipc::EventPtr kick_, resolution_timer_, attempt_timer_;
};

}  // namespace xmppd::s2s
