// loadgen's group chat mode: joins, groupchat messages and their deliveries (muc_run.h).
#include "bench/loadgen/muc_run.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "bench/loadgen/util.h"

namespace loadgen {
namespace {

constexpr std::string_view kMucUserNs = "http://jabber.org/protocol/muc#user";
constexpr std::string_view kUnlockId = "muc-unlock";

// The status codes of the <x xmlns='…muc#user'/> elements of a presence.
bool has_status(const XmlTree& tree, std::string_view code) {
  for (const XmlNode* x = tree.first_child(tree.root()); x; x = tree.next_sibling(*x)) {
    if (x->name != "x" || tree.attr(*x, "xmlns") != kMucUserNs) continue;
    for (const XmlNode* s = tree.first_child(*x); s; s = tree.next_sibling(*s))
      if (s->name == "status" && tree.attr(*s, "code") == code) return true;
  }
  return false;
}

// The defined condition of an <error/> child of the stanza, or "?".
std::string_view error_condition(const XmlTree& tree) {
  const XmlNode* error = tree.child(tree.root(), "error");
  for (const XmlNode* c = error ? tree.first_child(*error) : nullptr; c; c = tree.next_sibling(*c))
    if (c->name != "text") return c->name;
  return "?";
}

bool parse_uint(const char*& p, const char* end, std::uint64_t& out) {
  auto r = std::from_chars(p, end, out);
  if (r.ec != std::errc()) return false;
  p = r.ptr;
  return true;
}

}  // namespace

MucRun::MucRun(MucOptions options, Shared& shared, std::vector<Client*> clients, std::string run_tag,
               std::function<void(int)> done)
    : o_(std::move(options)), shared_(shared), run_tag_(std::move(run_tag)), done_(std::move(done)) {
  occupants_.resize(clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i) occupants_[i].client = clients[i];
}

MucRun::~MucRun() {
  for (struct event* ev : events_) event_free(ev);
}

struct event* MucRun::add_timer(event_callback_fn fn, double seconds, bool persist) {
  struct event* ev = event_new(shared_.base, -1, persist ? EV_PERSIST : 0, fn, this);
  events_.push_back(ev);
  timeval tv = to_timeval(seconds);
  event_add(ev, &tv);
  return ev;
}

// Account i (if logged in) goes to room i % R as its (i / R)th occupant; occupants 0, K, 2K …
// of a room send. Rooms are named after the run, so that each run creates its own.
void MucRun::assign() {
  rooms_.resize(o_.rooms);
  for (std::uint32_t r = 0; r < o_.rooms; ++r)
    rooms_[r].jid = "bench-" + run_tag_ + "-" + std::to_string(r) + "@" + o_.service;
  for (std::uint32_t i = 0; i < occupants_.size(); ++i) {
    Occupant& o = occupants_[i];
    if (!o.client->online()) continue;
    Room& room = rooms_[i % o_.rooms];
    o.room = i % o_.rooms;
    o.address = room.jid + "/n" + std::to_string(i);
    if (o_.sender_every > 0 && (i / o_.rooms) % o_.sender_every == 0) {
      o.sender = static_cast<std::int32_t>(senders_.size());
      Sender s;
      s.occupant = i;
      s.slot = room.sender_slots++;
      s.prefix = "<message to='" + room.jid + "' type='groupchat' id='";
      senders_.push_back(std::move(s));
    }
    if (!room.occupants.empty()) rest_.push_back(i);
    room.occupants.push_back(i);
    ++joins_wanted_;
  }
  for (Occupant& o : occupants_)
    if (o.room != kNoRoom) o.last.assign(rooms_[o.room].sender_slots, 0);
}

void MucRun::start() {
  start_ns_ = last_progress_ns_ = now_ns();
  assign();
  if (!o_.quiet)
    std::fprintf(stderr, "loadgen: %zu occupants to join %u rooms of %s, %zu of them sending\n", joins_wanted_,
                 o_.rooms, o_.service.c_str(), senders_.size());
  if (o_.join_delay > 0) {
    phase_ = Phase::kJoinDelay;
    add_timer(&MucRun::on_phase_timer, o_.join_delay, false);
    return;
  }
  begin_joins();
}

// The first occupant of each room creates it; the others join once every room exists, so
// that nobody meets a room still locked (Prosody and xmppd refuse those with item-not-found).
void MucRun::begin_joins() {
  phase_ = Phase::kJoinFirst;
  join_start_ns_ = now_ns();
  for (Room& room : rooms_) {
    if (room.occupants.empty()) continue;
    ++first_pending_;
    send_join(occupants_[room.occupants.front()]);
  }
  if (first_pending_ == 0) joins_done();
}

void MucRun::launch_joins() {
  while (next_rest_ < rest_.size() && pending_ < o_.max_pending) send_join(occupants_[rest_[next_rest_++]]);
  if (next_rest_ == rest_.size() && pending_ == 0) joins_done();
}

void MucRun::send_join(Occupant& o) {
  if (!o.client->online()) {
    o.join = Join::kSent;
    ++pending_;
    join_failed(o, "disconnected before joining");
    return;
  }
  std::string& out = o.client->output();
  out += "<presence to='";
  out += o.address;
  out += "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>";
  o.join = Join::kSent;
  o.join_sent_ns = now_ns();
  ++pending_;
}

void MucRun::joined(Occupant& o) {
  o.join = Join::kJoined;
  ++rooms_[o.room].present;
  ++joined_;
  --pending_;
  join_end_ns_ = now_ns();
  if (phase_ == Phase::kJoinFirst && --first_pending_ == 0) {
    phase_ = Phase::kJoinRest;
    launch_joins();
  } else if (phase_ == Phase::kJoinRest) {
    launch_joins();
  }
}

void MucRun::join_failed(Occupant& o, const std::string& why) {
  o.join = Join::kFailed;
  ++join_failures_;
  --pending_;
  join_end_ns_ = now_ns();
  if (first_join_error_.empty()) {
    first_join_error_ = o.address + ": " + why;
    if (!o_.quiet) std::fprintf(stderr, "loadgen: join failed: %s\n", first_join_error_.c_str());
  }
  if (phase_ == Phase::kJoinFirst && --first_pending_ == 0) {
    phase_ = Phase::kJoinRest;
    launch_joins();
  } else if (phase_ == Phase::kJoinRest) {
    launch_joins();
  }
}

void MucRun::joins_done() {
  if (phase_ != Phase::kJoinFirst && phase_ != Phase::kJoinRest) return;
  if (join_end_ns_ == 0) join_end_ns_ = now_ns();
  const double seconds = seconds_between(join_start_ns_, join_end_ns_);
  if (!o_.quiet)
    std::fprintf(stderr, "loadgen: %zu joined, %zu failed, in %.2f s (%zu rooms created by their first joiner)\n",
                 joined_, join_failures_, seconds, created_);
  // compare.py waits for this line before sampling the servers (memory, CPU).
  std::fprintf(stderr, "joined %zu\n", joined_);
  std::fflush(stderr);
  if (joined_ == 0 || join_failures_ * 100 > joins_wanted_) {
    std::fprintf(stderr, "loadgen: joins could not complete: %zu of %zu failed\n", join_failures_, joins_wanted_);
    finish(2);
    return;
  }
  if (senders_.empty()) {
    phase_ = Phase::kHold;
    add_timer(&MucRun::on_phase_timer, o_.hold, false);
    return;
  }
  start_prime();
}

// Presences from the rooms: an occupant's own (status 110) ends its join, an error fails it.
void MucRun::on_stanza(Client& client, const XmlTree& tree) {
  Occupant& o = occupants_[client.tag()];
  if (o.room == kNoRoom) return;
  const XmlNode& root = tree.root();
  if (root.name == "iq") {
    if (o.join != Join::kUnlocking || tree.attr(root, "id") != kUnlockId) return;
    // The occupant is in either way. A service that sends 201 for a room it did not lock
    // (muc_room_locking = false) may refuse the form; if the room did stay locked, the
    // other occupants' joins fail and say so.
    if (tree.attr(root, "type") != "result" && unlock_failures_++ == 0 && !o_.quiet)
      std::fprintf(stderr, "loadgen: %s: instant room refused: %s\n", rooms_[o.room].jid.c_str(),
                   std::string(error_condition(tree)).c_str());
    joined(o);
    return;
  }
  if (tree.attr(root, "from") != o.address) return;  // another occupant's
  std::string_view type = tree.attr(root, "type");
  if (type == "error") {
    if (o.join == Join::kSent || o.join == Join::kUnlocking)
      join_failed(o, "refused: " + std::string(error_condition(tree)));
    return;
  }
  if (type == "unavailable") {  // kicked, or the room is gone
    if (o.join == Join::kJoined) {
      o.join = Join::kGone;
      --rooms_[o.room].present;
      ++left_;
      if (o.sender >= 0) senders_[static_cast<std::size_t>(o.sender)].active = false;
    }
    return;
  }
  if (o.join == Join::kSent && type.empty()) self_presence(o, tree);
}

void MucRun::self_presence(Occupant& o, const XmlTree& tree) {
  if (!has_status(tree, "110")) return;
  if (!has_status(tree, "201")) {
    joined(o);
    return;
  }
  // Created, and locked until configured: accept the default configuration (an instant room).
  ++created_;
  std::string& out = o.client->output();
  out += "<iq type='set' id='";
  out += kUnlockId;
  out += "' to='";
  out += rooms_[o.room].jid;
  out += "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>";
  o.join = Join::kUnlocking;
}

void MucRun::on_disconnect(Client& client) {
  Occupant& o = occupants_[client.tag()];
  if (o.room == kNoRoom) return;
  if (o.join == Join::kSent || o.join == Join::kUnlocking) {
    join_failed(o, "disconnected while joining");
  } else if (o.join == Join::kJoined) {
    o.join = Join::kGone;
    --rooms_[o.room].present;
    ++left_;
  }
  if (o.sender >= 0) senders_[static_cast<std::size_t>(o.sender)].active = false;
}

// Each sender sends one message and the warm-up starts once every occupant has it (or after
// 10 s): the rooms carry messages then.
void MucRun::start_prime() {
  padding_.assign(o_.body_bytes, 'x');
  phase_ = Phase::kPrime;
  prime_start_ns_ = now_ns();
  for (Sender& s : senders_) {
    s.active = occupants_[s.occupant].join == Join::kJoined;
    if (!s.active) continue;
    active_.push_back(&s);
    send_message(s, prime_start_ns_);
    if (o_.rate <= 0) ++s.in_flight;
    s.last_progress_ns = prime_start_ns_;
  }
  wait_event_ = add_timer(&MucRun::on_wait_check, 0.01, true);
}

void MucRun::start_sending() {
  phase_ = Phase::kWarmup;
  sending_ = true;
  send_start_ns_ = now_ns();
  if (!o_.quiet)
    std::fprintf(stderr,
                 "loadgen: primed in %.2f s; %zu senders in %u rooms sending %s; warm-up %.1f s, then %.1f s "
                 "measured\n",
                 seconds_between(prime_start_ns_, send_start_ns_), active_.size(), o_.rooms,
                 o_.rate > 0 ? (std::to_string(static_cast<long long>(o_.rate)) + " messages/s").c_str()
                             : ("as fast as possible, window " + std::to_string(o_.window)).c_str(),
                 o_.warmup, o_.duration);
  if (o_.rate > 0) {
    tick_event_ = add_timer(&MucRun::on_tick, 0.001, true);
  } else {
    for (Sender* s : active_) refill(*s, send_start_ns_);
  }
  if (o_.warmup > 0)
    add_timer(&MucRun::on_phase_timer, o_.warmup, false);
  else
    start_measure();
}

void MucRun::start_measure() {
  phase_ = Phase::kMeasure;
  cpu_start_ = cpu_seconds();
  measure_start_ns_ = now_ns();
  if (!o_.quiet) std::fprintf(stderr, "loadgen: measuring\n");
  add_timer(&MucRun::on_phase_timer, o_.duration, false);
}

void MucRun::end_measure() {
  measure_end_ns_ = now_ns();
  cpu_end_ = cpu_seconds();
  if (measure_start_ns_ == 0) {  // interrupted before the measurement
    measure_start_ns_ = measure_end_ns_;
    cpu_start_ = cpu_end_;
  }
  sending_ = false;
  if (tick_event_ != nullptr) event_del(tick_event_);
  phase_ = Phase::kDrain;
  if (!o_.quiet) std::fprintf(stderr, "loadgen: measured; waiting up to %.1f s for the last deliveries\n", o_.drain);
  if (wait_event_ == nullptr) wait_event_ = add_timer(&MucRun::on_wait_check, 0.01, true);
}

void MucRun::stop() {
  if (phase_ == Phase::kPrime || phase_ == Phase::kWarmup || phase_ == Phase::kMeasure) end_measure();
  if (drain_end_ns_ == 0) drain_end_ns_ = now_ns();
  phase_ = Phase::kDone;
}

void MucRun::finish(int code) {
  if (phase_ == Phase::kDone) return;
  stop();
  done_(code);
}

void MucRun::interrupt() {
  switch (phase_) {
    case Phase::kPrime:
    case Phase::kWarmup:
    case Phase::kMeasure:
      end_measure();
      break;
    case Phase::kHold:
    case Phase::kDrain:
      finish(0);
      break;
    default:
      finish(2);
      break;
  }
}

void MucRun::on_phase_timer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<MucRun*>(arg);
  switch (self->phase_) {
    case Phase::kJoinDelay:
      self->begin_joins();
      break;
    case Phase::kWarmup:
      self->start_measure();
      break;
    case Phase::kMeasure:
      self->end_measure();
      break;
    case Phase::kHold:
      self->finish(0);
      break;
    default:
      break;
  }
}

