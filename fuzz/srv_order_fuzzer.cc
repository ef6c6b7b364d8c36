// SRV target planning (s2s-worker/srv_order.h) for any two record sets and any random source.
//
// Input: two flags, then records of 6 octets (priority, weight, port, a target picked from a
// small set of host names that differ in case) until a 0xff separates the xmpps set from the
// xmpp set; then the bytes the random source hands out, which may be out of range.
// Invariants: the targets are exactly the distinct usable (host, port, kind) of the input,
// each once, in non-decreasing order of the best priority it was published with; the "."
// rules of RFC 2782 hold; no bound asked of the random source exceeds the weight published.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "s2s-worker/srv_order.h"

namespace {

using xmppd::s2s::SrvOutcome;
using xmppd::s2s::SrvRecord;
using xmppd::s2s::Target;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

const char* const kHosts[] = {"", ".", "a.example", "A.Example", "b.example", "xmpp.example.net", "B.EXAMPLE", "c"};

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool is_root(const std::string& t) { return t.empty() || t == "."; }

using Key = std::tuple<std::string, std::uint16_t, bool>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool has_xmpps = data[0] & 1, has_xmpp = data[0] & 2;
  std::size_t at = 1;
  std::vector<SrvRecord> sets[2];
  for (int set = 0; set < 2; ++set) {
    while (at < size && data[at] != 0xff && at + 6 <= size && sets[set].size() < 64) {
      const std::uint8_t* r = data + at;
      sets[set].push_back(SrvRecord{static_cast<std::uint16_t>(r[0] % 4), static_cast<std::uint16_t>(r[1] << 8 | r[2]),
                                    static_cast<std::uint16_t>(5269 + r[3] % 3), kHosts[r[4] % 8]});
      // r[5] is spare, so that the record layout leaves room for the mutator.
      at += 6;
    }
    if (at < size && data[at] == 0xff) ++at;
  }
  std::optional<std::vector<SrvRecord>> xmpps, xmpp;
  if (has_xmpps) xmpps = sets[0];
  if (has_xmpp) xmpp = sets[1];

  std::uint32_t total_weight = 0;
  for (const auto& set : sets)
    for (const SrvRecord& r : set) total_weight += r.weight;
  std::size_t random_at = at;
  const auto random = [&](std::uint32_t bound) -> std::uint32_t {
    check(bound <= total_weight, "random bound above the weights published");
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value = value << 8 | (random_at < size ? data[random_at++] : 0);
    // Mostly in range, sometimes far past it: a misbehaving source must not break the plan.
    return (value & 0x80000000u) ? value : (bound == UINT32_MAX ? value : value % (bound + 1));
  };

  const xmppd::s2s::SrvPlan plan = xmppd::s2s::plan_targets("example.org", xmpps, xmpp, random);

  // What the rules say the plan must be made of.
  std::map<Key, std::uint16_t> best;  // usable target -> best priority
  auto add = [&](const std::optional<std::vector<SrvRecord>>& records, bool direct) {
    if (!records) return;
    for (const SrvRecord& r : *records) {
      if (is_root(r.target)) continue;
      Key key{lower(r.target), r.port, direct};
      auto it = best.find(key);
      if (it == best.end() || r.priority < it->second) best[key] = r.priority;
    }
  };
  const bool refused = xmpp && xmpp->size() == 1 && is_root(xmpp->front().target);
  add(xmpps, true);
  if (!refused) add(xmpp, false);

  if (best.empty()) {
    if (refused) {
      check(plan.outcome == SrvOutcome::kNoService && plan.targets.empty(), "lone '.' not honoured");
    } else {
      check(plan.outcome == SrvOutcome::kTargets && plan.targets.size() == 1, "no fallback to the domain");
      const Target& t = plan.targets[0];
      check(t.host == "example.org" && t.port == xmppd::s2s::kDefaultServerPort && !t.direct_tls, "wrong fallback");
    }
    return 0;
  }
  check(plan.outcome == SrvOutcome::kTargets, "usable records but no targets");
  check(plan.targets.size() == best.size(), "targets are not the distinct usable records");
  std::map<Key, int> seen;
  int previous = -1;
  for (const Target& t : plan.targets) {
    Key key{lower(t.host), t.port, t.direct_tls};
    auto it = best.find(key);
    check(it != best.end(), "a target that no record names");
    check(++seen[key] == 1, "a target listed twice");
    check(static_cast<int>(it->second) >= previous, "targets out of priority order");
    previous = it->second;
  }
  return 0;
}
