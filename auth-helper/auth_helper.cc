// xmppd-auth: the auth helper.
//
// Holds:      the credential store (SCRAM salts, iteration counts, StoredKey, ServerKey).
// Talks to:   the parent (control, account administration) and the router (SASL steps).
// Runs as:    auth_helper_user, chrooted to DATA_PATH/auth, the only directory it can open.
// Syscalls:   sandbox/policy.cc, role "auth".
//
// It reads no network byte: the router relays SASL messages to it, and it computes and
// verifies them here, so no password verifier ever leaves this process.
#include "runtime/child.h"

namespace xmppd::auth {

class AuthHelper final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kAuth; }
  ipc::Role wire_role() const override { return ipc::ROLE_AUTH; }
  bool prepare(runtime::ChildRuntime&, const ipc::Configure&, std::string&) override { return true; }
  void reconfigure(const ipc::Configure&) override {}
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER; }
};

}  // namespace xmppd::auth

int main() {
  xmppd::auth::AuthHelper helper;
  return xmppd::runtime::ChildRuntime(helper).run();
}
