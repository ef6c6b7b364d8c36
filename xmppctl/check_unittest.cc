// The pure parts of check and cert import: which files cert import tries, which names a
// certificate covers, and what check dns makes of answers.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/x509v3.h>

#include "xmppctl/cert_files.h"
#include "xmppctl/dns_findings.h"

namespace xmppd::ctl {
namespace {

TEST(CertImport, TriesCertbotsLayoutThenFlatThenNested) {
  auto pairs = candidate_pairs("/etc/letsencrypt/live/", "example.com");
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].certificate, "/etc/letsencrypt/live/example.com/fullchain.pem");
  EXPECT_EQ(pairs[0].key, "/etc/letsencrypt/live/example.com/privkey.pem");
  EXPECT_EQ(pairs[1].certificate, "/etc/letsencrypt/live/example.com.crt");
  EXPECT_EQ(pairs[1].key, "/etc/letsencrypt/live/example.com.key");
  EXPECT_EQ(pairs[2].certificate, "/etc/letsencrypt/live/example.com/example.com.crt");
  EXPECT_EQ(pairs[2].key, "/etc/letsencrypt/live/example.com/example.com.key");
}

TEST(CertImport, ParentDomainOnlyBelowATopLevelDomain) {
  EXPECT_EQ(names_for("chat.example.com"), (std::vector<std::string>{"chat.example.com", "example.com"}));
  EXPECT_EQ(names_for("example.com"), (std::vector<std::string>{"example.com"}));
  EXPECT_EQ(names_for("localhost"), (std::vector<std::string>{"localhost"}));
}

X509Ptr certificate_for(const char* san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 3);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert.get(), key, EVP_sha256());
  EVP_PKEY_free(key);
  return cert;
}

TEST(CertNames, WildcardCoversOneLabel) {
  X509Ptr cert = certificate_for("DNS:example.com,DNS:*.example.com");
  EXPECT_TRUE(covers(cert.get(), "example.com"));
  EXPECT_TRUE(covers(cert.get(), "chat.example.com"));
  EXPECT_FALSE(covers(cert.get(), "a.chat.example.com"));
  EXPECT_FALSE(covers(cert.get(), "example.org"));
}

TEST(CertExpiry, DaysLeft) {
  X509Ptr cert = certificate_for("DNS:example.com");
  std::time_t now = std::time(nullptr);
  EXPECT_EQ(days_left(cert.get(), now), 3);
  EXPECT_EQ(days_left(cert.get(), now + 3600), 2);  // whole days only
  EXPECT_LT(days_left(cert.get(), now + 86400L * 4), 0);
  EXPECT_FALSE(not_yet_valid(cert.get(), now));
  EXPECT_TRUE(not_yet_valid(cert.get(), now - 3600));
}

// The DNS of a.test as seen from a machine whose address is 127.0.0.1.
HostDns dns_with(std::vector<s2s::SrvRecord> client_srv) {
  HostDns dns;
  dns.host = "a.test";
  dns.srv["_xmpp-client._tcp"] = {client_srv.empty() ? s2s::DnsStatus::kNoRecords : s2s::DnsStatus::kOk, client_srv};
  dns.srv["_xmpps-client._tcp"] = {s2s::DnsStatus::kNoRecords, {}};
  dns.addresses["a.test"] = {s2s::DnsStatus::kOk, {"127.0.0.1"}};
  dns.addresses["xmpp.a.test"] = {s2s::DnsStatus::kOk, {"192.0.2.1"}};
  return dns;
}

std::vector<XmppService> client_services(std::vector<int> direct_tls = {},
                                         std::vector<std::string> interfaces = {"*", "::"}) {
  return {{"_xmpp-client._tcp", "c2s_ports", {5222}, 5222, "c2s_interfaces", interfaces},
          {"_xmpps-client._tcp", "c2s_direct_tls_ports", direct_tls, 0, "c2s_interfaces", interfaces}};
}

Findings judged(const HostDns& dns, const std::vector<XmppService>& services) {
  Findings out;
  judge_host_dns(dns, services, {"127.0.0.1", "::1"}, out);
  return out;
}

