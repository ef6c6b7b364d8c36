#include "s2s-worker/connector.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/log.h"
#include "s2s-worker/address_policy.h"

namespace xmppd::s2s {
namespace {

struct timeval to_timeval(std::chrono::microseconds duration) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
  return {static_cast<time_t>(seconds.count()), static_cast<suseconds_t>((duration - seconds).count())};
}

// common/net.h's form, so that logs name peers one way whichever side connected.
std::string with_port(const std::string& ip, std::uint16_t port) { return ip + " port " + std::to_string(port); }

// strerror's text is read in the middle of a sentence: "127.0.0.1 port 5269: connection refused".
std::string error_text(int error) {
  std::string text = std::strerror(error);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

socklen_t to_sockaddr(const Address& address, std::uint16_t port, struct sockaddr_storage& ss) {
  ss = {};
  if (address.family == AF_INET6) {
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, address.bytes.data(), sizeof in6->sin6_addr);
    return sizeof *in6;
  }
  auto* in = reinterpret_cast<struct sockaddr_in*>(&ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  std::memcpy(&in->sin_addr, address.bytes.data(), sizeof in->sin_addr);
  return sizeof *in;
}

// A non-blocking socket with connect(2) under way; empty, with `why`, when it failed at once
// (no route for the family, say).
UniqueFd start_connect(const Address& address, std::uint16_t port, std::string& why) {
  UniqueFd fd(::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd) {
    why = error_text(errno);
    return fd;
  }
  struct sockaddr_storage ss;
  const socklen_t length = to_sockaddr(address, port, ss);
  if (::connect(fd.get(), reinterpret_cast<const struct sockaddr*>(&ss), length) != 0 && errno != EINPROGRESS) {
    why = error_text(errno);
    fd.reset();
  }
  return fd;
}

// SRV weights only spread load, but a fixed order would put it all on one host. getrandom(2)
// needs no file, and the sandbox allows it.
std::uint32_t srv_random(std::uint32_t bound) {
  std::uint64_t value = 0;
  if (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) return 0;
  return static_cast<std::uint32_t>(value % (std::uint64_t{bound} + 1));
}

bool same_host(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](char x, char y) { return lower(x) == lower(y); });
}

bool names_target(const SrvAnswer& answer, const Target& target) {
  return std::any_of(answer.records.begin(), answer.records.end(), [&](const SrvRecord& record) {
    return record.port == target.port && same_host(record.target, target.host);
  });
}

std::optional<std::vector<SrvRecord>> records_of(const SrvAnswer& answer) {
  if (answer.status != DnsStatus::kOk) return std::nullopt;
  return answer.records;
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : "; ") + part;
  return text;
}

}  // namespace

struct ConnectAttempt::Dial {
  ConnectAttempt* owner;
  Address address;
  std::string text;  // "ip port N"
  UniqueFd fd;
  ipc::EventPtr event;  // declared after fd: removed from the loop before the socket closes
};

ConnectAttempt::ConnectAttempt(struct event_base* base, Resolver& resolver, std::string domain,
                               bool allow_private_addresses, OnConnected on_connected, OnFailed on_failed)
    : base_(base),
      resolver_(resolver),
      domain_(std::move(domain)),
      allow_private_addresses_(allow_private_addresses),
      on_connected_(std::move(on_connected)),
      on_failed_(std::move(on_failed)),
      self_(std::make_shared<ConnectAttempt*>(this)),
      kick_(event_new(base, -1, 0, on_kick, this)),
      resolution_timer_(evtimer_new(base, on_resolution_delay, this)),
      attempt_timer_(evtimer_new(base, on_attempt_delay, this)) {
  if (!kick_ || !resolution_timer_ || !attempt_timer_) log::fatal("cannot create the connection timers");
}

// Answers in flight, and the calls below that may have led the owner to destroy this, see the
// pointer turn null: a weak_ptr alone would not tell, since the holder outlives the object
// while a caller up the stack holds a copy of it.
ConnectAttempt::~ConnectAttempt() { *self_ = nullptr; }

