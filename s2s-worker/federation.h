// The s2s worker's switchboard: stanzas from the router go to an outbound stream per
// (local domain, remote domain), connected and authenticated on demand, queued meanwhile
// and bounced when the remote domain cannot be reached; stanzas accepted on inbound streams
// go to the router; dialback verifications asked by inbound streams go out to the
// authoritative server.
#pragma once

#include <event2/event.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <utility>

#include "proto/stanza_link.h"
#include "reports.pb.h"
#include "runtime/admin_pages.h"
#include "s2s-worker/dialback_key_ring.h"
#include "s2s-worker/resolver.h"
#include "s2s-worker/s2s_policy.h"
#include "s2s-worker/verify_shares.h"
#include "stream/session.h"
#include "tls/client_contexts.h"
#include "tls/trust_store.h"
#include "xml/element.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::s2s {

class InboundStream;
class OutboundStream;

// What the authoritative server said of a dialback key (XEP-0220 §2.1.2–2.1.3, §2.4), or
// that it could not be asked (kError: unreachable, refused, no answer; kBusy: the asking
// peer has its share of verifications in flight, or all slots are taken).
enum class DialbackVerdict { kValid, kInvalid, kError, kBusy };

class Federation {
 public:
  // Per (local, remote) pair: at most this many stanzas wait for a stream; more get
  // resource-constraint.
  static constexpr std::size_t kMaxQueuedStanzas = 10000;
  static constexpr std::size_t kMaxQueuedBytes = 2 << 20;  // below a connection's 4 MiB output cap
  // Dialback verifications waiting for an authoritative server: each may open an outbound
  // stream, so a peer must not be able to make us connect anywhere without end, nor take
  // every slot (verify_shares.h has the limits: 256 in all, 8 per stream and per address).
  // After a failed attempt, a domain is not tried again for this long (doubling from the
  // first to the last), and stanzas for it bounce at once with the same reason.
  static constexpr std::chrono::seconds kFirstBackoff{5};
  static constexpr std::chrono::seconds kMaxBackoff{300};
  // XEP-0198 on outbound streams: what a broken stream had not had acknowledged goes on the
  // next stream to the domain, up to this many times (a stanza that itself breaks streams
  // must not go round for ever); then it bounces.
  static constexpr int kMaxResends = 2;

  using Link = ipc::StanzaLink<ipc::S2sToRouter, ipc::RouterToS2s>;
  // `why` is for the log: it may name addresses and connection errors that the peer who
  // asked must not learn.
  using VerifyDone = std::function<void(DialbackVerdict verdict, std::string why)>;

  Federation(struct event_base* base, const S2sPolicy& policy, const tls::TrustStores& trust);
  ~Federation();

  void set_resolver(std::unique_ptr<Resolver> resolver) { resolver_ = std::move(resolver); }
  void set_client_contexts(const tls::ClientContexts* contexts) { client_contexts_ = contexts; }
  void set_dialback_keys(std::string current, std::string previous) {
    keys_.set(std::move(current), std::move(previous));
  }
  // s2s_allow_private_addresses and s2s_max_concurrent_connects.
  void set_outbound_limits(bool allow_private_addresses, std::size_t max_concurrent_connects);
  void link_router(UniqueFd sock, std::function<void(std::string_view)> on_violation);

  // From inbound streams. A stanza the router cannot take now is answered with an error;
  // while the router is behind, the stream that delivered stops reading until it catches
  // up, so that such errors stay rare. An inbound stream that ends calls release().
  void deliver(stream::Session& from, const std::string& from_domain, const std::string& to_domain,
               const xml::Element& stanza);
  void release(stream::Session& inbound);
  // Bidirectional streams (XEP-0288): an inbound stream on which `remote` has proved itself
  // for `local` carries stanzas from local to remote too, rather than an outbound stream,
  // until it ends (release()).
  void bidi_ready(stream::Session& inbound, const std::string& local, const std::string& remote);
  // Such a stream has written what it held back: queued stanzas may follow.
  void bidi_drained(stream::Session& inbound);
  // Asks the authoritative server of `remote` whether `key` is the one it gave for a stream
  // from remote to local with `stream_id`, on behalf of inbound stream `asker` (unique among
  // live streams) from `peer` (its address, common/net.h's form). The answer may come at
  // once; 0 is returned then.
  std::uint64_t verify(const std::string& local, const std::string& remote, const std::string& stream_id,
                       const std::string& key, std::uint64_t asker, const std::string& peer, VerifyDone done);
  void cancel_verify(std::uint64_t id);
  // An inbound stream refused `remote`'s authentication for `local`. Servers such as jabberd2
  // answer our own dialback only once theirs is accepted: the outbound stream for the pair
  // then says why it got no answer.
  void inbound_refused(const std::string& local, const std::string& remote, const std::string& why);

