// Which children the parent links to each other, and what one child may say about another.
//
// Trusts nothing it is given: a PeerViolation record comes from a child that may be
// compromised, so the role it accuses is checked against this table before the parent acts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control.pb.h"

namespace xmppd {

class ChildLinks {
 public:
  // A channel between two children; a socketpair made by the parent when both ends are up.
  struct Link {
    ipc::Role a, b;
    unsigned incarnation_a = 0, incarnation_b = 0;  // of the ends that hold the current pair
  };

  ChildLinks();

  std::vector<Link>& all() { return links_; }
  bool linked(ipc::Role a, ipc::Role b) const;

  // The child that `reporter` may get restarted by accusing `peer` (the raw value of a
  // proto3 open enum): one it shares a link with. nullopt for anything else, including
  // values that name no role at all.
  std::optional<ipc::Role> accusable(ipc::Role reporter, int peer) const;

 private:
  std::vector<Link> links_;
};

// A child's free text made fit for one log line: printable ASCII, at most `limit` bytes.
std::string loggable(std::string_view text, std::size_t limit = 200);

}  // namespace xmppd
