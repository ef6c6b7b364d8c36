// xmppctl check [config|dns|certs|ports]: what prosodyctl check does, for xmppd. This file
// holds the verb, the config section and how findings are printed; the other sections have
// files of their own. It reads the configuration file (trusted, the administrator's) and
// nothing from the network: the DNS section's answers are read in a child (check_dns.cc).
#include "xmppctl/check.h"

#include <pwd.h>

#include <set>

#include "config/settings.h"
#include "xmppctl/table.h"

namespace xmppd::ctl {
namespace {

Finding diagnostic_finding(const config::Diagnostic& d) {
  Finding f;
  f.level = d.severity == config::Diagnostic::Severity::kError ? Level::kError : Level::kWarning;
  f.section = "config";
  f.subject = d.line > 0 ? d.file + ":" + std::to_string(d.line) : d.file;
  f.message = d.message;
  return f;
}

void check_users(const config::Settings& s, Findings& out) {
  const std::pair<const char*, const std::string&> users[] = {
      {"xmppd_user", s.xmppd_user}, {"tls_helper_user", s.tls_helper_user}, {"auth_helper_user", s.auth_helper_user}};
  for (const auto& [option, name] : users)
    if (getpwnam(name.c_str()) == nullptr)
      out.push_back({Level::kError, "config", option, "the user " + name + " does not exist; xmppd cannot start"});
}

// Settings that load but that prosodyctl check would also question.
void check_host(const config::HostSettings& h, Findings& out) {
  std::string subject = h.name;
  auto warn = [&](const std::string& message) { out.push_back({Level::kWarning, "config", subject, message}); };
  if (h.s2s_secure_auth && !h.s2s_secure_domains.empty())
    warn("s2s_secure_domains has no effect: s2s_secure_auth already asks every server for a trusted certificate");
  if (!h.s2s_secure_auth && !h.s2s_insecure_domains.empty())
    warn("s2s_insecure_domains has no effect without s2s_secure_auth = true");
  if (!h.c2s_require_encryption) warn("c2s_require_encryption = false: clients may log in without TLS");
  if (!h.s2s_require_encryption) warn("s2s_require_encryption = false: servers may federate without TLS");
  if (h.allow_registration) warn("allow_registration = true: anyone may create accounts");
}

}  // namespace

const char* level_name(Level level) {
  switch (level) {
    case Level::kOk:
      return "ok";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "?";
}

bool any_error(const Findings& findings) {
  for (const Finding& f : findings)
    if (f.level == Level::kError) return true;
  return false;
}

void print_findings(const Context& context, const Findings& findings) {
  Table table({{"level", "LEVEL"}, {"section", "SECTION"}, {"subject", "SUBJECT"}, {"message", "FINDING"}});
  for (const Finding& f : findings) table.add({level_name(f.level), f.section, f.subject, f.message});
  if (context.json)
    std::printf("%s\n", table.json().c_str());
  else
    table.print(stdout);
}

void check_config(const Context& context, Findings& out) {
  // main.cc has loaded the file; what it said, errors included, is findings here.
  std::size_t warnings = 0;
  for (const config::Diagnostic& d : context.diagnostics) {
    out.push_back(diagnostic_finding(d));
    if (d.severity == config::Diagnostic::Severity::kWarning) ++warnings;
  }
  if (!context.settings_loaded) {
    if (!config::has_error(context.diagnostics))  // load_file failed without saying why
      out.push_back({Level::kError, "config", context.config_file, "cannot be loaded"});
    return;
  }
  out.push_back({Level::kOk, "config", context.config_file,
                 "loads" + (warnings ? " with " + std::to_string(warnings) + " warning(s)" : std::string())});
  const config::Settings& s = context.settings;
  check_users(s, out);
  std::size_t enabled = 0;
  for (const config::HostSettings& h : s.hosts) {
    if (!h.enabled) continue;
    ++enabled;
    check_host(h, out);
  }
  if (enabled == 0) out.push_back({Level::kError, "config", context.config_file, "no enabled VirtualHost"});
}

int check(Context& context) {
  static const std::set<std::string> kSections = {"config", "dns", "certs", "ports"};
  if (context.args.size() > 1) fail(kExitUsage, "check takes at most one section: config, dns, certs or ports");
  std::string only = context.args.empty() ? "" : context.args[0];
  if (!only.empty() && !kSections.count(only)) fail(kExitUsage, only + ": no such section (config, dns, certs, ports)");
  Findings findings;
  if (!context.settings_loaded) {
    // The other sections need the settings: the file's errors are the answer, exit 2 (usage).
    check_config(context, findings);
    if (only != "config")
      findings.push_back({Level::kError, only.empty() ? "check" : only, context.config_file,
                          (only.empty() ? std::string("certs, ports and dns") : only) +
                              " not checked: the configuration has errors"});
    print_findings(context, findings);
    return kExitUsage;
  }
  if (only.empty() || only == "config") check_config(context, findings);
  if (only.empty() || only == "certs") check_certs(context, findings);
  if (only.empty() || only == "ports") check_ports(context, findings);
  if (only.empty() || only == "dns") check_dns(context, findings);
  print_findings(context, findings);
  return any_error(findings) ? kExitFailed : kExitOk;
}

}  // namespace xmppd::ctl