void ConnectAttempt::start() {
  if (phase_ != Phase::kIdle) return;
  // From the loop, not from here: a resolver that fails a query at once answers inside the
  // call, and the owner must not be called back before start() has returned.
  event_active(kick_.get(), 0, 0);
}

void ConnectAttempt::resume(std::string why_previous_failed) {
  if (phase_ != Phase::kHandedOver) return;
  reasons_.push_back(handed_over_ + ": " + why_previous_failed);
  phase_ = Phase::kTarget;
  event_active(kick_.get(), 0, 0);
}

void ConnectAttempt::on_kick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ConnectAttempt*>(arg);
  if (self->phase_ == Phase::kIdle)
    self->query_srv();
  else if (self->phase_ == Phase::kTarget)
    self->advance();
}

void ConnectAttempt::query_srv() {
  phase_ = Phase::kSrv;
  std::weak_ptr<ConnectAttempt*> weak = self_;
  auto answer_to = [weak](bool direct_tls) {
    return [weak, direct_tls](SrvAnswer answer) {
      if (auto self = weak.lock(); self && *self) (*self)->srv_answered(direct_tls, std::move(answer));
    };
  };
  std::shared_ptr<ConnectAttempt*> alive = self_;  // an answer may come at once, and end this
  // Both at once: XEP-0368 merges the two sets, so neither is worth waiting for alone.
  resolver_.srv("_xmpps-server._tcp." + domain_, answer_to(true));
  if (*alive == nullptr || phase_ != Phase::kSrv) return;
  resolver_.srv("_xmpp-server._tcp." + domain_, answer_to(false));
}

void ConnectAttempt::srv_answered(bool direct_tls, SrvAnswer answer) {
  if (phase_ != Phase::kSrv) return;
  (direct_tls ? xmpps_ : xmpp_) = std::move(answer);
  if (xmpps_ && xmpp_) plan();
}

void ConnectAttempt::plan() {
  // An _xmpp-server set we could not read might have named other hosts; guessing would
  // connect where the domain did not say, so the attempt ends and a later one asks again.
  // An unreadable _xmpps-server set only costs the direct TLS alternatives, when the
  // _xmpp-server set says where to go (some resolvers still fail on the newer name).
  for (bool direct_tls : {true, false}) {
    SrvAnswer& answer = direct_tls ? *xmpps_ : *xmpp_;
    const std::string name = (direct_tls ? "_xmpps-server._tcp." : "_xmpp-server._tcp.") + domain_;
    if (answer.status == DnsStatus::kBogus) {
      fail("DNSSEC validation failed for " + name);
      return;
    }
    if (answer.status != DnsStatus::kError) continue;
    if (direct_tls && xmpp_->status == DnsStatus::kOk) {
      reasons_.push_back("DNS error for " + name);
      answer = SrvAnswer{DnsStatus::kNoRecords, {}, false};
      continue;
    }
    fail("DNS error for " + name);
    return;
  }
  SrvPlan plan = plan_targets(domain_, records_of(*xmpps_), records_of(*xmpp_), srv_random);
  if (plan.outcome == SrvOutcome::kNoService) {
    fail(domain_ + " offers no XMPP service (SRV target \".\")");
    return;
  }
  targets_ = std::move(plan.targets);
  phase_ = Phase::kTarget;
  next_target();
}