void MucRun::on_wait_check(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<MucRun*>(arg);
  std::uint64_t now = now_ns();
  if (self->phase_ == Phase::kPrime) {
    if (self->all_in() || seconds_between(self->prime_start_ns_, now) >= 10) {
      event_del(self->wait_event_);
      self->wait_event_ = nullptr;
      self->start_sending();
    }
    return;
  }
  if (self->phase_ != Phase::kDrain) return;
  if (self->all_in() || seconds_between(std::max(self->last_send_ns_, self->measure_end_ns_), now) >= self->o_.drain) {
    self->drain_end_ns_ = now;
    self->finish(0);
  }
}

// "<message to='room' type='groupchat' id='SEQ'><body>T SENDER SEQ RUN xxx…</body></message>",
// due at every occupant present now.
void MucRun::send_message(Sender& s, std::uint64_t now) {
  std::string& out = occupants_[s.occupant].client->output();
  std::uint64_t seq = s.next_seq++;
  std::size_t body_start = begin_message(out, s.prefix, seq, now);
  append_uint(out, static_cast<std::uint64_t>(&s - senders_.data()));
  out += ' ';
  append_uint(out, seq);
  out += ' ';
  out += run_tag_;
  end_message(out, body_start, padding_);
  ++sent_;
  expected_ += rooms_[occupants_[s.occupant].room].present;
  if (phase_ == Phase::kMeasure) ++sent_in_period_;
  last_send_ns_ = now;
}

