// Which hosts, in which order, the s2s worker tries when it connects to a remote domain.
//
// Inputs are the two SRV answers a domain may publish: _xmpps-server._tcp (XEP-0368, TLS from
// the first byte) and _xmpp-server._tcp (RFC 6120 §3.2, STARTTLS). XEP-0368 asks for both to
// be merged into one list by priority; inside a priority RFC 2782's weighted random selection
// decides. This file does no DNS and no I/O, so the policy can be tested on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::s2s {

// One SRV resource record, as the resolver hands it over.
struct SrvRecord {
  std::uint16_t priority;
  std::uint16_t weight;
  std::uint16_t port;
  std::string target;  // without the trailing dot; the root is "." (or "" once stripped)
};

// One place to connect to.
struct Target {
  std::string host;
  std::uint16_t port;
  bool direct_tls;  // true: TLS from the first byte (XEP-0368); false: STARTTLS
};

enum class SrvOutcome {
  kTargets,    // connect to `targets`, in order
  kNoService,  // the domain says it offers no XMPP service: give up, no A/AAAA fallback
};

struct SrvPlan {
  SrvOutcome outcome;
  std::vector<Target> targets;  // empty unless outcome == kTargets
};

// The default port of RFC 6120 §3.2.2, used when the domain publishes no SRV record.
inline constexpr std::uint16_t kDefaultServerPort = 5269;

// Returns a uniformly distributed value in [0, bound], both ends included.
using SrvRandom = std::function<std::uint32_t(std::uint32_t bound)>;

// `xmpps`: the _xmpps-server._tcp answer; `xmpp`: the _xmpp-server._tcp answer;
// std::nullopt means no such record set (NXDOMAIN or NODATA). `random` must be callable.
//
// - A lone "." record in `xmpp` means "no XMPP service here": kNoService, unless `xmpps` has
//   real targets, which are then the plan. A "." in `xmpps` only means "no direct TLS".
// - No usable record in either answer: one target, `domain` itself on port 5269, STARTTLS.
// - The same (host, port, direct_tls) appears once, at its best place; hosts compare
//   case-insensitively, as DNS names do.
SrvPlan plan_targets(std::string_view domain, const std::optional<std::vector<SrvRecord>>& xmpps,
                     const std::optional<std::vector<SrvRecord>>& xmpp, const SrvRandom& random);

}  // namespace xmppd::s2s
