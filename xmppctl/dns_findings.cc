// The judging half of check dns (dns_findings.h). The names in answers come from the network:
// they go into findings as text only, and table.h makes them printable.
#include "xmppctl/dns_findings.h"

#include <algorithm>

namespace xmppd::ctl {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string ports_text(const std::vector<int>& ports) {
  std::vector<std::string> items;
  for (int p : ports) items.push_back(std::to_string(p));
  return "{ " + join(items) + " }";
}

bool has(const std::vector<int>& ports, int port) { return std::find(ports.begin(), ports.end(), port) != ports.end(); }

const char* failure(s2s::DnsStatus status) {
  return status == s2s::DnsStatus::kBogus ? "failed DNSSEC validation" : "failed (no answer or SERVFAIL)";
}

// Whether xmppd listens on `address` (text form) for a service bound to `interfaces`.
bool listens_on(const std::string& address, const std::vector<std::string>& interfaces) {
  bool v6 = address.find(':') != std::string::npos;
  for (const std::string& i : interfaces)
    if (i == address || (i == "*" && !v6) || (i == "::" && v6)) return true;
  return false;
}

// Where `name` points, judged: no address is an error, addresses of other machines a warning
// whatever the port (a NAT or a proxy in front of xmppd may be intended and may map ports), one
// of ours that xmppd does not listen on or whose port is not xmppd's an error, one it listens on
// fine.
void judge_target(const HostDns& dns, const XmppService& service, const std::string& subject, const std::string& name,
                  int port, const std::set<std::string>& local, Findings& out) {
  auto it = dns.addresses.find(name);
  std::string where = name + " port " + std::to_string(port);
  if (it == dns.addresses.end() || it->second.status == s2s::DnsStatus::kNoRecords) {
    out.push_back({Level::kError, "dns", subject, where + ": " + name + " has no A or AAAA record"});
    return;
  }
  if (it->second.status != s2s::DnsStatus::kOk) {
    out.push_back({Level::kError, "dns", subject, where + ": the address lookup " + failure(it->second.status)});
    return;
  }
  const std::vector<std::string>& addresses = it->second.addresses;
  bool here = std::any_of(addresses.begin(), addresses.end(), [&](const std::string& a) { return local.count(a) > 0; });
  bool served = std::any_of(addresses.begin(), addresses.end(), [&](const std::string& a) {
    return local.count(a) > 0 && listens_on(a, service.interfaces);
  });
  if (!here)
    out.push_back(
        {Level::kWarning, "dns", subject, where + " (" + join(addresses) + "): not an address of this machine"});
  else if (!has(service.ports, port))
    out.push_back({Level::kError, "dns", subject,
                   where + " (" + join(addresses) + "): this machine, but the port is not in " + service.ports_option +
                       " " + ports_text(service.ports)});
  else if (served)
    out.push_back({Level::kOk, "dns", subject, where + " (" + join(addresses) + "): this machine"});
  else
    out.push_back({Level::kError, "dns", subject,
                   where + " (" + join(addresses) + "): this machine, but not in " + service.interfaces_option + " { " +
                       join(service.interfaces) + " }"});
}

void judge_service(const HostDns& dns, const XmppService& service, const std::set<std::string>& local, Findings& out) {
  std::string subject = service.srv_prefix + "." + dns.host;
  auto it = dns.srv.find(service.srv_prefix);
  if (it == dns.srv.end()) return;
  const s2s::SrvAnswer& answer = it->second;
  if (answer.status == s2s::DnsStatus::kError || answer.status == s2s::DnsStatus::kBogus) {
    out.push_back({Level::kError, "dns", subject, std::string("the SRV lookup ") + failure(answer.status)});
    return;
  }
  if (answer.status == s2s::DnsStatus::kNoRecords) {
    if (service.fallback_port == 0) {
      if (!service.ports.empty())
        out.push_back({Level::kWarning, "dns", subject,
                       "no SRV record: nobody learns of " + service.ports_option + " " + ports_text(service.ports)});
      return;
    }
    if (!has(service.ports, service.fallback_port)) {
      out.push_back({Level::kError, "dns", subject,
                     "no SRV record, so peers use port " + std::to_string(service.fallback_port) +
                         ", which is not in " + service.ports_option + " " + ports_text(service.ports)});
      return;
    }
    out.push_back({Level::kOk, "dns", subject,
                   "no SRV record: peers use " + dns.host + " port " + std::to_string(service.fallback_port)});
    judge_target(dns, service, subject, dns.host, service.fallback_port, local, out);
    return;
  }
  // RFC 2782: a single record with the target "." says the service is not offered.
  if (answer.records.size() == 1 && (answer.records[0].target.empty() || answer.records[0].target == ".")) {
    Level level = service.ports.empty() ? Level::kOk : Level::kWarning;
    out.push_back({level, "dns", subject,
                   "the SRV record says the service is not offered" +
                       (service.ports.empty() ? std::string()
                                              : ", but " + service.ports_option + " is " + ports_text(service.ports))});
    return;
  }
  for (const s2s::SrvRecord& record : answer.records) {
    if (record.target.empty() || record.target == ".") {
      out.push_back({Level::kWarning, "dns", subject,
                     "a record with the target \".\" among others: it means \"not offered\" only when alone"});
      continue;
    }
    judge_target(dns, service, subject, record.target, record.port, local, out);
  }
  if (auto unchecked = dns.srv_unchecked.find(service.srv_prefix); unchecked != dns.srv_unchecked.end())
    out.push_back({Level::kWarning, "dns", subject,
                   std::to_string(unchecked->second) + " more SRV records not checked (too many)"});
}

}  // namespace

std::vector<XmppService> services_of(const config::Settings& s, const config::HostSettings& host) {
  std::vector<XmppService> out;
  // A component has no clients of its own: other servers alone look it up.
  if (!host.component) {
    out.push_back({"_xmpp-client._tcp", "c2s_ports", s.c2s_ports, 5222, "c2s_interfaces", s.c2s_interfaces});
    out.push_back(
        {"_xmpps-client._tcp", "c2s_direct_tls_ports", s.c2s_direct_tls_ports, 0, "c2s_interfaces", s.c2s_interfaces});
  }
  if (host.module_enabled("s2s")) {
    out.push_back({"_xmpp-server._tcp", "s2s_ports", s.s2s_ports, 5269, "s2s_interfaces", s.s2s_interfaces});
    out.push_back(
        {"_xmpps-server._tcp", "s2s_direct_tls_ports", s.s2s_direct_tls_ports, 0, "s2s_interfaces", s.s2s_interfaces});
  }
  return out;
}

void judge_host_dns(const HostDns& dns, const std::vector<XmppService>& services, const std::set<std::string>& local,
                    Findings& out) {
  for (const XmppService& service : services) judge_service(dns, service, local, out);
}

}  // namespace xmppd::ctl
