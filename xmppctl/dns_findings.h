// check dns, the judging half: what a host's SRV and address records say, compared with this
// machine's addresses and the configured ports. Pure logic on answers already parsed
// (s2s-worker/dns_answer.h), run inside the unprivileged lookup child (dns_child.cc), and
// tested on its own (check_unittest.cc).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "s2s-worker/resolver.h"
#include "xmppctl/check.h"

namespace xmppd::ctl {

// The four services a VirtualHost may announce, each with the ports xmppd listens on for it.
struct XmppService {
  std::string srv_prefix;    // "_xmpp-client._tcp"
  std::string ports_option;  // "c2s_ports"
  std::vector<int> ports;
  int fallback_port = 0;                // where peers connect without an SRV record; 0: none (direct TLS)
  std::string interfaces_option;        // "c2s_interfaces"
  std::vector<std::string> interfaces;  // where xmppd listens for it: "*", "::" or addresses
};

// Both address lookups (A and AAAA) of one name, merged.
struct NameAddresses {
  s2s::DnsStatus status = s2s::DnsStatus::kNoRecords;  // kOk if either found an address
  std::vector<std::string> addresses;                  // text form
};

struct HostDns {
  std::string host;
  std::map<std::string, s2s::SrvAnswer> srv;       // by service prefix
  std::map<std::string, NameAddresses> addresses;  // by name: the host and every SRV target
  std::map<std::string, std::size_t> srv_unchecked;  // by service prefix: records beyond the cap, not looked up
};

// The services to look up for a host: client ones always, server ones when s2s is enabled.
std::vector<XmppService> services_of(const config::Settings& settings, const config::HostSettings& host);

// The findings for one host (section "dns"). `local` holds this machine's addresses in text.
void judge_host_dns(const HostDns& dns, const std::vector<XmppService>& services, const std::set<std::string>& local,
                    Findings& out);

}  // namespace xmppd::ctl
