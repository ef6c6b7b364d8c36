#include "tls/handshake_counts.h"

namespace xmppd::tls {

HandshakeCounts& handshake_counts() {
  static HandshakeCounts counts;
  return counts;
}

}  // namespace xmppd::tls
