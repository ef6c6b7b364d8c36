#include "tests/support/tls_helper_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

#include "proto/channel.h"
#include "proto/frame.h"

namespace xmppd::testing {

std::string build_path(const std::string& relative) {
  const char* dir = std::getenv("XMPPD_BUILD_DIR");
  return std::string(dir ? dir : ".") + "/" + relative;
}

TlsHelperProcess::~TlsHelperProcess() {
  control_.reset();
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

bool TlsHelperProcess::send(const ipc::ParentToChild& message, int fd) {
  std::string bytes = message.SerializeAsString();
  std::span<const std::uint8_t> record(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  std::span<const int> fds = fd >= 0 ? std::span<const int>(&fd, 1) : std::span<const int>();
  return ipc::send_record(control_.get(), record, fds) == ipc::SendStatus::kSent;
}

bool TlsHelperProcess::receive(ipc::ChildToParent& message, int timeout_ms) {
  struct pollfd p = {control_.get(), POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return false;
  std::vector<std::uint8_t> buffer(64 << 10);
  std::vector<UniqueFd> fds;
  std::size_t length = 0;
  std::string why;
  return ipc::recv_record(control_.get(), buffer, 0, length, fds) == ipc::RecvStatus::kRecord &&
         ipc::decode_envelope(message, std::span(buffer.data(), length), why);
}

bool TlsHelperProcess::start(const std::string& binary, const std::vector<CredentialFiles>& credentials,
                             std::string& error) {
  UniqueFd ours, theirs;
  if (!ipc::make_seqpacket_pair(1 << 20, ours, theirs)) {
    error = "socketpair";
    return false;
  }
  pid_ = fork();
  if (pid_ == 0) {
    int control = fcntl(theirs.get(), F_DUPFD, 10);
    dup2(control, 3);
    close_range(4, ~0U, 0);
    char* argv[] = {const_cast<char*>("xmppd-tls"), nullptr};
    execv(binary.c_str(), argv);
    _exit(127);
  }
  control_ = std::move(ours);
  return load(credentials, 1, error);
}

bool TlsHelperProcess::load(const std::vector<CredentialFiles>& credentials, std::uint64_t generation,
                            std::string& error) {
  ipc::ParentToChild configure;
  ipc::Configure* c = configure.mutable_configure();
  c->set_role(ipc::ROLE_TLS);
  c->set_generation(generation);
  c->mutable_privsep()->set_directory("/");
  std::set<std::string> paths;
  for (const CredentialFiles& f : credentials) {
    ipc::Credential* credential = c->mutable_tls()->add_credentials();
    credential->set_host(f.host);
    credential->set_service(f.service);
    credential->set_certificate_path(f.certificate_path);
    credential->set_key_path(f.key_path);
    paths.insert(f.certificate_path);
    paths.insert(f.key_path);
  }
  send(configure);
  for (const std::string& path : paths) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ipc::ParentToChild file;
    file.mutable_credential_file()->set_path(path);
    if (!fd || !send(file, fd.get())) {
      error = "cannot pass " + path;
      return false;
    }
  }
  ipc::ParentToChild load;
  load.mutable_load_credentials()->set_generation(generation);
  send(load);

  for (ipc::ChildToParent m; receive(m, 10000);) {
    if (!m.has_credentials_loaded()) continue;
    if (m.credentials_loaded().errors_size() == 0) return true;
    error = m.credentials_loaded().errors(0);
    return false;
  }
  error = "no answer from the tls helper";
  return false;
}

UniqueFd TlsHelperProcess::link(ipc::Role as) {
  UniqueFd ours, theirs;
  if (!ipc::make_seqpacket_pair(1 << 20, ours, theirs)) return {};
  ipc::ParentToChild message;
  message.mutable_peer_link()->set_peer(as);
  if (!send(message, theirs.get())) return {};
  return ours;
}

}  // namespace xmppd::testing
