// The listening sockets, bound by the parent (ports below 1024 need root) and handed to the
// router (c2s, external components), the s2s worker (s2s) and the HTTP process (http, https). Kept by the parent so that a restarted child gets
// the same sockets back without a window where the port is closed.
#pragma once

#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "config/settings.h"
#include "control.pb.h"

namespace xmppd::parent {

struct ListenSocket {
  ipc::Listener description;
  UniqueFd fd;
  ipc::Role owner() const;
};

bool open_listeners(const config::Settings& settings, std::vector<ListenSocket>& out, std::string& error);

}  // namespace xmppd::parent
