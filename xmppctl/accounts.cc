// adduser, passwd, deluser, users: account administration. The parent passes each request to
// the auth helper, the only process that opens the credential store; the password travels
// once, over the control socket, and is turned into SCRAM credentials there.
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include "xmpp/jid.h"
#include "xmppctl/control_client.h"
#include "xmppctl/table.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {
namespace {

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
    if (!std::getline(std::cin, line)) fail(kExitFailed, "no password on standard input");
    return line;
  }
  std::string first = prompt("Password: ");
  if (prompt("Again: ") != first) fail(kExitFailed, "the passwords do not match");
  return first;
}

// The account named on the command line, which must be user@host of a VirtualHost.
xmpp::Jid account_of(const Context& context) {
  if (context.args.size() != 1) fail(kExitUsage, "one user@host expected");
  auto jid = xmpp::Jid::parse(context.args[0]);
  if (!jid || !jid->has_local() || jid->has_resource()) fail(kExitUsage, context.args[0] + ": not a user@host address");
  const config::HostSettings* host = context.settings.find_host(jid->domain());
  if (host == nullptr || !host->enabled) fail(kExitUsage, jid->domain() + " is not a VirtualHost of " + context.config_file);
  return *jid;
}

int run(Context& context, ipc::AccountRequest::Operation operation, const char* done) {
  xmpp::Jid jid = account_of(context);
  ipc::AdminRequest request;
  ipc::AccountRequest& account = *request.mutable_account();
  account.set_operation(operation);
  account.set_host(jid.domain());
  account.set_username(jid.local());
  if (operation != ipc::AccountRequest::OPERATION_DELETE) {
    std::string password = read_password();
    if (password.empty()) fail(kExitFailed, "empty password refused");
    account.set_password(password);
  }
  ipc::AdminResponse response = ask(context, request);
  expect_no_error(response);  // the auth helper is not running, or stopped before it answered
  if (!response.has_account()) fail(kExitFailed, "the server's answer is not understood");
  if (!response.account().ok()) fail(kExitFailed, jid.bare() + ": " + response.account().error());
  std::printf("%s %s\n", jid.bare().c_str(), done);
  return kExitOk;
}

}  // namespace

// The usernames of one VirtualHost, sorted by the auth helper; in pages for a large host.
int users(Context& context) {
  if (context.args.size() != 1) fail(kExitUsage, "users needs one host");
  const config::HostSettings* host = context.settings.find_host(context.args[0]);
  if (host == nullptr || !host->enabled)
    fail(kExitUsage, context.args[0] + " is not a VirtualHost of " + context.config_file);
  const std::string& name = host->name;  // as the auth helper stores it: lowercase
  ipc::AdminRequest request;
  request.mutable_users()->set_host(name);
  Table table({{"jid", "JID"}, {"sha1_only", "SHA-1 ONLY", false, true}});
  std::size_t sha1_only = 0;
  ask_pages(context, request, [&](const ipc::AdminResponse& page) {
    expect_no_error(page);
    warn_if_cut(page);
    if (!page.has_users()) fail(kExitFailed, "the server's answer is not understood");
    const auto& old = page.users().sha1_only();
    for (const std::string& user : page.users().usernames()) {
      const bool only_sha1 = std::find(old.begin(), old.end(), user) != old.end();
      sha1_only += only_sha1;
      table.add({user + "@" + name, only_sha1 ? "yes" : "no"});
    }
  });
  table.output(context.json);
  if (sha1_only > 0)
    std::fprintf(stderr,
                 "xmppctl: %zu account(s) of %s have only a SCRAM-SHA-1 credential, so %s offers no SCRAM-SHA-256; "
                 "a PLAIN login or xmppctl passwd gives each a SCRAM-SHA-256 one\n",
                 sha1_only, name.c_str(), name.c_str());
  return kExitOk;
}

int adduser(Context& context) { return run(context, ipc::AccountRequest::OPERATION_ADD, "added"); }
int passwd(Context& context) { return run(context, ipc::AccountRequest::OPERATION_PASSWD, "password changed"); }
int deluser(Context& context) { return run(context, ipc::AccountRequest::OPERATION_DELETE, "deleted"); }

}  // namespace xmppd::ctl
