// kick and reload: verbs that change what the running server does. The router ends the
// sessions a kick names; the parent reloads the configuration and says whether it was taken.
#include <cstdio>
#include <string>

#include "xmpp/jid.h"
#include "xmppctl/control_client.h"
#include "xmppctl/table.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {

int kick(Context& context) {
  if (context.args.empty()) fail(kExitUsage, "kick needs a JID");
  auto jid = xmpp::Jid::parse(context.args[0]);
  if (!jid || !jid->has_local())
    fail(kExitUsage, context.args[0] + ": not a user's JID (user@host or user@host/resource)");
  const config::HostSettings* host = context.settings.find_host(jid->domain());
  if (host == nullptr || !host->enabled)
    fail(kExitUsage, jid->domain() + " is not a VirtualHost of " + context.config_file);
  std::string reason;
  for (std::size_t i = 1; i < context.args.size(); ++i) reason += (i > 1 ? " " : "") + context.args[i];
  // The client reads it in a stream error; the router refuses it as well.
  if (!xmpp::valid_text(reason))
    fail(kExitUsage, "the reason must be UTF-8 text without control characters, at most 1023 bytes");
  ipc::AdminRequest request;
  request.mutable_kick()->set_jid(jid->full());
  request.mutable_kick()->set_reason(reason);
  ipc::AdminResponse response = ask(context, request);
  expect_no_error(response);
  if (!response.has_done()) fail(kExitFailed, "the server's answer is not understood");
  const unsigned count = response.done().count();
  if (context.json)
    std::printf("{\"jid\": %s, \"count\": %u}\n", json_string(jid->full()).c_str(), count);
  else
    std::printf("%s: %u session%s ended\n", printable(jid->full()).c_str(), count, count == 1 ? "" : "s");
  return kExitOk;
}

int reload(Context& context) {
  if (!context.args.empty()) fail(kExitUsage, "reload takes no argument");
  ipc::AdminRequest request;
  request.mutable_reload();
  ipc::AdminResponse response = ask(context, request);
  expect_no_error(response);
  if (!response.has_reload()) fail(kExitFailed, "the server's answer is not understood");
  const ipc::ReloadResult& result = response.reload();
  // The server read the file xmppd was started with: its diagnostics name that file.
  for (const std::string& w : result.warnings()) std::fprintf(stderr, "%s\n", printable(w).c_str());
  for (const std::string& e : result.errors()) std::fprintf(stderr, "%s\n", printable(e).c_str());
  for (const std::string& e : result.certificate_errors()) std::fprintf(stderr, "%s\n", printable(e).c_str());
  const auto generation = static_cast<unsigned long long>(result.generation());
  if (context.json) {
    std::printf("{\"taken\": %s, \"generation\": %llu, \"certificates_loaded\": %s}\n",
                result.taken() ? "true" : "false", generation, result.certificates_loaded() ? "true" : "false");
  } else if (result.taken()) {
    std::printf("configuration taken (generation %llu)\n", generation);
  }
  if (!result.taken())
    fail(kExitFailed, "the new configuration has errors; generation " + std::to_string(generation) + " stays in force");
  // The tls helper refused the files (each error names one): it serves the ones it had.
  if (!result.certificates_loaded())
    fail(kExitFailed, "the certificates and keys were not loaded; the ones in force stay");
  return kExitOk;
}

}  // namespace xmppd::ctl
