// show s2s and close s2s: the server-to-server streams, as the s2s worker reports them
// (reports.proto), and ending those with one remote domain. The parent passes the question
// to the worker and its answer back; everything in it may come from a peer (domains,
// certificate subjects, OpenSSL's texts) and is printed through table.h.
#include <cstdio>
#include <string>
#include <vector>

#include "xmpp/jid.h"
#include "xmppctl/control_client.h"
#include "xmppctl/table.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {
namespace {

const char* direction_name(ipc::S2sDirection direction) {
  return direction == ipc::S2S_DIRECTION_INBOUND ? "in" : direction == ipc::S2S_DIRECTION_OUTBOUND ? "out" : "?";
}

const char* method_name(ipc::S2sAuthMethod method) {
  switch (method) {
    case ipc::S2S_AUTH_SASL_EXTERNAL:
      return "SASL EXTERNAL";
    case ipc::S2S_AUTH_DIALBACK:
      return "dialback";
    default:
      return "none";
  }
}

// For people: dialback says whether the certificate was valid too. An inbound stream that
// has proved nothing shows only the domain its header claims: "unverified".
std::string auth_cell(const ipc::S2sStream& s, const ipc::S2sRoute& route) {
  if (route.method() == ipc::S2S_AUTH_SASL_EXTERNAL) return "EXTERNAL";
  if (route.method() == ipc::S2S_AUTH_DIALBACK) return route.certified() ? "dialback+cert" : "dialback";
  return s.direction() == ipc::S2S_DIRECTION_INBOUND ? "unverified" : "-";
}

const char* certificate_name(ipc::CertificateStatus status) {
  switch (status) {
    case ipc::CERTIFICATE_NONE:
      return "none";
    case ipc::CERTIFICATE_TRUSTED:
      return "trusted";
    case ipc::CERTIFICATE_UNTRUSTED:
      return "untrusted";
    case ipc::CERTIFICATE_WRONG_NAME:
      return "wrong name";
    case ipc::CERTIFICATE_EXPIRED:
      return "expired";
    default:
      return "?";
  }
}

std::string flags(const ipc::S2sStream& s) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(s.direct_tls(), "direct-tls");
  add(s.dane(), "dane");
  add(s.bidi(), "bidi");
  add(s.sm(), "sm");
  return out.empty() ? "-" : out;
}

void print_table(const ipc::S2sStreams& streams, bool details) {
  Table table({{"direction", "DIR"},
               {"local", "LOCAL"},
               {"remote", "REMOTE"},
               {"auth", "AUTH"},
               {"certificate", "CERTIFICATE"},
               {"tls", "TLS"},
               {"address", "ADDRESS"},
               {"queue", "QUEUE", true},
               {"age", "AGE"},
               {"idle", "IDLE"},
               {"flags", "FLAGS"}});
  for (const ipc::S2sStream& s : streams.streams()) {
    std::string tls = s.tls_version().empty() ? "none" : s.tls_version() + " " + s.cipher();
    for (const ipc::S2sRoute& route : s.routes())
      table.add({direction_name(s.direction()), route.local(), route.remote(), auth_cell(s, route),
                 certificate_name(s.certificate()), tls, s.address().empty() ? "-" : s.address(),
                 std::to_string(s.queue_length()), duration(s.age_seconds()), duration(s.idle_seconds()), flags(s)});
  }
  if (table.empty()) {
    std::printf("no server-to-server streams\n");
    return;
  }
  table.print(stdout);
  // Why a certificate is not trusted, and (for one remote domain) every chain.
  for (const ipc::S2sStream& s : streams.streams()) {
    bool problem = !s.certificate_error().empty();
    if ((!problem && !details) || s.routes().empty()) continue;
    std::string line = std::string(direction_name(s.direction())) + " " + s.routes(0).remote() + " " +
                       (s.address().empty() ? "-" : s.address()) + ":";
    if (problem) line += " " + s.certificate_error() + ";";
    line += " chain:";
    if (s.chain().empty()) line += " (none)";
    for (int i = 0; i < s.chain_size(); ++i) line += (i == 0 ? " " : " < ") + s.chain(i);
    std::printf("%s\n", printable(line).c_str());
  }
}

