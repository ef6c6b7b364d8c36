// status, show c2s, show components and show muc: what the running server is and holds. The
// parent answers status from what it knows of its children (and /proc); the router answers
// the others, in pages. JIDs and addresses in the answers come from the network and are
// printed through table.h.
#include <cstdio>
#include <string>

#include "xmppctl/control_client.h"
#include "xmppctl/table.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {
namespace {

std::string mebibytes(unsigned long long bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::string number(unsigned long long n) { return std::to_string(n); }

// People read sizes in MiB and durations as "3d 4h"; scripts get bytes and seconds.
std::string size_cell(const Context& context, unsigned long long bytes) {
  return context.json ? number(bytes) : mebibytes(bytes);
}
std::string text_cell(const Context& context, const std::string& text) {
  return context.json || !text.empty() ? text : "-";
}
std::string time_cell(const Context& context, unsigned long long seconds) {
  return context.json ? number(seconds) : duration(seconds);
}

}  // namespace

int status(Context& context) {
  if (!context.args.empty()) fail(kExitUsage, "status takes no argument");
  ipc::AdminRequest request;
  request.mutable_status();
  ipc::AdminResponse response = ask(context, request);
  expect_no_error(response);
  if (!response.has_status()) fail(kExitFailed, "the server's answer is not understood");
  const ipc::ServerStatus& status = response.status();
  Table table({{"role", "PROCESS"},
               {"pid", "PID", true},
               {"resident_bytes", context.json ? "RSS" : "RSS MiB", true},
               {"address_space_bytes", context.json ? "VSZ" : "VSZ MiB", true},
               {"restarts", "RESTARTS", true},
               {"uptime_seconds", "UPTIME", context.json},
               {"ready", "READY", false, true}});
  for (const ipc::ProcessStatus& p : status.processes())
    table.add({p.role(), number(p.pid()), size_cell(context, p.resident_bytes()),
               size_cell(context, p.address_space_bytes()), number(p.restarts()),
               time_cell(context, p.uptime_seconds()), p.ready() ? "yes" : "no"});
  if (context.json) {
    std::printf("{\"version\": %s, \"uptime_seconds\": %llu, \"generation\": %llu, \"processes\": %s}\n",
                json_string(status.version()).c_str(), static_cast<unsigned long long>(status.uptime_seconds()),
                static_cast<unsigned long long>(status.generation()), table.json().c_str());
    return kExitOk;
  }
  std::printf("xmppd %s, up %s, configuration generation %llu\n", printable(status.version()).c_str(),
              duration(status.uptime_seconds()).c_str(), static_cast<unsigned long long>(status.generation()));
  table.print(stdout);
  return kExitOk;
}

int show_c2s(Context& context) {
  if (context.args.size() > 1) fail(kExitUsage, "show c2s takes at most one host");
  ipc::AdminRequest request;
  if (!context.args.empty()) {
    const config::HostSettings* host = context.settings.find_host(context.args[0]);
    if (host == nullptr || !host->enabled)
      fail(kExitUsage, context.args[0] + " is not a VirtualHost of " + context.config_file);
    request.mutable_show_c2s()->set_host(host->name);  // as the router knows it: lowercase
  } else {
    request.mutable_show_c2s();
  }
  Table table({{"jid", "JID"},
               {"address", "ADDRESS"},
               {"tls_version", "TLS"},
               {"cipher", "CIPHER"},
               {"mechanism", "SASL"},
               {"stream_management", "SM"},
               {"presence", "PRESENCE"},
               {"inactive", "INACTIVE", false, true},
               {"direct_tls", "DIRECT", false, true},
               {"websocket", "WS", false, true},
               {"idle_seconds", "IDLE", context.json},
               {"age_seconds", "AGE", context.json}});
  ask_pages(context, request, [&](const ipc::AdminResponse& page) {
    expect_no_error(page);
    warn_if_cut(page);
    if (!page.has_c2s()) fail(kExitFailed, "the server's answer is not understood");
    for (const ipc::C2sSession& s : page.c2s().sessions()) {
      table.add({s.jid(), s.address(), text_cell(context, s.tls_version()), text_cell(context, s.cipher()),
                 text_cell(context, s.mechanism()), s.stream_management(), s.presence(), s.inactive() ? "yes" : "no",
                 s.direct_tls() ? "yes" : "no", s.websocket() ? "yes" : "no", time_cell(context, s.idle_seconds()),
                 time_cell(context, s.age_seconds())});
    }
  });
  table.output(context.json);
  return kExitOk;
}

int show_components(Context& context) {
  if (!context.args.empty()) fail(kExitUsage, "show components takes no argument");
  ipc::AdminRequest request;
  request.mutable_show_components();
  Table table({{"domain", "DOMAIN"},
               {"kind", "KIND"},
               {"connected", "CONNECTED", false, true},
               {"address", "ADDRESS"},
               {"connected_seconds", "UP", context.json},
               {"stanzas_in", "IN", true},
               {"stanzas_out", "OUT", true},
               {"rooms", "ROOMS", true},
               {"occupants", "OCCUPANTS", true}});
  ask_pages(context, request, [&](const ipc::AdminResponse& page) {
    expect_no_error(page);
    warn_if_cut(page);
    if (!page.has_components()) fail(kExitFailed, "the server's answer is not understood");
    for (const ipc::ComponentReport& c : page.components().components()) {
      // Columns that do not apply to a kind are "-" for people, 0 or false for scripts.
      auto count = [&](bool applies, unsigned long long n) { return applies || context.json ? number(n) : "-"; };
      table.add({c.domain(), c.kind(), c.connected() ? "yes" : "no", text_cell(context, c.address()),
                 c.connected() || context.json ? time_cell(context, c.connected_seconds()) : "-",
                 count(c.connected(), c.stanzas_in()), count(c.connected(), c.stanzas_out()),
                 count(c.kind() == "muc", c.rooms()), count(c.kind() == "muc", c.occupants())});
    }
  });
  table.output(context.json);
  return kExitOk;
}

int show_muc(Context& context) {
  if (context.args.size() > 1) fail(kExitUsage, "show muc takes at most one MUC service");
  ipc::AdminRequest request;
  if (!context.args.empty()) {
    const config::HostSettings* service = nullptr;
    for (const config::HostSettings& c : context.settings.components)
      if (c.enabled && c.component_module == "muc" && c.name == context.args[0]) service = &c;
    if (service == nullptr)
      fail(kExitUsage, context.args[0] + " is not a MUC service (Component \"...\" \"muc\") of " + context.config_file);
    request.mutable_show_muc()->set_service(service->name);
  } else {
    request.mutable_show_muc();
  }
  Table table({{"jid", "ROOM"},
               {"occupants", "OCCUPANTS", true},
               {"persistent", "PERSISTENT", false, true},
               {"public", "PUBLIC", false, true},
               {"members_only", "MEMBERS", false, true},
               {"password", "PASSWORD", false, true},
               {"locked", "LOCKED", false, true},
               {"archived", "ARCHIVED", false, true}});
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  ask_pages(context, request, [&](const ipc::AdminResponse& page) {
    expect_no_error(page);
    warn_if_cut(page);
    if (!page.has_rooms()) fail(kExitFailed, "the server's answer is not understood");
    for (const ipc::RoomReport& r : page.rooms().rooms())
      table.add({r.jid(), number(r.occupants()), yes(r.persistent()), yes(r.public_room()), yes(r.members_only()),
                 yes(r.password()), yes(r.locked()), yes(r.archived())});
  });
  table.output(context.json);
  return kExitOk;
}

}  // namespace xmppd::ctl
