#include "s2s-worker/dane_verdict.h"

namespace xmppd::s2s {
namespace {

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : separator) + part;
  return text;
}

}  // namespace

tls::DaneVerification match_tlsa(X509* leaf, STACK_OF(X509) * chain, const std::vector<TlsaRecord>& records,
                                 std::string_view domain, std::string_view host) {
  std::vector<tls::DaneRecord> dane;
  dane.reserve(records.size());
  for (const TlsaRecord& r : records) dane.push_back({r.usage, r.selector, r.matching_type, r.data});
  return tls::verify_dane(leaf, chain, dane, domain, host);
}

DaneVerdict judge_domain_dane(X509* leaf, STACK_OF(X509) * chain, const DomainDane& dane, std::string_view domain) {
  std::vector<std::string> mismatched, reasons, none;
  for (const auto& [host, lookup] : dane.targets) {
    if (lookup.state != DaneLookup::State::kRecords) {
      if (!lookup.none.empty()) none.push_back(lookup.none + " for " + lookup.name);
      continue;
    }
    const tls::DaneVerification v = match_tlsa(leaf, chain, lookup.records, domain, host);
    switch (v.status) {
      case tls::DaneStatus::kEeMatched:
      case tls::DaneStatus::kTaMatched:
        return {DaneVerdict::Kind::kMatched,
                v.status == tls::DaneStatus::kEeMatched ? "DANE-EE matched" : "DANE-TA matched",
                v.detail + " of " + lookup.name};
      case tls::DaneStatus::kNoUsable:
        none.push_back("no usable TLSA records for " + lookup.name);
        break;
      case tls::DaneStatus::kNoMatch:
        mismatched.push_back(lookup.name);
        reasons.push_back(v.detail);
        break;
    }
  }
  if (!mismatched.empty())
    return {DaneVerdict::Kind::kMismatch, "TLSA present, none matched",
            "TLSA records for " + join(mismatched, " and ") + " exist and none matches (" + join(reasons, "; ") + ")"};
  if (!dane.bogus.empty()) return {DaneVerdict::Kind::kBogus, "no DANE (" + join(dane.bogus, "; ") + ")", {}};
  if (!dane.none.empty()) return {DaneVerdict::Kind::kNone, "no DANE (" + dane.none + ")", {}};
  return {DaneVerdict::Kind::kNone, "no DANE (" + join(none, "; ") + ")", {}};
}

}  // namespace xmppd::s2s