void MucRun::refill(Sender& s, std::uint64_t now) {
  Pacer::refill(s, now, sending_, o_.window, client_of(), [&](Sender& t) { send_message(t, now); });
}

void MucRun::on_tick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<MucRun*>(arg);
  if (!self->sending_) return;
  std::uint64_t now = now_ns();
  self->pacer_.tick(self->active_, self->send_start_ns_, now, self->o_.rate, self->client_of(),
                    [&](Sender& s) { self->send_message(s, now); });
}

void MucRun::expire_windows(std::uint64_t now) {
  // A sender's window is freed by its own copies coming back.
  pacer_.expire(active_, now, o_.drain, [&](Sender& s) { refill(s, now); });
}

// An error for a groupchat message, at its sender: none of its deliveries will come.
void MucRun::bounce(Occupant& o, const XmlTree& tree, std::uint64_t now) {
  ++message_errors_;
  std::string_view condition = error_condition(tree);
  auto counted = error_conditions_.find(condition);
  if (counted == error_conditions_.end()) counted = error_conditions_.emplace(std::string(condition), 0).first;
  ++counted->second;
  if (first_message_error_.empty()) {
    first_message_error_ = o.client->jid() + " got an error for message " + std::string(tree.attr(tree.root(), "id")) +
                           ": " + std::string(condition);
    if (!o_.quiet) std::fprintf(stderr, "loadgen: %s\n", first_message_error_.c_str());
  }
  if (o.sender < 0) return;
  Sender& s = senders_[static_cast<std::size_t>(o.sender)];
  std::uint64_t seq = 0;
  std::string_view id = tree.attr(tree.root(), "id");
  std::from_chars(id.data(), id.data() + id.size(), seq);
  if (seq == 0 || seq >= s.next_seq) return;
  ++bounced_;
  bounced_deliveries_ += rooms_[o.room].present;
  if (seq >= s.given_up_below && s.in_flight > 0) {
    --s.in_flight;
    s.last_progress_ns = now;
    refill(s, now);
  }
}

