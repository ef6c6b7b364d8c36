#include "s2s-worker/srv_order.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace xmppd::s2s {
namespace {

// A record together with the kind of connection its record set asks for.
struct Candidate {
  const SrvRecord* record;
  bool direct_tls;
};

// RFC 2782: a target of "." means the service is decidedly not available. Callers strip the
// trailing dot, which turns the root into "", so both spellings count.
bool is_root(std::string_view target) { return target.empty() || target == "."; }

// RFC 2782 only gives "." its meaning when it is the single record of the set.
bool says_no_service(const std::optional<std::vector<SrvRecord>>& records) {
  return records && records->size() == 1 && is_root(records->front().target);
}

void collect(const std::optional<std::vector<SrvRecord>>& records, bool direct_tls, std::vector<Candidate>& out) {
  if (!records) return;
  for (const SrvRecord& record : *records) {
    if (!is_root(record.target)) out.push_back({&record, direct_tls});
  }
}

// Chooses one index of `pool` by RFC 2782's running-sum rule. The pool has its weight-0
// entries first, so they are picked only when the random value is 0: a small chance.
std::size_t pick_weighted(const std::vector<Candidate>& pool, const SrvRandom& random) {
  std::uint32_t sum = 0;
  for (const Candidate& candidate : pool) sum += candidate.record->weight;
  // A misbehaving generator must not pick past the end.
  const std::uint32_t value = std::min(random(sum), sum);
  std::uint32_t running = 0;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    running += pool[i].record->weight;
    if (running >= value) return i;
  }
  return pool.size() - 1;
}

// Appends one priority's records to `out` in weighted random order.
void append_weighted(std::vector<Candidate> pool, const SrvRandom& random, std::vector<Candidate>& out) {
  // Stable, so that with a fixed random sequence the result depends only on the input order.
  std::stable_partition(pool.begin(), pool.end(), [](const Candidate& c) { return c.record->weight == 0; });
  while (!pool.empty()) {
    const std::size_t chosen = pick_weighted(pool, random);
    out.push_back(pool[chosen]);
    // erase keeps the order, so the weight-0 entries stay at the front.
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(chosen));
  }
}

std::vector<Candidate> order_by_priority(std::vector<Candidate> candidates, const SrvRandom& random) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.record->priority < b.record->priority; });
  std::vector<Candidate> ordered;
  ordered.reserve(candidates.size());
  auto group_begin = candidates.begin();
  while (group_begin != candidates.end()) {
    const std::uint16_t priority = group_begin->record->priority;
    auto group_end = std::find_if(group_begin, candidates.end(),
                                  [priority](const Candidate& c) { return c.record->priority != priority; });
    append_weighted(std::vector<Candidate>(group_begin, group_end), random, ordered);
    group_begin = group_end;
  }
  return ordered;
}

bool same_host(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](char x, char y) { return lower(x) == lower(y); });
}

bool already_listed(const std::vector<Target>& targets, const Candidate& candidate) {
  return std::any_of(targets.begin(), targets.end(), [&](const Target& t) {
    return t.port == candidate.record->port && t.direct_tls == candidate.direct_tls &&
           same_host(t.host, candidate.record->target);
  });
}

std::vector<Target> to_targets(const std::vector<Candidate>& ordered) {
  std::vector<Target> targets;
  for (const Candidate& candidate : ordered) {
    // The first occurrence is the best-ranked one; later copies would only retry it.
    if (already_listed(targets, candidate)) continue;
    targets.push_back({candidate.record->target, candidate.record->port, candidate.direct_tls});
  }
  return targets;
}

}  // namespace

SrvPlan plan_targets(std::string_view domain, const std::optional<std::vector<SrvRecord>>& xmpps,
                     const std::optional<std::vector<SrvRecord>>& xmpp, const SrvRandom& random) {
  std::vector<Candidate> candidates;
  collect(xmpps, true, candidates);
  // A "." in _xmpp-server withdraws STARTTLS service, but direct TLS targets still stand.
  const bool refused = says_no_service(xmpp);
  if (!refused) collect(xmpp, false, candidates);

  if (candidates.empty()) {
    if (refused) return {SrvOutcome::kNoService, {}};
    // RFC 6120 §3.2.2: without SRV records, the domain itself on the default port.
    return {SrvOutcome::kTargets, {Target{std::string(domain), kDefaultServerPort, false}}};
  }
  return {SrvOutcome::kTargets, to_targets(order_by_priority(std::move(candidates), random))};
}

}  // namespace xmppd::s2s
