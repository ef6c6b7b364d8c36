// Stream management on client streams (XEP-0198, urn:xmpp:sm:3): acknowledgements both
// ways, the server's own <r/> to find dead connections, and resumption of a session whose
// connection was cut.
//
// Two halves. StreamManagement is one session's: the counters (mod 2^32, as the XEP says),
// the queue of stanzas written but not yet acknowledged, the timers. SmacksSessions is the
// router's: resumption tokens, and the sessions that lost their connection (hibernating),
// which it owns until they are resumed or their time is up.
//
// Trust: everything here comes from an authenticated client's stream. The token is 128
// random bits from OpenSSL's RNG and is bound to the account: a <resume/> on a stream
// authenticated as anyone else finds nothing.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_ptr.h"
#include "config/smacks.h"
#include "stream/session.h"
#include "xml/element.h"

namespace xmppd::router {

class ClientStream;
class Routing;

using SmacksLimits = config::SmacksSettings;

inline constexpr std::string_view kSmNs = "urn:xmpp:sm:3";

class StreamManagement {
 public:
  StreamManagement(ClientStream& stream, bool resumable, std::string token);
  StreamManagement(const StreamManagement&) = delete;
  StreamManagement& operator=(const StreamManagement&) = delete;

  // A top-level element in the sm:3 namespace, in any state of the stream (`stream` has
  // management enabled or not).
  static void element(ClientStream& stream, const xml::Element& element);
  // The stream's connection is gone without a stream end: true when the session now
  // hibernates (it is resumable), and the caller must touch nothing more.
  static bool connection_lost(ClientStream& stream);

  bool resumable() const { return resumable_; }
  const std::string& token() const { return token_; }
  // A stanza from the client was handled.
  void count_handled() { ++handled_; }
  // A stanza for the client: kept until acknowledged, written unless hibernating. False when
  // the queue is past smacks_max_queue_size (the session has been ended).
  bool sent(std::string_view serialized);
  // What is still unacknowledged, oldest first.
  const std::deque<std::string>& unacked() const { return queue_; }
  // The hibernation timer fired, or the session is ended while it hibernates.
  void hibernation_over();
  // The session ended (ClientStream::end_session): what the client never acknowledged is
  // handled as for a session that is gone (XEP-0198 §5, RFC 6121 §8.5.3).
  void session_ended();

 private:
  void enable(const xml::Element& enable);
  void acknowledged(const xml::Element& a);
  // Applies the client's h; false (after the stream error) when it is more than was sent.
  bool apply_ack(std::uint32_t h);
  void request_soon();
  void request_now();
  void resend();
  std::uint32_t sent_count() const { return acked_ + static_cast<std::uint32_t>(queue_.size()); }
  static void on_request(evutil_socket_t, short, void* arg);
  static void on_ack_timeout(evutil_socket_t, short, void* arg);
  static void on_hibernation_timeout(evutil_socket_t, short, void* arg);
  static void resume(ClientStream& newcomer, const xml::Element& resume);
  void take_over(ClientStream& newcomer, std::uint32_t h);
  // The session loses its connection (`close`: we close it) and waits to be resumed.
  void hibernate(bool close);
  Routing& routing();

  ClientStream& stream_;
  bool resumable_;
  std::string token_;
  std::uint32_t handled_ = 0;  // stanzas from the client
  std::uint32_t acked_ = 0;    // stanzas to the client that it acknowledged
  std::deque<std::string> queue_;
  std::size_t queue_bytes_ = 0;
  struct event_base* base_;
  bool awaiting_ack_ = false;
  // The session hibernated at least once: the hibernation push told of what it holds.
  bool hibernated_ = false;
  bool request_scheduled_ = false;
  std::uint32_t last_requested_ = 0;  // sent_count() at the last <r/>: one <r/> per count
  EventPtr request_, ack_timeout_, hibernation_timeout_;
};

class SmacksSessions {
 public:
  void configure(const SmacksLimits& limits) { limits_ = limits; }
  const SmacksLimits& limits() const { return limits_; }

  // A new token: 16 bytes of RAND_bytes, base64url without padding.
  static std::string new_token();
  void add(const std::string& token, ClientStream& stream) { tokens_[token] = &stream; }
  void forget(const std::string& token, const ClientStream& stream);
  ClientStream* find(const std::string& token) const;

  // Takes `handler` (the stream itself) while it hibernates. Past the account's
  // smacks_max_hibernated_sessions the oldest hibernating session of that account ends.
  void hibernate(ClientStream& stream, std::unique_ptr<stream::StreamHandler> handler);
  // Gives it back, to be adopted by a connection (resumed), or to be destroyed (ended).
  std::unique_ptr<stream::StreamHandler> wake(const ClientStream& stream);
  // Destroys a handler from the loop, never inside its own callback.
  void discard(std::unique_ptr<stream::StreamHandler> handler, struct event_base* base);
  std::size_t hibernating() const { return asleep_.size(); }

 private:
  static void on_reap(evutil_socket_t, short, void* arg);

  SmacksLimits limits_;
  std::map<std::string, ClientStream*, std::less<>> tokens_;
  struct Asleep {
    std::uint64_t since;  // order of hibernation, oldest first
    std::unique_ptr<stream::StreamHandler> handler;
  };
  std::map<const ClientStream*, Asleep> asleep_;
  std::uint64_t sequence_ = 0;
  std::vector<std::unique_ptr<stream::StreamHandler>> graveyard_;
  EventPtr reap_;
};

}  // namespace xmppd::router