void ConnectAttempt::next_target() {
  ++generation_;
  close_dials();
  evtimer_del(resolution_timer_.get());
  evtimer_del(attempt_timer_.get());
  if (next_target_ >= targets_.size()) {
    fail(reasons_.empty() ? "no target to connect to" : join(reasons_));
    return;
  }
  target_ = targets_[next_target_++];
  const SrvAnswer& srv = target_.direct_tls ? *xmpps_ : *xmpp_;
  from_srv_ = names_target(srv, target_);
  srv_secure_ = srv.secure;
  a_done_ = aaaa_done_ = a_secure_ = aaaa_secure_ = dns_failed_ = connecting_ = false;
  addresses_seen_ = 0;
  untried6_.clear();
  untried4_.clear();
  last_family_ = 0;
  log::debug("s2s %s: trying %s port %u (%s)", domain_.c_str(), target_.host.c_str(), target_.port,
             target_.direct_tls ? "direct TLS" : "STARTTLS");
  dane_lookup_ = DaneLookup();
  tlsa_done_ = true;
  if (dane_) {
    dane_lookup_.state = DaneLookup::State::kNone;
    dane_lookup_.name = "_" + std::to_string(target_.port) + "._tcp." + target_.host;
    // RFC 7673 §3.1: TLSA records count only for a target that a validated SRV answer named.
    dane_lookup_.none = !from_srv_ ? "no SRV record" : !srv_secure_ ? "unsigned" : "";
    tlsa_done_ = !dane_lookup_.none.empty();
  }
  std::shared_ptr<ConnectAttempt*> alive = self_;
  const unsigned generation = generation_;
  if (!tlsa_done_) query_tlsa();
  // An answer given at once may have ended the target, or the attempt.
  if (*alive == nullptr || generation != generation_) return;
  query_addresses();
}

void ConnectAttempt::query_tlsa() {
  std::weak_ptr<ConnectAttempt*> weak = self_;
  const unsigned generation = generation_;
  resolver_.tlsa(dane_lookup_.name, [weak, generation](TlsaAnswer answer) {
    if (auto self = weak.lock(); self && *self) (*self)->tlsa_answered(generation, std::move(answer));
  });
}

bool read_tlsa_answer(TlsaAnswer answer, DaneLookup& lookup, std::string& why) {
  if (answer.status == DnsStatus::kBogus || answer.status == DnsStatus::kError) {
    why = (answer.status == DnsStatus::kBogus ? "DNSSEC validation failed for " : "DNS error for ") + lookup.name +
          " (TLSA)";
    return false;
  }
  if (!answer.secure) {
    lookup.none = "unsigned";
  } else if (answer.status == DnsStatus::kNoRecords) {
    lookup.none = "no TLSA records";
  } else {
    lookup.state = DaneLookup::State::kRecords;
    lookup.records = std::move(answer.records);
  }
  return true;
}

// RFC 7673 §3.2: a TLSA answer that fails validation (or cannot be had) rules the target out;
// one that is not signed, or a validated denial, means no DANE for it.
void ConnectAttempt::tlsa_answered(unsigned generation, TlsaAnswer answer) {
  if (generation != generation_ || phase_ != Phase::kTarget || tlsa_done_) return;
  tlsa_done_ = true;
  std::string why;
  if (!read_tlsa_answer(std::move(answer), dane_lookup_, why)) {
    log::warning("s2s %s: not connecting to %s: %s", domain_.c_str(), target_.host.c_str(), why.c_str());
    reasons_.push_back(why);
    next_target();
    return;
  }
  advance();
}

void ConnectAttempt::query_addresses() {
  std::weak_ptr<ConnectAttempt*> weak = self_;
  const unsigned generation = generation_;
  auto answer_to = [weak, generation](std::uint16_t type) {
    return [weak, generation, type](AddressAnswer answer) {
      if (auto self = weak.lock(); self && *self) (*self)->addresses_answered(generation, type, std::move(answer));
    };
  };
  std::shared_ptr<ConnectAttempt*> alive = self_;
  // RFC 8305 §3: both queries at once, AAAA first.
  resolver_.addresses(target_.host, kDnsTypeAaaa, answer_to(kDnsTypeAaaa));
  if (*alive == nullptr || generation != generation_) return;
  resolver_.addresses(target_.host, kDnsTypeA, answer_to(kDnsTypeA));
}

