// Accepting TCP connections on a non-blocking listening socket.
#pragma once

#include <string>

#include "common/unique_fd.h"

namespace xmppd::net {

// The next pending connection (non-blocking, close-on-exec) and "address port" of its
// peer; an empty descriptor when none is pending or the accept failed (errno says which).
UniqueFd accept_connection(int listener, std::string& peer);

}  // namespace xmppd::net