void MucRun::on_message(Client& client, const XmlTree& tree) {
  Occupant& o = occupants_[client.tag()];
  if (o.room == kNoRoom) return;
  const XmlNode& root = tree.root();
  std::uint64_t now = now_ns();
  std::string_view type = tree.attr(root, "type");
  if (type == "error") {
    bounce(o, tree, now);
    return;
  }
  const XmlNode* body = tree.child(root, "body");
  if (type != "groupchat" || body == nullptr) return;  // the subject, a private message
  // "T SENDER SEQ RUN padding"
  const char* p = body->text.data();
  const char* end = p + body->text.size();
  std::uint64_t sent_at = 0, sender = 0, seq = 0;
  bool ok = parse_uint(p, end, sent_at) && p != end && *p++ == ' ' && parse_uint(p, end, sender) && p != end &&
            *p++ == ' ' && parse_uint(p, end, seq) && p != end && *p++ == ' ';
  if (!ok) {
    ++unparsed_;
    return;
  }
  std::string_view run(p, static_cast<std::size_t>(end - p));
  if (run.substr(0, run_tag_.size()) != run_tag_ || sender >= senders_.size()) {
    ++stale_;
    return;
  }
  Sender& s = senders_[sender];
  if (occupants_[s.occupant].room != o.room || seq == 0 || seq >= s.next_seq) {
    ++unparsed_;  // not a message of this room and run
    return;
  }
  // A room keeps each sender's messages in order: one seen before is delivered twice.
  std::uint64_t& last = o.last[s.slot];
  if (seq <= last) {
    ++duplicates_;
    return;
  }
  last = seq;
  ++received_;
  if (phase_ == Phase::kMeasure) ++received_in_period_;
  if (measure_start_ns_ != 0 && sent_at >= measure_start_ns_ && (measure_end_ns_ == 0 || sent_at < measure_end_ns_))
    latency_.record(now > sent_at ? now - sent_at : 0);
  if (s.occupant != client.tag()) return;
  ++echoes_;  // the sender's own copy frees its place in the window
  if (seq >= s.given_up_below && s.in_flight > 0) {
    --s.in_flight;
    s.last_progress_ns = now;
    if (o_.rate <= 0) refill(s, now);
  }
}