void ConnectAttempt::addresses_answered(unsigned generation, std::uint16_t type, AddressAnswer answer) {
  if (generation != generation_ || (phase_ != Phase::kTarget && phase_ != Phase::kHandedOver)) return;
  const bool v6 = type == kDnsTypeAaaa;
  (v6 ? aaaa_done_ : a_done_) = true;
  (v6 ? aaaa_secure_ : a_secure_) = answer.secure;
  const std::string what = target_.host + (v6 ? " (AAAA)" : " (A)");
  if (answer.status == DnsStatus::kBogus) {
    reasons_.push_back("DNSSEC validation failed for " + what);
    dns_failed_ = true;
  } else if (answer.status == DnsStatus::kError) {
    reasons_.push_back("DNS error for " + what);
    dns_failed_ = true;
  }
  std::deque<Address>& queue = v6 ? untried6_ : untried4_;
  for (const Address& address : answer.addresses)
    if (address.family == (v6 ? AF_INET6 : AF_INET) && !refused(address)) queue.push_back(address);
  addresses_seen_ += answer.addresses.size();
  if (phase_ == Phase::kHandedOver) return;  // kept for resume()

  // RFC 8305 §3: a positive AAAA answer starts connecting at once; a positive A answer waits
  // the Resolution Delay for AAAA; a negative answer waits for the other family.
  if (!connecting_) {
    if ((a_done_ && aaaa_done_) || (v6 && !answer.addresses.empty())) {
      connecting_ = true;
      evtimer_del(resolution_timer_.get());
    } else if (!v6 && !answer.addresses.empty()) {
      const struct timeval delay = to_timeval(kResolutionDelay);
      evtimer_add(resolution_timer_.get(), &delay);
    }
  }
  advance();
}

// Counted among the addresses seen: a target whose only address is refused has "no address"
// for no reason but this one, which the reasons then say.
bool ConnectAttempt::refused(const Address& address) {
  if (allow_private_addresses_) return false;
  const std::string why = special_purpose(address);
  if (why.empty()) return false;
  const std::string text = with_port(address.text(), target_.port);
  log::warning("s2s %s: not connecting to %s (%s): %s address, and s2s_allow_private_addresses is false",
               domain_.c_str(), text.c_str(), target_.host.c_str(), why.c_str());
  reasons_.push_back(text + ": not connected to, " + why + " address");
  return true;
}

void ConnectAttempt::on_resolution_delay(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ConnectAttempt*>(arg);
  self->connecting_ = true;
  self->advance();
}

void ConnectAttempt::on_attempt_delay(evutil_socket_t, short, void* arg) {
  static_cast<ConnectAttempt*>(arg)->advance();
}

// Starts a connection when Happy Eyeballs allows one now; goes on to the next target when
// this one has nothing left.
void ConnectAttempt::advance() {
  if (phase_ != Phase::kTarget) return;
  if (connecting_ && tlsa_done_ && !evtimer_pending(attempt_timer_.get(), nullptr)) start_next_dial();
  if (!target_exhausted()) return;
  if (addresses_seen_ == 0 && !dns_failed_) reasons_.push_back("no address for " + target_.host);
  next_target();
}

// RFC 8305 §4: families alternate, IPv6 first.
std::optional<Address> ConnectAttempt::next_address() {
  std::deque<Address>& preferred = last_family_ == AF_INET6 ? untried4_ : untried6_;
  std::deque<Address>& other = &preferred == &untried6_ ? untried4_ : untried6_;
  std::deque<Address>& queue = preferred.empty() ? other : preferred;
  if (queue.empty()) return std::nullopt;
  Address address = queue.front();
  queue.pop_front();
  last_family_ = address.family;
  return address;
}

