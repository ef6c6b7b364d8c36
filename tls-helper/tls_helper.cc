// xmppd-tls: the tls helper.
//
// Holds:      every private key (nothing else in xmppd ever does).
// Talks to:   the parent (control), the router and the s2s worker (signing requests).
// Runs as:    tls_helper_user, chrooted to empty_path once its keys are loaded.
// Syscalls:   sandbox/policy.cc, role "tls": IPC records and the event loop, nothing else.
//
// It reads no network byte: its only inputs are framed requests from the two processes
// that do, and it answers only what they may ask.
#include "runtime/child.h"

namespace xmppd::tls {

class TlsHelper final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kTls; }
  ipc::Role wire_role() const override { return ipc::ROLE_TLS; }
  bool prepare(runtime::ChildRuntime&, const ipc::Configure&, std::string&) override { return true; }
  void reconfigure(const ipc::Configure&) override {}
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER || peer == ipc::ROLE_S2S; }
};

}  // namespace xmppd::tls

int main() {
  xmppd::tls::TlsHelper helper;
  return xmppd::runtime::ChildRuntime(helper).run();
}