std::string json(const ipc::S2sStreams& streams) {
  auto boolean = [](bool b) { return b ? "true" : "false"; };
  std::string out = "[";
  for (int i = 0; i < streams.streams_size(); ++i) {
    const ipc::S2sStream& s = streams.streams(i);
    out += i == 0 ? "\n  {" : ",\n  {";
    out += "\"direction\": " + json_string(s.direction() == ipc::S2S_DIRECTION_INBOUND ? "inbound" : "outbound");
    out += ", \"routes\": [";
    for (int r = 0; r < s.routes_size(); ++r) {
      const ipc::S2sRoute& route = s.routes(r);
      out += r == 0 ? "{" : ", {";
      out += "\"local\": " + json_string(route.local()) + ", \"remote\": " + json_string(route.remote()) +
             ", \"method\": " + json_string(method_name(route.method())) +
             ", \"certified\": " + boolean(route.certified()) + "}";
    }
    out += "], \"certificate\": " + json_string(certificate_name(s.certificate()));
    out += ", \"certificate_error\": " + json_string(s.certificate_error());
    out += ", \"chain\": [";
    for (int c = 0; c < s.chain_size(); ++c) out += (c == 0 ? "" : ", ") + json_string(s.chain(c));
    out += "], \"tls_version\": " + json_string(s.tls_version()) + ", \"cipher\": " + json_string(s.cipher());
    out += ", \"address\": " + json_string(s.address());
    out += ", \"queue_length\": " + std::to_string(s.queue_length());
    out += ", \"age_seconds\": " + std::to_string(s.age_seconds());
    out += ", \"idle_seconds\": " + std::to_string(s.idle_seconds());
    out += std::string(", \"dane\": ") + boolean(s.dane()) + ", \"bidi\": " + boolean(s.bidi()) +
           ", \"direct_tls\": " + boolean(s.direct_tls()) + ", \"sm\": " + boolean(s.sm()) +
           ", \"unacked\": " + std::to_string(s.unacked()) + "}";
  }
  return out + (streams.streams_size() == 0 ? "]" : "\n]");
}

// A remote domain from the command line, prepared as the server compares it.
std::string remote_domain(const std::string& text) {
  auto domain = xmpp::prepare_domainpart(text);
  if (!domain) fail(kExitUsage, text + ": not a domain");
  return *domain;
}

}  // namespace

int show_s2s(Context& context) {
  if (context.args.size() > 1) fail(kExitUsage, "show s2s takes at most one remote domain");
  ipc::AdminRequest request;
  ipc::S2sQuery& query = *request.mutable_show_s2s();
  if (!context.args.empty()) query.set_remote(remote_domain(context.args[0]));
  ipc::S2sStreams streams;
  ask_pages(context, request, [&](const ipc::AdminResponse& page) {
    expect_no_error(page);
    if (!page.has_s2s()) fail(kExitFailed, "the server's answer is not understood");
    warn_if_cut(page);
    for (const ipc::S2sStream& s : page.s2s().streams()) *streams.add_streams() = s;
  });
  if (context.json)
    std::printf("%s\n", json(streams).c_str());
  else
    print_table(streams, !context.args.empty());
  return kExitOk;
}

int close_s2s(Context& context) {
  if (context.args.size() != 1) fail(kExitUsage, "close s2s takes one remote domain");
  ipc::AdminRequest request;
  std::string remote = remote_domain(context.args[0]);
  request.mutable_close_s2s()->set_remote(remote);
  ipc::AdminResponse response = ask(context, request);
  expect_no_error(response);
  if (!response.has_done() || !response.done().ok()) fail(kExitFailed, "the server's answer is not understood");
  unsigned count = response.done().count();
  std::printf("%s: %u stream%s closed\n", remote.c_str(), count, count == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace xmppd::ctl