void MucRun::on_second() {
  std::uint64_t now = now_ns();
  if (phase_ == Phase::kJoinFirst || phase_ == Phase::kJoinRest) {
    auto limit = static_cast<std::uint64_t>(o_.join_timeout * 1e9);
    for (Occupant& o : occupants_)
      if ((o.join == Join::kSent || o.join == Join::kUnlocking) && now - o.join_sent_ns > limit)
        join_failed(o, "no answer after " + std::to_string(o_.join_timeout) + " s");
  }
  if ((phase_ == Phase::kPrime || phase_ == Phase::kWarmup || phase_ == Phase::kMeasure) && o_.rate <= 0)
    expire_windows(now);
  double dt = seconds_between(last_progress_ns_, now);
  if (o_.quiet || dt <= 0) return;
  double t = seconds_between(start_ns_, now);
  switch (phase_) {
    case Phase::kJoinFirst:
    case Phase::kJoinRest:
      std::fprintf(stderr, "[%6.1fs] join: %zu joined, %zu failed, %zu in progress\n", t, joined_, join_failures_,
                   pending_);
      break;
    case Phase::kPrime:
    case Phase::kWarmup:
    case Phase::kMeasure:
    case Phase::kDrain:
      std::fprintf(stderr,
                   "[%6.1fs] %s: sent %.0f/s, delivered %.0f/s, %" PRIu64 " deliveries due, %" PRIu64 " bounced\n", t,
                   phase_ == Phase::kPrime     ? "prime"
                   : phase_ == Phase::kWarmup  ? "warm-up"
                   : phase_ == Phase::kMeasure ? "measure"
                                               : "drain",
                   static_cast<double>(sent_ - last_sent_) / dt, static_cast<double>(received_ - last_received_) / dt,
                   expected_ - std::min(expected_, received_ + bounced_deliveries_), bounced_);
      break;
    case Phase::kHold:
      std::fprintf(stderr, "[%6.1fs] hold: %zu occupants present, %zu gone\n", t, joined_ - left_, left_);
      break;
    default:
      break;
  }
  last_sent_ = sent_;
  last_received_ = received_;
  last_progress_ns_ = now;
}

