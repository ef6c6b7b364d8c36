// xmppctl check: what each section found, one finding per line, and the sections themselves
// (check.cc: config; check_ports.cc; check_certs.cc; check_dns.cc with its child, dns_child.cc).
// A finding's texts may carry names from DNS answers; they are printed through table.h, which
// makes them printable.
#pragma once

#include <string>
#include <vector>

#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {

enum class Level { kOk, kWarning, kError };

struct Finding {
  Level level = Level::kOk;
  std::string section;  // "config", "dns", "certs", "ports", "import"
  std::string subject;  // a host, a file:line, a port
  std::string message;
};
using Findings = std::vector<Finding>;

const char* level_name(Level level);

// Prints the findings as aligned columns (LEVEL SECTION SUBJECT FINDING), or JSON with -j.
void print_findings(const Context& context, const Findings& findings);
bool any_error(const Findings& findings);

void check_config(const Context& context, Findings& out);
void check_certs(const Context& context, Findings& out);
void check_dns(const Context& context, Findings& out);
void check_ports(const Context& context, Findings& out);

}  // namespace xmppd::ctl
