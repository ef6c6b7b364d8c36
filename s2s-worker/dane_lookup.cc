#include "s2s-worker/dane_lookup.h"

#include <utility>

namespace xmppd::s2s {

DomainDaneLookup::DomainDaneLookup(Resolver& resolver, std::string domain, Done done)
    : resolver_(resolver),
      domain_(std::move(domain)),
      done_(std::move(done)),
      self_(std::make_shared<DomainDaneLookup*>(this)) {}

// Callbacks in flight, and the calls below that may have led the owner to destroy this, see
// the pointer turn null: a weak_ptr alone would not tell, since the holder outlives the
// object while any caller holds a copy of it.
DomainDaneLookup::~DomainDaneLookup() { *self_ = nullptr; }

void DomainDaneLookup::start() {
  std::weak_ptr<DomainDaneLookup*> weak = self_;
  auto answer_to = [weak](bool direct_tls) {
    return [weak, direct_tls](SrvAnswer answer) {
      if (auto self = weak.lock(); self && *self) (*self)->srv_answered(direct_tls, std::move(answer));
    };
  };
  std::shared_ptr<DomainDaneLookup*> alive = self_;  // an answer may come at once, and end this
  resolver_.srv("_xmpps-server._tcp." + domain_, answer_to(true));
  if (*alive == nullptr || !done_) return;
  resolver_.srv("_xmpp-server._tcp." + domain_, answer_to(false));
}

void DomainDaneLookup::srv_answered(bool direct_tls, SrvAnswer answer) {
  (direct_tls ? xmpps_ : xmpp_) = std::move(answer);
  if (!xmpps_ || !xmpp_) return;
  bool unsigned_srv = false;
  std::vector<std::pair<std::string, DaneLookup>> targets;
  for (bool tls : {true, false}) {
    const SrvAnswer& srv = tls ? *xmpps_ : *xmpp_;
    const std::string name = (tls ? "_xmpps-server._tcp." : "_xmpp-server._tcp.") + domain_;
    if (srv.status == DnsStatus::kBogus || srv.status == DnsStatus::kError) {
      result_.bogus.push_back((srv.status == DnsStatus::kBogus ? "DNSSEC validation failed for " : "DNS error for ") +
                              name + " (SRV)");
      continue;
    }
    if (srv.status != DnsStatus::kOk) continue;
    // RFC 7673 §3.1: only a validated SRV answer's targets have TLSA records that count.
    if (!srv.secure) {
      unsigned_srv = true;
      continue;
    }
    for (const SrvRecord& r : srv.records) {
      if (r.target.empty() || r.target == "." || targets.size() >= kMaxTargets) continue;
      DaneLookup lookup;
      lookup.state = DaneLookup::State::kNone;
      lookup.name = "_" + std::to_string(r.port) + "._tcp." + r.target;
      bool seen = false;
      for (const auto& [host, other] : targets) seen = seen || other.name == lookup.name;
      if (!seen) targets.emplace_back(r.target, std::move(lookup));
    }
  }
  if (targets.empty()) {
    result_.none = unsigned_srv ? "unsigned" : "no SRV record";
    finish();
    return;
  }
  result_.targets = std::move(targets);
  answered_.assign(result_.targets.size(), false);
  pending_ = result_.targets.size();
  std::weak_ptr<DomainDaneLookup*> weak = self_;
  std::shared_ptr<DomainDaneLookup*> alive = self_;
  for (std::size_t i = 0; i < result_.targets.size(); ++i) {
    resolver_.tlsa(result_.targets[i].second.name, [weak, i](TlsaAnswer answer) {
      if (auto self = weak.lock(); self && *self) (*self)->tlsa_answered(i, std::move(answer));
    });
    if (*alive == nullptr || !done_) return;
  }
}

void DomainDaneLookup::tlsa_answered(std::size_t index, TlsaAnswer answer) {
  if (index >= answered_.size() || answered_[index] || !done_) return;
  answered_[index] = true;
  std::string why;
  if (!read_tlsa_answer(std::move(answer), result_.targets[index].second, why)) result_.bogus.push_back(why);
  if (--pending_ == 0) finish();
}

void DomainDaneLookup::finish() {
  Done done = std::move(done_);  // the owner may destroy this
  done_ = nullptr;
  if (done) done(std::move(result_));
}

}  // namespace xmppd::s2s
