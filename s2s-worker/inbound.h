// An inbound server-to-server stream, after TLS (stream/session.h does the rest): the
// remote server proves each of its domains, by SASL EXTERNAL (XEP-0178) or dialback
// (XEP-0220) as policy allows for that pair of domains, and then sends stanzas, each
// checked against the pairs this stream has proved.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "reports.pb.h"
#include "s2s-worker/dane_lookup.h"
#include "s2s-worker/dane_verdict.h"
#include "s2s-worker/federation.h"
#include "s2s-worker/stream_acks.h"
#include "stream/session.h"
#include "tls/peer_verify.h"

namespace xmppd::s2s {

// What a peer learns when the authoritative server of a domain it claims cannot be asked.
inline constexpr std::string_view kUnreachableText = "remote server unreachable";

class InboundStream final : public stream::StreamHandler {
 public:
  static constexpr std::size_t kMaxDialbackKey = 256;
  static constexpr std::size_t kMaxClaimedDomains = 32;
  // Elements the peer sends while a DANE lookup is under way wait, up to this many.
  static constexpr std::size_t kMaxHeldElements = 32;

  InboundStream(stream::Session& session, Federation& federation);
  ~InboundStream() override;

  void features(std::string& out) override;
  void element(xml::Element element) override;
  void closed() override;
  void drained() override;
  // XEP-0198 §4: a final <a h/> before the stream ends, so the peer does not send again
  // what was received (as Prosody does).
  void before_close() override;

  // For xmppctl (stream_report.cc): what this stream is, at `now` (the loop's clock).
  void report(ipc::S2sStream& out, time_t now);
  // Whether the stream has proved `remote` and, when `local` is not empty, for that local
  // domain. The header's domain alone is a claim, not proof: xmppctl close s2s must not
  // close (or count) a stream that merely says it is jabber.org.
  bool carries(const std::string& remote, const std::string& local) const;
  // Whether nothing is proved yet and the header claims `remote` (as claimed_domain() gives
  // it): show s2s REMOTE lists such a stream, marked unauthenticated.
  bool claims(const std::string& remote) const;
  // Ends the stream cleanly at the administrator's request (xmppctl close s2s).
  void close();
  // Ends the stream cleanly because the worker stops (Transport::close writes what it can now).
  void end() { session_.end_stream(); }
  bool open() const { return session_.sending(); }
  const stream::Session& session() const { return session_; }
  // A stanza of ours went out on this stream (bidirectional, XEP-0288): the peer may
  // acknowledge it (XEP-0198).
  void sent_stanza() {
    if (sm_) acks_.sent();
  }
  bool stream_management() const { return sm_; }

 private:
  void dispatch(xml::Element element);
  void sasl(const xml::Element& auth);
  void db_result(const xml::Element& result);
  void db_verify(const xml::Element& verify);
  void verified(const std::string& remote, const std::string& local, DialbackVerdict verdict, const std::string& why);
  void stanza(xml::Element stanza);
  void bidi(const xml::Element& request);
  // XEP-0198 without resumption: <enable/> once a domain is proved, <r/>, <a/>.
  void stream_management(const xml::Element& e);
  // The certificate the peer presented, judged for `domain` (cached per domain).
  const tls::PeerVerification& certificate_for(const std::string& domain);
  // `local` is the domain the claim is for: its use_dane decides whether DANE counts.
  bool certified(const std::string& domain, const std::string& local);
  // True when s2s_blacklist or s2s_whitelist refuses `remote`: the refusal is sent.
  bool refused_domain(const std::string& remote, const std::string& local, const char* method);
  void accept(const std::string& remote, const std::string& local, const char* method);
  void log_refusal(const std::string& remote, const std::string& local, const char* method, const std::string& why);
  std::string tls_summary() const;
  // Inbound DANE (inbound_dane.cc): with use_dane, the TLSA records of a claimed domain's
  // own servers may certify the stream's certificate for it, or refuse it.
  bool dane_pending(xml::Element& element);  // true: it waits for the domain's DANE verdict
  bool dane_may_certify(const std::string& domain, const std::string& local) const;
  void dane_answered(const std::string& domain, const std::string& local, DomainDane dane);
  void replay_held();
  const DaneVerdict* dane_verdict(const std::string& domain, const std::string& local) const;
  // Why the certificate does not prove `domain`, DANE's verdict included.
  std::string shortfall(const std::string& domain, const std::string& local);

  stream::Session& session_;
  Federation& federation_;
  std::set<std::pair<std::string, std::string>> proved_;  // (remote, local)
  std::map<std::pair<std::string, std::string>, ipc::S2sAuthMethod> methods_;  // how each was proved
  bool sasl_done_ = false;
  std::map<std::string, tls::PeerVerification> certificates_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> verifying_;  // (remote, local) → request
  std::set<std::string> claimed_;  // remote domains this stream has asked dialback for
  bool bidi_ = false;              // XEP-0288: proved pairs carry our stanzas back too
  std::map<std::string, DaneVerdict> dane_;  // remote domain → verdict, one lookup each
  std::unique_ptr<DomainDaneLookup> dane_lookup_;
  bool dane_starting_ = false;
  std::deque<xml::Element> held_;  // arrived while dane_lookup_ runs, in order
  bool sm_ = false;                // the peer enabled stream management
  HandledCount acks_;
};

}  // namespace xmppd::s2s
