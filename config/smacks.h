// Stream management (XEP-0198) limits, by Prosody 0.12's mod_smacks option names and
// defaults (xmppd.conf(5)): the parent reads them, the router applies them. One struct for
// both, so that the defaults are written once.
#ifndef XMPPD_CONFIG_SMACKS_H
#define XMPPD_CONFIG_SMACKS_H

#include <cstddef>

namespace xmppd::config {

struct SmacksSettings {
  std::size_t hibernation_time = 600;        // smacks_hibernation_time: seconds a cut session waits
  std::size_t max_unacked_stanzas = 0;       // smacks_max_unacked_stanzas: <r/> past this many
  std::size_t max_ack_delay = 30;            // smacks_max_ack_delay: seconds an <r/> may go unanswered
  std::size_t max_hibernated_sessions = 10;  // smacks_max_hibernated_sessions: per account
  std::size_t max_queue_size = 500;          // smacks_max_queue_size: unacknowledged stanzas kept

  bool operator==(const SmacksSettings&) const = default;
};

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_SMACKS_H
