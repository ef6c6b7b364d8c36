// The real xmppd-tls, started the way the parent starts it (descriptor 3, a Configure, the
// credential files as descriptors, LoadCredentials), for tests and benchmarks that need
// the key holder as a separate sandboxed process without the rest of xmppd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "control.pb.h"

namespace xmppd::testing {

struct CredentialFiles {
  std::string host;
  ipc::Service service;
  std::string certificate_path, key_path;
};

class TlsHelperProcess {
 public:
  TlsHelperProcess() = default;
  TlsHelperProcess(const TlsHelperProcess&) = delete;
  TlsHelperProcess& operator=(const TlsHelperProcess&) = delete;
  ~TlsHelperProcess();

  // Starts `binary` and waits until it has loaded `credentials`; false with `error` if not.
  bool start(const std::string& binary, const std::vector<CredentialFiles>& credentials, std::string& error);
  // A reload as the parent does it on SIGHUP: the settings and files again, then
  // LoadCredentials for `generation` (higher than the last); false with `error` if refused.
  bool load(const std::vector<CredentialFiles>& credentials, std::uint64_t generation, std::string& error);
  // A new link to the helper in the role of `as` (router or s2s); our end is returned.
  UniqueFd link(ipc::Role as);
  // The next message the helper sends its parent (blocking up to `timeout_ms`).
  bool receive(ipc::ChildToParent& message, int timeout_ms);
  pid_t pid() const { return pid_; }

 private:
  bool send(const ipc::ParentToChild& message, int fd = -1);

  pid_t pid_ = -1;
  UniqueFd control_;
};

// Path of a binary in the build tree (XMPPD_BUILD_DIR, set by meson for tests and benches).
std::string build_path(const std::string& relative);

}  // namespace xmppd::testing