  // From outbound streams.
  // A stanza the peer sent on a bidirectional outbound stream, checked as an inbound
  // stream's are; the stream stops reading while the router is behind.
  void deliver(OutboundStream& from, const std::string& from_domain, const std::string& to_domain,
               const xml::Element& stanza);
  void verify_answered(std::uint64_t id, DialbackVerdict verdict, std::string why);
  // Stanzas from `local` may now go on the stream.
  void stream_ready(OutboundStream& stream, const std::string& local);
  // A congested stream has sent all it held: queued stanzas may follow.
  void stream_drained(OutboundStream& stream);
  // A domain added to a stream was refused: it gets a stream of its own.
  void piggyback_failed(OutboundStream& stream, const std::string& local, const std::string& why);
  // The stream is done: `never_connected` picks the error its queues bounce with, and a
  // stream that never became ready puts its pair in backoff.
  void stream_failed(OutboundStream& stream, bool never_connected, bool was_ready, const std::string& why);
  // Its connection has closed too: it may be destroyed.
  void stream_finished(OutboundStream& stream);

  // xmppctl (stream_report.cc). Inbound streams make themselves known while they live.
  void add_inbound(InboundStream& stream);
  void remove_inbound(InboundStream& stream);
  // The worker is stopping: every inbound stream ends now, with its final <a h/>.
  void end_inbound();
  // show s2s: every stream, or those with query.remote(), into pages of S2sStreams.
  void report(const ipc::S2sQuery& query, runtime::AdminPages& pages);
  // /metrics: open streams by direction and authentication method, stanzas waiting in them.
  void metrics(ipc::Metrics& out);
  // close s2s: ends every stream with `remote` (for `local` only, unless empty) cleanly, and
  // bounces what waits for it as for a failed stream. Returns how many streams it ended.
  std::uint32_t close_remote(const std::string& remote, const std::string& local);
  // Stanzas waiting in the federation for a stream, or for an inbound one that carries our
  // stanzas (XEP-0288).
  std::size_t queued_for(const OutboundStream& stream) const;
  std::size_t queued_for(const stream::Session& bidi) const;

  struct event_base* base() const { return base_; }
  const S2sPolicy& policy() const { return policy_; }
  const tls::TrustStores& trust() const { return trust_; }
  const tls::ClientContexts* client_contexts() const { return client_contexts_; }
  // Prosody's limits.s2sout: the read rate of each outgoing connection made from now on.
  void set_outbound_rate(const stream::RateLimit& rate) { outbound_rate_ = rate; }
  const stream::RateLimit& outbound_rate() const { return outbound_rate_; }
  Resolver* resolver() const { return resolver_.get(); }
  const DialbackKeyRing& dialback_keys() const { return keys_; }
  bool allow_private_addresses() const { return allow_private_addresses_; }

 private:
  using Pair = std::pair<std::string, std::string>;  // (local, remote)
  struct Queued {
    std::string xml;
    int resends = 0;  // streams it was sent on that broke before the peer acknowledged it
  };
  struct Route {
    OutboundStream* stream = nullptr;  // owned by streams_; may serve several routes
    stream::Session* bidi = nullptr;   // an inbound stream that carries this route (XEP-0288)
    bool own_stream = false;           // piggybacking was refused: never share one
    std::deque<Queued> queue;
    std::size_t queued_bytes = 0;
  };
  struct Backoff {
    std::chrono::steady_clock::time_point until;
    std::chrono::seconds delay{0};
    bool never_connected = true;
    std::string why;
  };
  struct PendingVerify {
    Pair pair;
    VerifyDone done;
    std::uint64_t asker;
    std::string share_key;  // the asker's address as VerifyShares counts it
  };