TEST(CheckDns, GoodSrvRecordIsOk) {
  Findings f = judged(dns_with({{0, 5, 5222, "a.test"}}), client_services());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, Level::kOk);
  EXPECT_EQ(f[0].subject, "_xmpp-client._tcp.a.test");
  EXPECT_NE(f[0].message.find("this machine"), std::string::npos);
}

TEST(CheckDns, WrongPortIsAnError) {
  Findings f = judged(dns_with({{0, 5, 5223, "a.test"}}), client_services());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, Level::kError);
  EXPECT_NE(f[0].message.find("not in c2s_ports { 5222 }"), std::string::npos);
}

// A NAT or a proxy in front of xmppd may map ports: the port is judged only on this machine.
TEST(CheckDns, WrongPortOnAnotherMachineIsOnlyAWarning) {
  Findings f = judged(dns_with({{0, 5, 443, "xmpp.a.test"}}), client_services());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, Level::kWarning);
  EXPECT_NE(f[0].message.find("not an address of this machine"), std::string::npos);
}

TEST(CheckDns, DotAmongOtherRecordsIsNotAMissingAddress) {
  Findings f = judged(dns_with({{0, 5, 5222, "a.test"}, {1, 5, 5222, "."}}), client_services());
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].level, Level::kOk);
  EXPECT_EQ(f[1].level, Level::kWarning);
  EXPECT_EQ(f[1].message.find("no A or AAAA"), std::string::npos);
  EXPECT_NE(f[1].message.find("among others"), std::string::npos);
}

TEST(CheckDns, RecordsBeyondTheCapAreCounted) {
  HostDns dns = dns_with({{0, 5, 5222, "a.test"}});
  dns.srv_unchecked["_xmpp-client._tcp"] = 984;
  Findings f = judged(dns, client_services());
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].level, Level::kWarning);
  EXPECT_NE(f[1].message.find("984 more SRV records not checked"), std::string::npos);
}

TEST(CheckDns, TargetElsewhereIsAWarningAndNoAddressAnError) {
  Findings f = judged(dns_with({{0, 5, 5222, "xmpp.a.test"}, {1, 5, 5222, "gone.a.test"}}), client_services());
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].level, Level::kWarning);
  EXPECT_NE(f[0].message.find("192.0.2.1"), std::string::npos);
  EXPECT_EQ(f[1].level, Level::kError);
  EXPECT_NE(f[1].message.find("no A or AAAA"), std::string::npos);
}

TEST(CheckDns, NoSrvFallsBackToTheHost) {
  Findings f = judged(dns_with({}), client_services());
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].level, Level::kOk);
  EXPECT_EQ(f[1].level, Level::kOk);
  EXPECT_NE(f[1].message.find("a.test port 5222"), std::string::npos);
}

TEST(CheckDns, DirectTlsPortsWithoutSrvAreAWarning) {
  Findings f = judged(dns_with({{0, 5, 5222, "a.test"}}), client_services({5223}));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].level, Level::kWarning);
  EXPECT_EQ(f[1].subject, "_xmpps-client._tcp.a.test");
}

TEST(CheckDns, AnAddressOfOursThatXmppdDoesNotListenOnIsAnError) {
  Findings f = judged(dns_with({{0, 5, 5222, "a.test"}}), client_services({}, {"::1"}));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, Level::kError);
  EXPECT_NE(f[0].message.find("not in c2s_interfaces { ::1 }"), std::string::npos);
  EXPECT_EQ(judged(dns_with({{0, 5, 5222, "a.test"}}), client_services({}, {"127.0.0.1"}))[0].level, Level::kOk);
}

TEST(CheckDns, LookupFailureIsAnError) {
  HostDns dns = dns_with({});
  dns.srv["_xmpp-client._tcp"] = {s2s::DnsStatus::kError, {}};
  Findings f = judged(dns, client_services());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, Level::kError);
}

}  // namespace
}  // namespace xmppd::ctl
