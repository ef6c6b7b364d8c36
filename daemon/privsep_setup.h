// Where each child runs and as whom: users resolved and directories checked by the parent,
// so that children need neither the user database nor any path outside their own directory.
#pragma once

#include <string>

#include "config/settings.h"
#include "control.pb.h"

namespace xmppd::parent {

struct RolePrivsep {
  ipc::Privsep router, s2s, tls, auth, storage, http;
  const ipc::Privsep& of(ipc::Role role) const;
};

// As root: resolves the users, creates DATA_PATH (root's), DATA_PATH/router (xmppd_user's)
// and DATA_PATH/auth (auth_helper_user's), each 0700 below a root-owned 0755 DATA_PATH, and
// checks that empty_path is an empty root-owned directory. With PostgreSQL (storage = "sql"),
// also resolves storage_user and makes DATA_PATH/storage, root's, empty: its chroot. As another user: creates the same
// directories for that user, and children only change directory. With an HTTP service
// (Settings::serves_http), also resolves http_user and makes DATA_PATH/http, http_user's and
// 0700: its chroot and the upload store.
bool prepare_privsep(const config::Settings& settings, RolePrivsep& out, std::string& error);

}  // namespace xmppd::parent
