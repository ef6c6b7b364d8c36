// loadgen's group chat mode (--mode muc). After the logins each client joins one of R rooms
// of a XEP-0045 service; the first joiner of a room creates it and, when the service locks
// new rooms (muc_room_locking), unlocks it with an instant-room form (§10.1.2). Then some
// occupants (the senders) send groupchat messages, at a total rate or keeping a window in
// flight each, and every occupant counts what its room delivers: deliveries/s, latency from
// the send time in the body, losses (a message is due once at every occupant of its room,
// its sender included, as §7.4 reflects it; the sender's own copy frees its window).
// Whom it trusts: the stanzas are the server's under test, read by the client's XmlScanner
// and only counted; a body that is not ours counts as unparsed or stale, never as delivered.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/loadgen/client.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/pacing.h"

namespace loadgen {

struct MucOptions {
  std::string service;  // the MUC service's domain, e.g. conference.a.test
  std::uint32_t rooms = 10;
  std::uint32_t sender_every = 4;  // occupant J of a room sends when J % sender_every == 0; 0: none
  double join_delay = 0;           // seconds logged in before the joins (memory measurements)
  double join_timeout = 30;
  std::uint32_t max_pending = 1000;  // joins in progress at once
  double rate = 0;                   // messages/s over all senders; 0: saturate with `window`
  std::uint32_t window = 64;
  std::uint32_t body_bytes = 100;
  double warmup = 2, duration = 10, drain = 5, hold = 0;
  bool quiet = false;
};

class MucRun {
 public:
  // clients[i] is account i's client, tagged i, logged in or not. done(code) is called once,
  // when the run is over (from the loop); the results are complete by then.
  MucRun(MucOptions options, Shared& shared, std::vector<Client*> clients, std::string run_tag,
         std::function<void(int)> done);
  MucRun(const MucRun&) = delete;
  MucRun& operator=(const MucRun&) = delete;
  ~MucRun();

  // After the logins: the joins, then the hold (no senders) or the messages.
  void start();
  void on_message(Client& client, const XmlTree& tree);
  void on_stanza(Client& client, const XmlTree& tree);
  void on_disconnect(Client& client);
  void on_second();  // progress, join timeouts, windows given up on
  void interrupt();  // SIGINT/SIGTERM: ends the measurement, or the run
  void stop();       // the run ends now, measured or not
  // The results as members of a JSON object (", \"rooms\": 10, ..."), and as one line.
  std::string json_members() const;
  void print_summary() const;

 private:
  enum class Phase { kNew, kJoinDelay, kJoinFirst, kJoinRest, kHold, kPrime, kWarmup, kMeasure, kDrain, kDone };
  enum class Join : std::uint8_t { kNone, kSent, kUnlocking, kJoined, kFailed, kGone };
  struct Occupant {
    Client* client = nullptr;
    std::uint32_t room = kNoRoom;
    std::int32_t sender = -1;  // index in senders_
    Join join = Join::kNone;
    std::uint64_t join_sent_ns = 0;
    std::string address;              // room@service/nick
    std::vector<std::uint64_t> last;  // per sender slot of the room: the highest seq received
  };
  struct Room {
    std::string jid;
    std::vector<std::uint32_t> occupants;  // the first one creates the room
    std::uint32_t sender_slots = 0;
    std::uint32_t present = 0;  // joined and still connected
  };
  struct Sender {
    std::uint32_t occupant = 0;
    std::uint32_t slot = 0;
    bool active = false;
    std::string prefix;  // <message to='room' type='groupchat' id='
    std::uint64_t next_seq = 1;
    std::uint32_t in_flight = 0;       // saturate: sent, own copy not back, not given up on
    std::uint64_t given_up_below = 0;  // own copies below this seq no longer free the window
    std::uint64_t last_progress_ns = 0;
  };
  static constexpr std::uint32_t kNoRoom = UINT32_MAX;

  void assign();
  void begin_joins();
  void launch_joins();
  void send_join(Occupant& o);
  void joined(Occupant& o);
  void join_failed(Occupant& o, const std::string& why);
  void joins_done();
  void self_presence(Occupant& o, const XmlTree& tree);
  void start_prime();
  void start_sending();
  void start_measure();
  void end_measure();
  void finish(int code);
  void send_message(Sender& s, std::uint64_t now);
  void refill(Sender& s, std::uint64_t now);
  void bounce(Occupant& o, const XmlTree& tree, std::uint64_t now);
  void expire_windows(std::uint64_t now);
  // Which client sends for a sender: its occupant's.
  auto client_of() {
    return [this](Sender& s) -> Client& { return *occupants_[s.occupant].client; };
  }
  bool all_in() const { return received_ + bounced_deliveries_ >= expected_; }
  struct event* add_timer(event_callback_fn fn, double seconds, bool persist);
  static void on_phase_timer(evutil_socket_t, short, void* arg);
  static void on_tick(evutil_socket_t, short, void* arg);
  static void on_wait_check(evutil_socket_t, short, void* arg);

  MucOptions o_;
  Shared& shared_;
  std::string run_tag_;
  std::function<void(int)> done_;
  std::vector<Occupant> occupants_;  // by client tag
  std::vector<Room> rooms_;
  std::vector<Sender> senders_;
  std::vector<std::uint32_t> rest_;  // joiners after the first of each room, in order
  std::vector<struct event*> events_;
  struct event* tick_event_ = nullptr;
  struct event* wait_event_ = nullptr;
  Phase phase_ = Phase::kNew;
  std::string padding_;

  // Joins.
  std::size_t next_rest_ = 0, pending_ = 0, first_pending_ = 0;
  std::size_t joins_wanted_ = 0, joined_ = 0, join_failures_ = 0, created_ = 0, unlock_failures_ = 0, left_ = 0;
  std::uint64_t start_ns_ = 0, join_start_ns_ = 0, join_end_ns_ = 0;
  std::string first_join_error_;
  // Messages.
  bool sending_ = false;
  std::uint64_t prime_start_ns_ = 0, send_start_ns_ = 0;
  Pacer pacer_;
  std::vector<Sender*> active_;
  std::uint64_t sent_ = 0, expected_ = 0, received_ = 0, echoes_ = 0, duplicates_ = 0, stale_ = 0, unparsed_ = 0;
  std::uint64_t bounced_ = 0, bounced_deliveries_ = 0, message_errors_ = 0;
  std::uint64_t measure_start_ns_ = 0, measure_end_ns_ = 0, last_send_ns_ = 0, drain_end_ns_ = 0;
  std::uint64_t sent_in_period_ = 0, received_in_period_ = 0;
  double cpu_start_ = 0, cpu_end_ = 0;
  std::string first_message_error_;
  std::map<std::string, std::uint64_t, std::less<>> error_conditions_;
  Histogram latency_;
  // Progress.
  std::uint64_t last_sent_ = 0, last_received_ = 0, last_progress_ns_ = 0;
};

}  // namespace loadgen
