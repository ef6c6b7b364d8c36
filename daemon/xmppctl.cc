// xmppctl: account administration of a running xmppd. It reads the configuration (for
// DATA_PATH and the VirtualHosts), then asks the server through DATA_PATH/control.sock; the
// parent passes the request to the auth helper, the only process that opens the credential
// store. See xmppctl(8).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "admin.pb.h"
#include "build_config.h"
#include "common/unique_fd.h"
#include "config/settings.h"
#include "proto/channel.h"
#include "proto/frame.h"
#include "xmpp/jid.h"
#include "xmppctl/import_prosody.h"

namespace {

using namespace xmppd;

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: xmppctl [-f file] adduser | passwd | deluser JID\n"
               "       xmppctl [-f file] import prosody [-F] DATA_DIR [HOST ...]\n");
  std::exit(1);
}

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "xmppctl: %s\n", message.c_str());
  std::exit(1);
}

std::string prompt(const char* text) {
  std::fprintf(stderr, "%s", text);
  struct termios old, quiet;
  tcgetattr(STDIN_FILENO, &old);
  quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fprintf(stderr, "\n");
  return line;
}

// From the terminal without echo, asked twice; else one line of standard input.
std::string read_password() {
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    if (!std::getline(std::cin, line)) fail("no password on standard input");
    return line;
  }
  std::string first = prompt("Password: ");
  if (prompt("Again: ") != first) fail("the passwords do not match");
  return first;
}

ipc::AccountResult ask(const std::string& socket_path, const ipc::AccountRequest& request) {
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) fail(socket_path + ": path too long");
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (!fd || connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0)
    fail("cannot reach the server at " + socket_path + ": " + std::strerror(errno) + " (is xmppd running?)");
  ipc::AdminRequest message;
  *message.mutable_account() = request;
  std::string bytes = message.SerializeAsString();
  if (ipc::send_record(fd.get(), std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), {}) !=
      ipc::SendStatus::kSent)
    fail("cannot send the request");
  struct pollfd p = {fd.get(), POLLIN, 0};
  if (poll(&p, 1, 30000) != 1) fail("no answer from the server");
  std::vector<std::uint8_t> buffer(16 << 10);
  std::vector<UniqueFd> fds;
  std::size_t length = 0;
  ipc::AdminResponse response;
  std::string why;
  if (ipc::recv_record(fd.get(), buffer, 0, length, fds) != ipc::RecvStatus::kRecord ||
      !ipc::decode_envelope(response, std::span(buffer.data(), length), why) || !response.has_account())
    fail("the server's answer is not understood");
  return response.account();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file = std::string(XMPPD_SYSCONFDIR) + "/xmppd.conf";
  int ch;
  while ((ch = getopt(argc, argv, "+f:")) != -1) {
    if (ch != 'f') usage();
    config_file = optarg;
  }
  if (argc - optind >= 2 && std::string(argv[optind]) == "import") {
    std::vector<config::Diagnostic> diags;
    auto settings = config::load_file(config_file, diags);
    for (const auto& d : diags)
      if (d.severity == config::Diagnostic::Severity::kError) std::fprintf(stderr, "%s\n", d.str().c_str());
    if (!settings) return 2;
    return ctl::import_prosody(*settings, std::vector<std::string>(argv + optind + 1, argv + argc));
  }
  if (argc - optind != 2) usage();
  std::string command = argv[optind];
  ipc::AccountRequest request;
  if (command == "adduser")
    request.set_operation(ipc::AccountRequest::OPERATION_ADD);
  else if (command == "passwd")
    request.set_operation(ipc::AccountRequest::OPERATION_PASSWD);
  else if (command == "deluser")
    request.set_operation(ipc::AccountRequest::OPERATION_DELETE);
  else
    usage();

  std::vector<config::Diagnostic> diags;
  auto settings = config::load_file(config_file, diags);
  for (const auto& d : diags)
    if (d.severity == config::Diagnostic::Severity::kError) std::fprintf(stderr, "%s\n", d.str().c_str());
  if (!settings) return 1;

  auto jid = xmpp::Jid::parse(argv[optind + 1]);
  if (!jid || !jid->has_local() || jid->has_resource()) fail(std::string(argv[optind + 1]) + ": not a user@host address");
  const config::HostSettings* host = settings->find_host(jid->domain());
  if (host == nullptr || !host->enabled) fail(jid->domain() + " is not a VirtualHost of " + config_file);
  request.set_host(jid->domain());
  request.set_username(jid->local());
  if (request.operation() != ipc::AccountRequest::OPERATION_DELETE) {
    std::string password = read_password();
    if (password.empty()) fail("empty password refused");
    request.set_password(password);
  }
  ipc::AccountResult result = ask(settings->data_path + "/control.sock", request);
  if (!result.ok()) fail(jid->bare() + ": " + result.error());
  std::printf("%s %s\n", jid->bare().c_str(),
              command == "adduser" ? "added" : command == "passwd" ? "password changed" : "deleted");
  return 0;
}