std::string MucRun::json_members() const {
  const double period = seconds_between(measure_start_ns_, measure_end_ns_);
  const double cpu = cpu_end_ - cpu_start_;
  auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  std::size_t unsent = 0;
  for (const Sender& s : senders_) unsent += occupants_[s.occupant].client->pending_output();
  char buf[3072];
  std::snprintf(
      buf, sizeof buf,
      ", \"service\": %s, \"rooms\": %u, \"occupants\": %zu, \"joined\": %zu, \"join_failures\": %zu, "
      "\"rooms_created\": %zu, \"unlock_failures\": %zu, \"join_seconds\": %.3f, \"first_join_error\": %s, \"left\": "
      "%zu, \"senders\": %zu, "
      "\"rate\": %.0f, \"window\": %u, \"body_bytes\": %u, \"prime_seconds\": %.3f, \"sent\": %" PRIu64
      ", \"expected\": %" PRIu64 ", \"received\": %" PRIu64 ", \"lost\": %" PRIu64 ", \"echoes\": %" PRIu64
      ", \"duplicates\": %" PRIu64 ", \"bounced\": %" PRIu64 ", \"bounced_deliveries\": %" PRIu64
      ", \"stale\": %" PRIu64 ", \"unparsed\": %" PRIu64 ", \"backlog_skips\": %" PRIu64 ", \"given_up\": %" PRIu64
      ", \"duration_seconds\": %.3f, \"sent_in_period\": %" PRIu64 ", \"received_in_period\": %" PRIu64
      ", \"sent_per_sec\": %.1f, \"msgs_per_sec\": %.1f, \"drain_seconds\": %.3f, "
      "\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"samples\": %" PRIu64
      "}, \"client_cpu_seconds\": %.3f, \"client_cpu_percent\": %.1f, \"message_errors\": %" PRIu64
      ", \"first_message_error\": %s, \"unsent_bytes_at_end\": %zu",
      json_string(o_.service).c_str(), o_.rooms, joins_wanted_, joined_, join_failures_, created_, unlock_failures_,
      seconds_between(join_start_ns_, join_end_ns_),
      first_join_error_.empty() ? "null" : json_string(first_join_error_).c_str(), left_, senders_.size(), o_.rate,
      o_.window, o_.body_bytes, seconds_between(prime_start_ns_, send_start_ns_), sent_, expected_, received_,
      expected_ > received_ ? expected_ - received_ : 0, echoes_, duplicates_, bounced_, bounced_deliveries_, stale_,
      unparsed_, pacer_.skips(), pacer_.given_up(), period, sent_in_period_, received_in_period_,
      period > 0 ? static_cast<double>(sent_in_period_) / period : 0.0,
      period > 0 ? static_cast<double>(received_in_period_) / period : 0.0,
      seconds_between(measure_end_ns_, drain_end_ns_), ms(latency_.quantile(0.5)), ms(latency_.quantile(0.9)),
      ms(latency_.quantile(0.99)), ms(latency_.max()), latency_.count(), cpu, period > 0 ? 100.0 * cpu / period : 0.0,
      message_errors_, first_message_error_.empty() ? "null" : json_string(first_message_error_).c_str(), unsent);
  std::string conditions = "{";
  for (const auto& [condition, count] : error_conditions_)
    conditions += (conditions.size() > 1 ? ", " : "") + json_string(condition) + ": " + std::to_string(count);
  return buf + (", \"message_error_conditions\": " + conditions + "}");
}

void MucRun::print_summary() const {
  if (o_.quiet) return;
  const double period = seconds_between(measure_start_ns_, measure_end_ns_);
  if (senders_.empty() || period <= 0) {
    std::fprintf(stderr, "loadgen: %zu occupants joined %u rooms, %zu failed, %zu gone while held\n", joined_, o_.rooms,
                 join_failures_, left_);
    return;
  }
  std::fprintf(stderr,
               "loadgen: %zu senders in %u rooms, %.1f s measured: %.0f messages/s sent, %.0f deliveries/s; "
               "expected %" PRIu64 ", received %" PRIu64 ", duplicates %" PRIu64 ", %" PRIu64
               " messages bounced; latency p50 %.2f ms, p99 %.2f ms, "
               "max %.2f ms; loadgen CPU %.0f%%\n",
               active_.size(), o_.rooms, period, static_cast<double>(sent_in_period_) / period,
               static_cast<double>(received_in_period_) / period, expected_, received_, duplicates_, bounced_,
               static_cast<double>(latency_.quantile(0.5)) / 1e6, static_cast<double>(latency_.quantile(0.99)) / 1e6,
               static_cast<double>(latency_.max()) / 1e6, 100.0 * (cpu_end_ - cpu_start_) / period);
}

}  // namespace loadgen