  void from_router(const ipc::RemoteStanza& stanza);
  void send_out(const Pair& pair, std::string_view xml);
  // Queues a stanza for the route's stream; false (and a bounce) past the queue's limits.
  bool enqueue(const Pair& pair, Route& route, std::string_view xml);
  void send_bidi(const Pair& pair, Route& route, std::string_view xml);
  // Stanzas taken back from a broken outbound stream (resends > 0) stay for an outbound
  // stream, which keeps them until acknowledged; the bidirectional direction does not
  // (docs/design.md). `recovered_too`: no outbound stream is coming, so they go anyway.
  void flush_bidi(const Pair& pair, Route& route, bool recovered_too = false);
  // Whether the router took it; false: the sender has been answered with an error.
  bool to_router(const std::string& from_domain, const std::string& to_domain, const xml::Element& stanza);
  void flush_route(Route& route, OutboundStream& stream, const std::string& local);
  bool acceptable_from_router(const ipc::RemoteStanza& stanza);
  const Backoff* backing_off(const Pair& pair);
  void back_off(const Pair& pair, bool never_connected, const std::string& why);
  OutboundStream& stream_for(const Pair& pair);
  // New streams connect at once while fewer than s2s_max_concurrent_connects are being set
  // up, and wait in line otherwise; a stream leaves the count when it is ready or fails.
  void start_when_allowed(OutboundStream& stream);
  void connect_over(OutboundStream& stream);
  OutboundStream* shareable_stream(const Pair& pair);
  void bounce_queue(Route& route, bool never_connected, const std::string& why);
  // XEP-0198: puts what `stream` sent and the peer did not acknowledge back in front of its
  // routes' queues (resend), or bounces it. Returns the pairs that got stanzas back.
  std::set<Pair> take_back_unacked(OutboundStream& stream, bool resend, const std::string& why);
  void resume_route(const Pair& pair);
  void bounce(std::string_view xml, std::string_view type, std::string_view condition, std::string_view text);
  void answer_sender(const std::string& from_domain, const std::string& to_domain, std::string_view xml,
                     std::string_view type, std::string_view condition, std::string_view text);
  static void on_reap(evutil_socket_t, short, void* arg);
  void router_caught_up();

  struct event_base* base_;
  const S2sPolicy& policy_;
  const tls::TrustStores& trust_;
  const tls::ClientContexts* client_contexts_ = nullptr;
  std::unique_ptr<Resolver> resolver_;
  DialbackKeyRing keys_;
  bool allow_private_addresses_ = false;
  std::size_t max_concurrent_connects_ = 64;
  std::unique_ptr<Link> router_;
  std::set<stream::Session*> held_for_router_;
  std::set<OutboundStream*> outbound_held_for_router_;  // bidirectional ones
  // What the router sends is checked here, and its bytes go on as they came.
  xml::FragmentParser parser_{xmpp::kClientNs, xml::FragmentParser::Content::kTopOnly};
  std::map<Pair, Route> routes_;
  std::map<OutboundStream*, std::unique_ptr<OutboundStream>> streams_;
  std::set<InboundStream*> inbound_;
  std::map<const stream::Session*, InboundStream*> inbound_by_session_;  // for bidi's counts
  std::map<Pair, Backoff> backoff_;
  std::uint64_t next_verify_ = 1;
  std::map<std::uint64_t, PendingVerify> verifies_;
  VerifyShares shares_;
  std::set<OutboundStream*> connecting_;               // started and not yet ready or failed
  std::deque<OutboundStream*> waiting_;                // not started yet: too many were connecting
  std::vector<std::unique_ptr<OutboundStream>> dead_;  // destroyed from the loop
  ipc::EventPtr reap_;
  std::map<std::string, std::uint64_t, std::less<>> bounces_;  // error replies made, by condition
  // Stanzas by kind (message, presence, iq, other) passed to the router from remote servers,
  // and written to them, for /metrics.
  std::array<std::uint64_t, 4> stanzas_in_{}, stanzas_out_{};
  void count_out(std::string_view xml);
  stream::RateLimit outbound_rate_;
};

}  // namespace xmppd::s2s