void ConnectAttempt::start_next_dial() {
  while (std::optional<Address> address = next_address()) {
    std::string text = with_port(address->text(), target_.port);
    std::string why;
    UniqueFd fd = start_connect(*address, target_.port, why);
    if (!fd) {
      log::debug("s2s %s: %s: %s", domain_.c_str(), text.c_str(), why.c_str());
      reasons_.push_back(text + ": " + why);
      continue;  // failed at once: the next one at once too
    }
    auto dial = std::make_unique<Dial>(Dial{this, *address, std::move(text), std::move(fd), nullptr});
    dial->event.reset(event_new(base_, dial->fd.get(), EV_WRITE, on_dial, dial.get()));
    const struct timeval timeout = to_timeval(kConnectTimeout);
    if (!dial->event || event_add(dial->event.get(), &timeout) != 0) log::fatal("cannot watch a connecting socket");
    log::debug("s2s %s: connecting to %s", domain_.c_str(), dial->text.c_str());
    dials_.push_back(std::move(dial));
    // RFC 8305 §5: the next address gets its turn after the Connection Attempt Delay even
    // while this one is still pending.
    const struct timeval delay = to_timeval(kConnectionAttemptDelay);
    evtimer_add(attempt_timer_.get(), &delay);
    return;
  }
}

void ConnectAttempt::on_dial(evutil_socket_t, short what, void* arg) {
  auto* dial = static_cast<Dial*>(arg);
  dial->owner->dial_done(dial, what);
}

void ConnectAttempt::dial_done(Dial* dial, short what) {
  std::string why = "timed out";
  if (what & EV_WRITE) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(dial->fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error == 0) {
      hand_over(dial);
      return;
    }
    why = error_text(error);
  }
  log::debug("s2s %s: %s: %s", domain_.c_str(), dial->text.c_str(), why.c_str());
  reasons_.push_back(dial->text + ": " + why);
  std::erase_if(dials_, [dial](const std::unique_ptr<Dial>& d) { return d.get() == dial; });
  // RFC 8305 §5: a failure starts the next attempt at once.
  evtimer_del(attempt_timer_.get());
  advance();
}

void ConnectAttempt::hand_over(Dial* dial) {
  // Keep-alive probes end a connection whose peer vanished without a word. Nagle's delay is
  // not wanted: the stream writes what a loop turn produced at once (stream/transport.cc).
  const int on = 1;
  if (setsockopt(dial->fd.get(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
      setsockopt(dial->fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
    log::warning("s2s %s: socket options: %s", domain_.c_str(), std::strerror(errno));
  Connected connected{std::move(dial->fd), target_, dial->text, target_secure(dial->address.family), dane_lookup_};
  handed_over_ = connected.address;
  log::debug("s2s %s: connected to %s", domain_.c_str(), handed_over_.c_str());
  std::erase_if(dials_, [dial](const std::unique_ptr<Dial>& d) { return d.get() == dial; });
  requeue_dials();
  evtimer_del(attempt_timer_.get());
  phase_ = Phase::kHandedOver;
  OnConnected done = on_connected_;  // a copy: the owner may destroy this, and resume() needs it again
  done(std::move(connected));
}

// The losers of the race are closed, but their addresses stay first in line for resume().
void ConnectAttempt::requeue_dials() {
  for (auto it = dials_.rbegin(); it != dials_.rend(); ++it)
    ((*it)->address.family == AF_INET6 ? untried6_ : untried4_).push_front((*it)->address);
  dials_.clear();
}

void ConnectAttempt::close_dials() { dials_.clear(); }

bool ConnectAttempt::target_exhausted() const {
  return a_done_ && aaaa_done_ && dials_.empty() && untried6_.empty() && untried4_.empty();
}

bool ConnectAttempt::target_secure(int family) const {
  if (from_srv_) return srv_secure_;
  return family == AF_INET6 ? aaaa_secure_ : a_secure_;
}

void ConnectAttempt::fail(std::string reason) {
  phase_ = Phase::kDone;
  close_dials();
  evtimer_del(resolution_timer_.get());
  evtimer_del(attempt_timer_.get());
  log::debug("s2s %s: %s", domain_.c_str(), reason.c_str());
  OnFailed done = std::move(on_failed_);  // the owner may destroy this
  if (done) done(std::move(reason));
}

}  // namespace xmppd::s2s
