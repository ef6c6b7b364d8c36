// loadgen: an XMPP load generator for xmppd and Prosody. One process, one libevent loop,
// non-blocking sockets; every client does STARTTLS, SCRAM, resource binding and initial
// presence like a real one, then either exchanges timestamped messages (--mode messages),
// stays connected (--mode idle) or joins group chat rooms and sends to them (--mode muc,
// muc_run.h). Results: JSON on stdout (--json), progress on stderr.
// bench/loadgen/README.md says how it is used; `loadgen --help` lists the options.
#include <event2/event.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/loadgen/client.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/muc_run.h"
#include "bench/loadgen/pacing.h"
#include "bench/loadgen/util.h"

namespace loadgen {
namespace {

constexpr const char* kUsage = R"(usage: loadgen --mode messages|idle|muc --sender HOST:PORT --sender-domain A --accounts N [options]

  --mode messages|idle|muc messages: N pairs userI@A -> userI@B exchange timestamped messages
                           idle: N clients userI@A log in and stay connected
                           muc: N clients userI@A join --rooms rooms, some send groupchat messages
  --sender HOST:PORT       c2s endpoint of the sending (idle: all) accounts
  --sender-domain A        their domain (also the TLS name checked)
  --receiver HOST:PORT     c2s endpoint of the receiving accounts (default: --sender)
  --receiver-domain B      their domain (default: --sender-domain)
  --accounts N             number of pairs (messages) or of clients (idle)
  --first-account K        number of the first account (default 1)
  --receiver-offset K      receiver I is account I+K (default 0: userI@B; with A = B the pair
                           is then two resources of one account)
  --user-format FMT        account name, %d replaced by the number (default user%d)
  --password-format FMT    password, likewise (default password%d)
  --cafile FILE | --insecure   verify the server certificate against FILE, or not at all
  --mechanism M            SCRAM-SHA-1 (default) or SCRAM-SHA-256
  --scram-cache FILE       keep salted passwords in FILE between runs (PBKDF2 only once per account)
  --rate R                 messages/s over all senders, timer-paced; 0 = saturate with --window
  --window W               saturate: unreceived messages in flight per sender (default 64)
  --body-bytes B           size of each message body (default 100)
  --warmup S               sending before the measurement starts (default 2)
  --duration S             measured period (default 10)
  --drain S                wait at most this long after the last send for stragglers (default 5)
  --hold S                 idle: stay connected this long once all are logged in (default 0)
  --connect-rate C         new connections per second while logging in (default 500)
  --max-pending P          at most P logins in progress at once (default 1000)
  --login-timeout S        a login not done after S seconds fails (default 30)
  --reconnect S            messages: a client disconnected after its login logs in again after
                           S seconds (and again after each failed attempt); default: never
  --trace FILE             messages: one line per event in FILE (README: "Trace")
  --rooms R                muc: client I joins room I mod R (default 10)
  --sender-every K         muc: the 1st, (K+1)th, (2K+1)th ... occupant of each room sends
                           (default 4; 0: nobody sends, the occupants stay --hold seconds)
  --muc-service S          muc: the rooms' service (default conference.A)
  --join-delay S           muc: stay logged in S seconds before joining (default 0)
  --json                   print the results as one JSON object on stdout
  --quiet                  no progress lines on stderr

Exit status: 0 the run completed (losses are in the results), 1 usage error,
2 logins could not complete (more than 1% failed, or interrupted while logging in).
)";

struct Options {
  enum class Mode { kMessages, kIdle, kMuc } mode = Mode::kMessages;
  std::string sender, sender_domain, receiver, receiver_domain;
  std::uint32_t accounts = 0;
  std::uint32_t first_account = 1;
  std::uint32_t receiver_offset = 0;
  std::string user_format = "user%d", password_format = "password%d";
  std::string cafile;
  bool insecure = false;
  std::string mechanism = "SCRAM-SHA-1";
  std::string scram_cache;
  double rate = 0;
  std::uint32_t window = 64;
  std::uint32_t body_bytes = 100;
  double warmup = 2, duration = 10, drain = 5, hold = 0;
  double connect_rate = 500;
  std::uint32_t max_pending = 1000;
  double login_timeout = 30;
  double reconnect = -1;  // < 0: never
  std::string trace;
  std::uint32_t rooms = 10;
  std::uint32_t sender_every = 4;
  std::string muc_service;
  double join_delay = 0;
  bool muc_options = false;  // one of the four above was given
  bool json = false;
  bool quiet = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n\n%s", message.c_str(), kUsage);
  std::exit(1);
}

double parse_number(const char* name, const char* text, double min) {
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || v < min)
    usage_error(std::string("--") + name + ": not a number >= " + std::to_string(min) + ": " + text);
  return v;
}

std::uint32_t parse_count(const char* name, const char* text, std::uint32_t min) {
  std::uint32_t v = 0;
  const char* end = text + std::strlen(text);
  auto [p, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || p != end || v < min)
    usage_error(std::string("--") + name + ": not a whole number >= " + std::to_string(min) + ": " + text);
  return v;
}

Options parse_options(int argc, char** argv) {
  enum {
    kMode = 256, kSender, kSenderDomain, kReceiver, kReceiverDomain, kAccounts, kFirst, kOffset, kUserFormat,
    kPasswordFormat, kCafile, kInsecure, kMechanism, kScramCache, kRate, kWindow, kBodyBytes, kWarmup, kDuration,
    kDrain, kHold, kConnectRate, kMaxPending, kLoginTimeout, kReconnect, kTrace, kJson, kQuiet, kHelp, kRooms,
    kSenderEvery, kMucService, kJoinDelay,
  };
  static const struct option longopts[] = {
      {"mode", required_argument, nullptr, kMode},
      {"sender", required_argument, nullptr, kSender},
      {"sender-domain", required_argument, nullptr, kSenderDomain},
      {"receiver", required_argument, nullptr, kReceiver},
      {"receiver-domain", required_argument, nullptr, kReceiverDomain},
      {"accounts", required_argument, nullptr, kAccounts},
      {"first-account", required_argument, nullptr, kFirst},
      {"receiver-offset", required_argument, nullptr, kOffset},
      {"user-format", required_argument, nullptr, kUserFormat},
      {"password-format", required_argument, nullptr, kPasswordFormat},
      {"cafile", required_argument, nullptr, kCafile},
      {"insecure", no_argument, nullptr, kInsecure},
      {"mechanism", required_argument, nullptr, kMechanism},
      {"scram-cache", required_argument, nullptr, kScramCache},
      {"rate", required_argument, nullptr, kRate},
      {"window", required_argument, nullptr, kWindow},
      {"body-bytes", required_argument, nullptr, kBodyBytes},
      {"warmup", required_argument, nullptr, kWarmup},
      {"duration", required_argument, nullptr, kDuration},
      {"drain", required_argument, nullptr, kDrain},
      {"hold", required_argument, nullptr, kHold},
      {"connect-rate", required_argument, nullptr, kConnectRate},
      {"max-pending", required_argument, nullptr, kMaxPending},
      {"login-timeout", required_argument, nullptr, kLoginTimeout},
      {"reconnect", required_argument, nullptr, kReconnect},
      {"trace", required_argument, nullptr, kTrace},
      {"json", no_argument, nullptr, kJson},
      {"quiet", no_argument, nullptr, kQuiet},
      {"help", no_argument, nullptr, kHelp},
      {"rooms", required_argument, nullptr, kRooms},
      {"sender-every", required_argument, nullptr, kSenderEvery},
      {"muc-service", required_argument, nullptr, kMucService},
      {"join-delay", required_argument, nullptr, kJoinDelay},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
    switch (ch) {
      case kMode:
        if (std::strcmp(optarg, "messages") == 0) o.mode = Options::Mode::kMessages;
        else if (std::strcmp(optarg, "idle") == 0) o.mode = Options::Mode::kIdle;
        else if (std::strcmp(optarg, "muc") == 0) o.mode = Options::Mode::kMuc;
        else usage_error(std::string("--mode: messages, idle or muc, not ") + optarg);
        break;
      case kSender: o.sender = optarg; break;
      case kSenderDomain: o.sender_domain = optarg; break;
      case kReceiver: o.receiver = optarg; break;
      case kReceiverDomain: o.receiver_domain = optarg; break;
      case kAccounts: o.accounts = parse_count("accounts", optarg, 1); break;
      case kFirst: o.first_account = parse_count("first-account", optarg, 0); break;
      case kOffset: o.receiver_offset = parse_count("receiver-offset", optarg, 0); break;
      case kUserFormat: o.user_format = optarg; break;
      case kPasswordFormat: o.password_format = optarg; break;
      case kCafile: o.cafile = optarg; break;
      case kInsecure: o.insecure = true; break;
      case kMechanism: o.mechanism = optarg; break;
      case kScramCache: o.scram_cache = optarg; break;
      case kRate: o.rate = parse_number("rate", optarg, 0); break;
      case kWindow: o.window = parse_count("window", optarg, 1); break;
      case kBodyBytes: o.body_bytes = parse_count("body-bytes", optarg, 0); break;
      case kWarmup: o.warmup = parse_number("warmup", optarg, 0); break;
      case kDuration: o.duration = parse_number("duration", optarg, 0.001); break;
      case kDrain: o.drain = parse_number("drain", optarg, 0); break;
      case kHold: o.hold = parse_number("hold", optarg, 0); break;
      case kConnectRate: o.connect_rate = parse_number("connect-rate", optarg, 0.001); break;
      case kMaxPending: o.max_pending = parse_count("max-pending", optarg, 1); break;
      case kLoginTimeout: o.login_timeout = parse_number("login-timeout", optarg, 0.001); break;
      case kReconnect: o.reconnect = parse_number("reconnect", optarg, 0); break;
      case kTrace: o.trace = optarg; break;
      case kJson: o.json = true; break;
      case kQuiet: o.quiet = true; break;
      case kHelp: std::fputs(kUsage, stdout); std::exit(0);
      case kRooms: o.rooms = parse_count("rooms", optarg, 1), o.muc_options = true; break;
      case kSenderEvery: o.sender_every = parse_count("sender-every", optarg, 0), o.muc_options = true; break;
      case kMucService: o.muc_service = optarg, o.muc_options = true; break;
      case kJoinDelay: o.join_delay = parse_number("join-delay", optarg, 0), o.muc_options = true; break;
      default: usage_error("unknown option");
    }
  }
  if (optind != argc) usage_error(std::string("unexpected argument: ") + argv[optind]);
  if (o.sender.empty() || o.sender_domain.empty()) usage_error("--sender and --sender-domain are needed");
  if (o.accounts == 0) usage_error("--accounts is needed");
  if (o.cafile.empty() == !o.insecure) usage_error("give either --cafile FILE or --insecure");
  if (o.mechanism != "SCRAM-SHA-1" && o.mechanism != "SCRAM-SHA-256")
    usage_error("--mechanism: SCRAM-SHA-1 or SCRAM-SHA-256");
  if (o.mode != Options::Mode::kMessages && (o.reconnect >= 0 || !o.trace.empty()))
    usage_error("--reconnect and --trace are for --mode messages");
  if (o.mode != Options::Mode::kMuc && o.muc_options)
    usage_error("--rooms, --sender-every, --muc-service and --join-delay are for --mode muc");
  if (o.receiver.empty()) o.receiver = o.sender;
  if (o.receiver_domain.empty()) o.receiver_domain = o.sender_domain;
  if (o.muc_service.empty()) o.muc_service = "conference." + o.sender_domain;
  return o;
}

bool resolve(const std::string& spec, const std::string& domain, Endpoint& out) {
  std::string host, port;
  if (!spec.empty() && spec[0] == '[') {
    std::size_t close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':') return false;
    host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
  } else {
    std::size_t colon = spec.rfind(':');
    if (colon == std::string::npos) return false;
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  struct addrinfo hints = {};
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* result = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    std::fprintf(stderr, "loadgen: %s: %s\n", spec.c_str(), gai_strerror(rc));
    return false;
  }
  std::memcpy(&out.addr, result->ai_addr, result->ai_addrlen);
  out.addr_len = result->ai_addrlen;
  freeaddrinfo(result);
  out.domain = domain;
  out.text = spec;
  return true;
}

std::string format_number(const std::string& format, std::uint32_t n) {
  std::string out = format;
  std::string value = std::to_string(n);
  for (std::size_t at = out.find("%d"); at != std::string::npos; at = out.find("%d", at + value.size()))
    out.replace(at, 2, value);
  return out;
}

// One sender -> receiver pair of the messages mode.
struct Pair {
  Client* sender = nullptr;
  Client* receiver = nullptr;
  bool active = false;
  std::string prefix;  // <message to='...' type='chat' id='
  std::uint64_t next_seq = 1;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint32_t in_flight = 0;     // saturate: sent, not yet received, not given up on
  std::uint64_t given_up_below = 0;  // receipts of seq below this no longer count against the window
  std::uint64_t last_progress_ns = 0;
  std::vector<std::uint64_t> seen;  // bit per seq, to count duplicates
};

// Which client sends for a pair, for the pacer.
Client& sender_of(Pair& p) { return *p.sender; }

class Loadgen final : public ClientListener {
 public:
  explicit Loadgen(Options options) : o_(std::move(options)) {}
  ~Loadgen();
  int run();

  void on_online(Client& client) override;
  void on_failed(Client& client, ErrorKind kind, const std::string& what) override;
  void on_message(Client& client, const XmlTree& tree) override;
  void on_stanza(Client& client, const XmlTree& tree) override;

 private:
  enum class Phase { kLogin, kPrime, kWarmup, kMeasure, kDrain, kHold, kMuc, kDone };
  bool messages() const { return o_.mode == Options::Mode::kMessages; }
  bool idle() const { return o_.mode == Options::Mode::kIdle; }
  void start_muc();
  bool setup_tls();
  void build_clients();
  void record_error(ErrorKind kind, const std::string& what, const Client& client);
  void check_login_done();
  void start_prime();
  void start_sending();
  void start_measure();
  void end_measure();
  void finish(int code);
  void send_message(Pair& p, std::uint64_t now);
  void refill(Pair& p, std::uint64_t now);
  void progress();
  void expire_windows(std::uint64_t now);
  void print_results();
  std::string account(std::uint32_t n) const { return format_number(o_.user_format, n); }

  static void on_launch(evutil_socket_t, short, void* arg);
  static void on_tick(evutil_socket_t, short, void* arg);
  static void on_second(evutil_socket_t, short, void* arg);
  static void on_phase_timer(evutil_socket_t, short, void* arg);
  static void on_wait_check(evutil_socket_t, short, void* arg);
  static void on_signal(evutil_socket_t, short, void* arg);
  static void on_reconnect_check(evutil_socket_t, short, void* arg);
  bool reconnecting() const { return o_.reconnect >= 0 && phase_ != Phase::kLogin && phase_ != Phase::kDone; }
  void trace_message(char kind, std::size_t pair, std::uint64_t seq, std::uint64_t at, std::string_view condition = {});
  void trace_client(char kind, const Client& client, std::uint64_t at);
  struct event* add_timer(event_callback_fn fn, double seconds, bool persist);

  Options o_;
  Shared shared_;
  Endpoint sender_ep_, receiver_ep_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::uint8_t> was_online_;
  std::vector<std::uint8_t> online_now_;
  std::vector<std::uint64_t> reconnect_at_;  // when a disconnected client logs in again; 0: not
  std::size_t reconnects_ = 0, reconnect_failures_ = 0;
  std::FILE* trace_ = nullptr;
  std::vector<Pair> pairs_;
  std::vector<Pair*> active_;
  std::vector<struct event*> events_;
  struct event* launch_event_ = nullptr;
  struct event* tick_event_ = nullptr;
  struct event* phase_event_ = nullptr;
  Phase phase_ = Phase::kLogin;
  int exit_code_ = 0;
  std::string run_tag_;
  std::string padding_;

  // Logins.
  std::size_t launched_ = 0;
  bool launching_ = false;
  bool ready_ = false;
  std::size_t pending_ = 0;
  std::size_t logins_ = 0;
  std::size_t login_failures_ = 0;
  std::uint64_t login_start_ns_ = 0, login_end_ns_ = 0;
  double login_cpu_start_ = 0, login_cpu_ = 0;
  // After logins.
  std::size_t disconnects_ = 0;
  std::uint64_t error_counts_[static_cast<int>(ErrorKind::kCount)] = {};
  std::uint64_t errors_ = 0;
  std::string first_error_;
  std::uint64_t message_errors_ = 0;
  std::string first_message_error_;
  std::map<std::string, std::uint64_t, std::less<>> message_error_conditions_;
  // Messages.
  bool sending_ = false;
  std::uint64_t prime_start_ns_ = 0, send_start_ns_ = 0;
  struct event* wait_event_ = nullptr;
  std::uint64_t sent_ = 0, received_ = 0, duplicates_ = 0, stale_ = 0, unparsed_ = 0, bounced_ = 0;
  Pacer pacer_;
  std::uint64_t measure_start_ns_ = 0, measure_end_ns_ = 0, last_send_ns_ = 0, drain_end_ns_ = 0;
  std::uint64_t received_in_period_ = 0, sent_in_period_ = 0;
  double cpu_start_ = 0, cpu_end_ = 0;
  Histogram latency_;
  // Progress.
  std::uint64_t last_sent_ = 0, last_received_ = 0;
  std::uint64_t last_progress_ns_ = 0;
  int interrupts_ = 0;
  std::unique_ptr<MucRun> muc_;
};

Loadgen::~Loadgen() {
  for (struct event* ev : events_) event_free(ev);
  clients_.clear();
  if (trace_ != nullptr) std::fclose(trace_);
  if (shared_.ssl_ctx != nullptr) SSL_CTX_free(shared_.ssl_ctx);
}

struct event* Loadgen::add_timer(event_callback_fn fn, double seconds, bool persist) {
  struct event* ev = event_new(shared_.base, -1, persist ? EV_PERSIST : 0, fn, this);
  events_.push_back(ev);
  timeval tv = to_timeval(seconds);
  event_add(ev, &tv);
  return ev;
}

bool Loadgen::setup_tls() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return false;
  shared_.ssl_ctx = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Each client is a new one: no session resumption.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
  // Idle clients give their 2 x 16 KiB record buffers back; busy ones keep them.
  if (idle()) mode |= SSL_MODE_RELEASE_BUFFERS;
  SSL_CTX_set_mode(ctx, mode);
  if (o_.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    shared_.verify = false;
  } else {
    if (SSL_CTX_load_verify_locations(ctx, o_.cafile.c_str(), nullptr) != 1) {
      unsigned long code = ERR_get_error();
      std::fprintf(stderr, "loadgen: %s: %s\n", o_.cafile.c_str(), ERR_reason_error_string(code));
      return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    shared_.verify = true;
  }
  return true;
}

void Loadgen::build_clients() {
  const std::uint32_t n = o_.accounts;
  clients_.reserve(messages() ? 2u * n : n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t number = o_.first_account + i;
    if (messages()) {
      std::uint32_t r = number + o_.receiver_offset;
      // Tags: 2i the receiver, 2i+1 the sender of pair i; receivers log in first.
      clients_.push_back(std::make_unique<Client>(shared_, receiver_ep_, account(r),
                                                  format_number(o_.password_format, r), "loadgen",
                                                  static_cast<std::uint32_t>(clients_.size())));
      clients_.push_back(std::make_unique<Client>(shared_, sender_ep_, account(number),
                                                  format_number(o_.password_format, number), "loadgen-sender",
                                                  static_cast<std::uint32_t>(clients_.size())));
    } else {
      clients_.push_back(std::make_unique<Client>(shared_, sender_ep_, account(number),
                                                  format_number(o_.password_format, number), "loadgen",
                                                  static_cast<std::uint32_t>(clients_.size())));
    }
  }
  was_online_.assign(clients_.size(), 0);
  online_now_.assign(clients_.size(), 0);
  reconnect_at_.assign(clients_.size(), 0);
  if (messages()) {
    pairs_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      pairs_[i].receiver = clients_[2 * i].get();
      pairs_[i].sender = clients_[2 * i + 1].get();
    }
  }
}

int Loadgen::run() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::size_t needed = (messages() ? 2u : 1u) * static_cast<std::size_t>(o_.accounts) + 32;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed)
    std::fprintf(stderr, "loadgen: warning: open files limited to %llu, %zu connections wanted\n",
                 static_cast<unsigned long long>(rl.rlim_cur), needed - 32);
  signal(SIGPIPE, SIG_IGN);

  if (!resolve(o_.sender, o_.sender_domain, sender_ep_) || !resolve(o_.receiver, o_.receiver_domain, receiver_ep_))
    return 1;
  if (!setup_tls()) return 1;
  if (!o_.scram_cache.empty()) shared_.cache.open(o_.scram_cache);
  if (!o_.trace.empty()) {
    trace_ = std::fopen(o_.trace.c_str(), "w");
    if (trace_ == nullptr) {
      std::fprintf(stderr, "loadgen: %s: %s\n", o_.trace.c_str(), std::strerror(errno));
      return 1;
    }
  }
  shared_.hash = o_.mechanism == "SCRAM-SHA-256" ? xmppd::auth::ScramHash::kSha256 : xmppd::auth::ScramHash::kSha1;
  shared_.mechanism = o_.mechanism;
  shared_.release_buffers = idle();
  shared_.listener = this;

  struct event_config* cfg = event_config_new();
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  shared_.base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (shared_.base == nullptr) return 1;
  shared_.init();

  unsigned char random[4];
  RAND_bytes(random, sizeof random);
  char tag[16];
  std::snprintf(tag, sizeof tag, "r%02x%02x%02x%02x", random[0], random[1], random[2], random[3]);
  run_tag_ = tag;
  if (trace_ != nullptr) std::fprintf(trace_, "run %s %u\n", run_tag_.c_str(), o_.accounts);

  build_clients();
  for (int sig : {SIGINT, SIGTERM}) {
    struct event* ev = evsignal_new(shared_.base, sig, &Loadgen::on_signal, this);
    events_.push_back(ev);
    event_add(ev, nullptr);
  }
  if (!o_.quiet)
    std::fprintf(stderr, "loadgen: %s mode, %zu connections to log in at %.0f/s (run %s)\n",
                 messages() ? "messages" : idle() ? "idle" : "muc", clients_.size(), o_.connect_rate, run_tag_.c_str());
  login_start_ns_ = last_progress_ns_ = now_ns();
  login_cpu_start_ = cpu_seconds();
  launch_event_ = add_timer(&Loadgen::on_launch, 0.002, true);
  add_timer(&Loadgen::on_second, 1.0, true);
  if (o_.reconnect >= 0) add_timer(&Loadgen::on_reconnect_check, 0.01, true);
  on_launch(-1, 0, this);
  event_base_dispatch(shared_.base);
  for (auto& c : clients_) c->close();
  shared_.cache.save();
  if (trace_ != nullptr && (std::fclose(std::exchange(trace_, nullptr)) != 0)) {
    std::fprintf(stderr, "loadgen: %s: %s\n", o_.trace.c_str(), std::strerror(errno));
    if (exit_code_ == 0) exit_code_ = 1;
  }
  for (struct event* ev : events_) event_free(ev);
  events_.clear();
  shared_.shutdown();
  event_base_free(shared_.base);
  shared_.base = nullptr;
  return exit_code_;
}

void Loadgen::on_launch(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  // Not re-entered from a connection that fails at once inside start().
  if (self->phase_ != Phase::kLogin || self->launching_) return;
  self->launching_ = true;
  double elapsed = seconds_between(self->login_start_ns_, now_ns());
  auto target = std::min(self->clients_.size(), static_cast<std::size_t>(elapsed * self->o_.connect_rate) + 1);
  while (self->phase_ == Phase::kLogin && self->launched_ < target && self->pending_ < self->o_.max_pending) {
    Client& c = *self->clients_[self->launched_++];
    ++self->pending_;
    c.start();
  }
  self->launching_ = false;
  if (self->launched_ == self->clients_.size() && self->launch_event_ != nullptr) event_del(self->launch_event_);
}

void Loadgen::record_error(ErrorKind kind, const std::string& what, const Client& client) {
  ++errors_;
  ++error_counts_[static_cast<int>(kind)];
  const Endpoint& ep = messages() && client.tag() % 2 == 0 ? receiver_ep_ : sender_ep_;
  std::uint32_t index = messages() ? client.tag() / 2 : client.tag();
  std::uint32_t number = o_.first_account + index + (messages() && client.tag() % 2 == 0 ? o_.receiver_offset : 0);
  std::string who = account(number) + "@" + ep.domain;
  if (first_error_.empty()) first_error_ = who + ": " + what;
  if (errors_ <= 10 && !o_.quiet) std::fprintf(stderr, "loadgen: %s: %s: %s\n", who.c_str(), error_kind_name(kind), what.c_str());
  if (errors_ == 10 && !o_.quiet) std::fprintf(stderr, "loadgen: (further errors are only counted)\n");
}

void Loadgen::on_online(Client& client) {
  was_online_[client.tag()] = 1;
  online_now_[client.tag()] = 1;
  if (phase_ != Phase::kLogin) {
    // Logged in again after a disconnection (--reconnect).
    ++reconnects_;
    trace_client('o', client, now_ns());
    Pair& p = pairs_[client.tag() / 2];
    if (client.tag() % 2 == 1 && o_.rate <= 0 && p.active) refill(p, now_ns());
    return;
  }
  --pending_;
  ++logins_;
  login_end_ns_ = now_ns();
  on_launch(-1, 0, this);
  check_login_done();
}

void Loadgen::on_failed(Client& client, ErrorKind kind, const std::string& what) {
  record_error(kind, what, client);
  const bool was_online_now = std::exchange(online_now_[client.tag()], 0) != 0;
  if (was_online_[client.tag()]) {
    if (was_online_now) {
      ++disconnects_;
      trace_client('d', client, now_ns());
    } else {
      ++reconnect_failures_;
    }
    if (reconnecting()) {
      reconnect_at_[client.tag()] = now_ns() + static_cast<std::uint64_t>(o_.reconnect * 1e9);
      return;
    }
    if (messages()) pairs_[client.tag() / 2].active = false;
    if (muc_) muc_->on_disconnect(client);
    return;
  }
  if (phase_ != Phase::kLogin) return;
  --pending_;
  ++login_failures_;
  login_end_ns_ = now_ns();
  on_launch(-1, 0, this);
  check_login_done();
}

void Loadgen::check_login_done() {
  if (logins_ + login_failures_ < clients_.size()) return;
  double seconds = seconds_between(login_start_ns_, login_end_ns_);
  login_cpu_ = cpu_seconds() - login_cpu_start_;
  if (!o_.quiet)
    std::fprintf(stderr, "loadgen: %zu logged in, %zu failed, in %.2f s (%.0f/s); loadgen CPU %.0f%% (%.0f%% PBKDF2 "
                 "cache hits)\n", logins_, login_failures_, seconds,
                 seconds > 0 ? static_cast<double>(logins_) / seconds : 0.0, seconds > 0 ? 100 * login_cpu_ / seconds : 0.0,
                 100.0 * static_cast<double>(shared_.cache.hits()) /
                     static_cast<double>(std::max<std::uint64_t>(1, shared_.cache.hits() + shared_.cache.misses())));
  if (login_failures_ * 100 > clients_.size() || logins_ == 0) {
    std::fprintf(stderr, "loadgen: logins could not complete: %zu of %zu failed\n", login_failures_,
                 clients_.size());
    finish(2);
    return;
  }
  ready_ = true;
  if (o_.mode == Options::Mode::kMuc) {
    start_muc();
    return;
  }
  if (!messages()) {
    std::fprintf(stderr, "ready %zu\n", logins_);
    std::fflush(stderr);
    phase_ = Phase::kHold;
    phase_event_ = add_timer(&Loadgen::on_phase_timer, o_.hold, false);
    return;
  }
  start_prime();
}

// Each pair sends one message and the warm-up starts once all have arrived (or after 10 s):
// routes exist then (s2s streams are up), so that the burst of a saturating start does not
// meet a stream still being set up.
void Loadgen::start_prime() {
  // The message prefix and padding are built once; a message is then appended with no allocation
  // beyond the growth of the sender's output buffer.
  for (Pair& p : pairs_) {
    p.active = p.sender->online() && p.receiver->online();
    if (!p.active) continue;
    p.prefix = "<message to='" + p.receiver->jid() + "' type='chat' id='";
    active_.push_back(&p);
  }
  padding_.assign(o_.body_bytes, 'x');
  phase_ = Phase::kPrime;
  prime_start_ns_ = now_ns();
  for (Pair* p : active_) {
    send_message(*p, prime_start_ns_);
    if (o_.rate <= 0) ++p->in_flight;
    p->last_progress_ns = prime_start_ns_;
  }
  wait_event_ = add_timer(&Loadgen::on_wait_check, 0.01, true);
}

void Loadgen::start_sending() {
  phase_ = Phase::kWarmup;
  sending_ = true;
  send_start_ns_ = now_ns();
  if (!o_.quiet)
    std::fprintf(stderr, "loadgen: primed in %.2f s; %zu pairs sending %s; warm-up %.1f s, then %.1f s measured\n",
                 seconds_between(prime_start_ns_, send_start_ns_), active_.size(),
                 o_.rate > 0 ? (std::to_string(static_cast<long long>(o_.rate)) + " messages/s").c_str()
                             : ("as fast as possible, window " + std::to_string(o_.window)).c_str(),
                 o_.warmup, o_.duration);
  if (o_.rate > 0) {
    tick_event_ = add_timer(&Loadgen::on_tick, 0.001, true);
  } else {
    for (Pair* p : active_) refill(*p, send_start_ns_);
  }
  if (o_.warmup > 0)
    phase_event_ = add_timer(&Loadgen::on_phase_timer, o_.warmup, false);
  else
    start_measure();
}

void Loadgen::start_measure() {
  phase_ = Phase::kMeasure;
  cpu_start_ = cpu_seconds();
  measure_start_ns_ = now_ns();
  if (!o_.quiet) std::fprintf(stderr, "loadgen: measuring\n");
  phase_event_ = add_timer(&Loadgen::on_phase_timer, o_.duration, false);
}

void Loadgen::end_measure() {
  measure_end_ns_ = now_ns();
  cpu_end_ = cpu_seconds();
  if (measure_start_ns_ == 0) {  // interrupted during the warm-up
    measure_start_ns_ = measure_end_ns_;
    cpu_start_ = cpu_end_;
  }
  sending_ = false;
  if (tick_event_ != nullptr) event_del(tick_event_);
  phase_ = Phase::kDrain;
  if (!o_.quiet) std::fprintf(stderr, "loadgen: measured; waiting up to %.1f s for the last messages\n", o_.drain);
  if (wait_event_ == nullptr) wait_event_ = add_timer(&Loadgen::on_wait_check, 0.01, true);
}

void Loadgen::on_phase_timer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  switch (self->phase_) {
    case Phase::kWarmup: self->start_measure(); break;
    case Phase::kMeasure: self->end_measure(); break;
    case Phase::kHold: self->finish(0); break;
    default: break;
  }
}

void Loadgen::on_wait_check(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  std::uint64_t now = now_ns();
  bool all_in = self->received_ + self->bounced_ >= self->sent_;
  if (self->phase_ == Phase::kPrime) {
    if (all_in || seconds_between(self->prime_start_ns_, now) >= 10) {
      event_del(self->wait_event_);
      self->wait_event_ = nullptr;
      self->start_sending();
    }
    return;
  }
  if (self->phase_ != Phase::kDrain) return;
  if (all_in || seconds_between(std::max(self->last_send_ns_, self->measure_end_ns_), now) >= self->o_.drain) {
    self->drain_end_ns_ = now;
    self->finish(0);
  }
}

void Loadgen::on_reconnect_check(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  if (!self->reconnecting()) return;
  std::uint64_t now = now_ns();
  for (std::size_t i = 0; i < self->clients_.size(); ++i) {
    if (self->reconnect_at_[i] == 0 || self->reconnect_at_[i] > now) continue;
    self->reconnect_at_[i] = 0;
    self->clients_[i]->start();  // a failure comes back through on_failed, which schedules the next try
  }
}

void Loadgen::trace_message(char kind, std::size_t pair, std::uint64_t seq, std::uint64_t at,
                            std::string_view condition) {
  if (trace_ == nullptr) return;
  std::fprintf(trace_, "%c %zu %" PRIu64 " %" PRIu64, kind, pair, seq, at);
  if (!condition.empty()) std::fprintf(trace_, " %.*s", static_cast<int>(condition.size()), condition.data());
  std::fputc('\n', trace_);
}

void Loadgen::trace_client(char kind, const Client& client, std::uint64_t at) {
  if (trace_ == nullptr) return;
  std::fprintf(trace_, "%c %u %s %" PRIu64 "\n", kind, client.tag() / 2, client.tag() % 2 == 0 ? "receiver" : "sender",
               at);
}

void Loadgen::on_signal(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  std::fprintf(stderr, "loadgen: interrupted\n");
  if (++self->interrupts_ > 1) {
    self->finish(self->phase_ == Phase::kLogin ? 2 : 0);
    return;
  }
  switch (self->phase_) {
    case Phase::kMuc: self->muc_->interrupt(); break;
    case Phase::kLogin: self->finish(2); break;
    case Phase::kPrime:
    case Phase::kWarmup:
    case Phase::kMeasure: self->end_measure(); break;
    default: self->finish(0); break;
  }
}

void Loadgen::finish(int code) {
  if (phase_ == Phase::kDone) return;
  if (phase_ == Phase::kMeasure || phase_ == Phase::kWarmup || phase_ == Phase::kPrime) end_measure();
  if (muc_) muc_->stop();
  if (drain_end_ns_ == 0) drain_end_ns_ = now_ns();
  if (login_end_ns_ == 0) login_end_ns_ = now_ns();
  phase_ = Phase::kDone;
  exit_code_ = code;
  print_results();
  event_base_loopbreak(shared_.base);
}

void Loadgen::send_message(Pair& p, std::uint64_t now) {
  std::string& o = p.sender->output();
  std::uint64_t seq = p.next_seq++;
  std::size_t body_start = begin_message(o, p.prefix, seq, now);
  append_uint(o, seq);
  o += ' ';
  o += run_tag_;
  end_message(o, body_start, padding_);
  trace_message('s', static_cast<std::size_t>(&p - pairs_.data()), seq, now);
  ++p.sent;
  ++sent_;
  if (phase_ == Phase::kMeasure) ++sent_in_period_;
  last_send_ns_ = now;
}

void Loadgen::refill(Pair& p, std::uint64_t now) {
  Pacer::refill(p, now, sending_, o_.window, sender_of, [&](Pair& q) { send_message(q, now); });
}

void Loadgen::on_tick(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  if (!self->sending_) return;
  std::uint64_t now = now_ns();
  self->pacer_.tick(self->active_, self->send_start_ns_, now, self->o_.rate, sender_of,
                    [&](Pair& p) { self->send_message(p, now); });
}

void Loadgen::expire_windows(std::uint64_t now) {
  pacer_.expire(active_, now, o_.drain, [&](Pair& p) { refill(p, now); });
}

void Loadgen::on_message(Client& client, const XmlTree& tree) {
  if (muc_) {
    muc_->on_message(client, tree);
    return;
  }
  if (!messages()) return;
  const XmlNode& root = tree.root();
  Pair& p = pairs_[client.tag() / 2];
  const bool at_receiver = client.tag() % 2 == 0;
  std::uint64_t now = now_ns();
  if (tree.attr(root, "type") == "error") {
    ++message_errors_;
    const XmlNode* error = tree.child(root, "error");
    std::string_view condition = "?";
    for (const XmlNode* c = error ? tree.first_child(*error) : nullptr; c; c = tree.next_sibling(*c))
      if (c->name != "text") condition = c->name;
    auto counted = message_error_conditions_.find(condition);
    if (counted == message_error_conditions_.end())
      counted = message_error_conditions_.emplace(std::string(condition), 0).first;
    ++counted->second;
    if (first_message_error_.empty()) {
      const XmlNode* text = error ? tree.child(*error, "text") : nullptr;
      first_message_error_ = client.jid() + " got an error for message " + std::string(tree.attr(root, "id")) +
                             ": " + std::string(condition) + (text ? " (" + unescape(text->text) + ")" : "");
      if (!o_.quiet) std::fprintf(stderr, "loadgen: %s\n", first_message_error_.c_str());
    }
    // A bounce is an answer too: it frees its place in the window.
    std::uint64_t seq = 0;
    std::string_view id = tree.attr(root, "id");
    std::from_chars(id.data(), id.data() + id.size(), seq);
    if (!at_receiver && seq != 0 && seq < p.next_seq) {
      ++bounced_;
      trace_message('b', client.tag() / 2, seq, now, condition);
      if (seq >= p.given_up_below && p.in_flight > 0) {
        --p.in_flight;
        p.last_progress_ns = now;
        refill(p, now);
      }
    }
    return;
  }
  if (!at_receiver) return;
  const XmlNode* body = tree.child(root, "body");
  if (body == nullptr) return;  // e.g. a chat state
  // "T SEQ RUN padding"
  std::string_view text = body->text;
  const char* s = text.data();
  const char* end = s + text.size();
  std::uint64_t sent_at = 0, seq = 0;
  auto r1 = std::from_chars(s, end, sent_at);
  if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != ' ') {
    ++unparsed_;
    return;
  }
  auto r2 = std::from_chars(r1.ptr + 1, end, seq);
  std::string_view rest(r2.ptr, static_cast<std::size_t>(end - r2.ptr));
  if (r2.ec != std::errc() || rest.size() < run_tag_.size() + 1 || rest[0] != ' ') {
    ++unparsed_;
    return;
  }
  if (rest.substr(1, run_tag_.size()) != run_tag_ || seq == 0 || seq >= p.next_seq) {
    ++stale_;  // e.g. offline messages of an earlier run
    return;
  }
  trace_message('r', client.tag() / 2, seq, now);
  std::size_t word = static_cast<std::size_t>(seq / 64);
  if (p.seen.size() <= word) p.seen.resize(std::max(word + 1, p.seen.size() * 2), 0);
  std::uint64_t bit = std::uint64_t{1} << (seq % 64);
  if (p.seen[word] & bit) {
    ++duplicates_;
    return;
  }
  p.seen[word] |= bit;
  ++p.received;
  ++received_;
  if (phase_ == Phase::kMeasure) ++received_in_period_;
  if (sent_at >= measure_start_ns_ && measure_start_ns_ != 0 && (measure_end_ns_ == 0 || sent_at < measure_end_ns_))
    latency_.record(now > sent_at ? now - sent_at : 0);
  if (seq >= p.given_up_below && p.in_flight > 0) {
    --p.in_flight;
    p.last_progress_ns = now;
    if (o_.rate <= 0) refill(p, now);
  }
}

// The group chat mode takes over once the logins are done (muc_run.h).
void Loadgen::start_muc() {
  std::fprintf(stderr, "ready %zu\n", logins_);
  std::fflush(stderr);
  MucOptions m;
  m.service = o_.muc_service;
  m.rooms = o_.rooms;
  m.sender_every = o_.sender_every;
  m.join_delay = o_.join_delay;
  m.join_timeout = o_.login_timeout;
  m.max_pending = o_.max_pending;
  m.rate = o_.rate;
  m.window = o_.window;
  m.body_bytes = o_.body_bytes;
  m.warmup = o_.warmup;
  m.duration = o_.duration;
  m.drain = o_.drain;
  m.hold = o_.hold;
  m.quiet = o_.quiet;
  std::vector<Client*> clients;
  for (auto& c : clients_) clients.push_back(c.get());
  phase_ = Phase::kMuc;
  muc_ = std::make_unique<MucRun>(std::move(m), shared_, std::move(clients), run_tag_, [this](int code) { finish(code); });
  muc_->start();
}

void Loadgen::on_stanza(Client& client, const XmlTree& tree) {
  if (muc_) muc_->on_stanza(client, tree);
}

void Loadgen::on_second(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Loadgen*>(arg);
  std::uint64_t now = now_ns();
  if (self->phase_ == Phase::kLogin) {
    // Logins that take too long fail.
    auto limit = static_cast<std::uint64_t>(self->o_.login_timeout * 1e9);
    for (std::size_t i = 0; i < self->launched_; ++i) {
      Client& c = *self->clients_[i];
      if (!c.closed() && !c.online() && now - c.started_ns() > limit)
        c.fail(ErrorKind::kTimeout, std::string("login not done after ") + std::to_string(self->o_.login_timeout) +
                                        " s (" + Client::state_name(c.state()) + ")");
    }
  }
  if (self->reconnecting()) {
    // Logins again after a disconnection have the same time limit as the first ones.
    auto limit = static_cast<std::uint64_t>(self->o_.login_timeout * 1e9);
    for (auto& c : self->clients_)
      if (!c->closed() && !c->online() && now - c->started_ns() > limit)
        c->fail(ErrorKind::kTimeout, std::string("login again not done after ") +
                                         std::to_string(self->o_.login_timeout) + " s (" + Client::state_name(c->state()) +
                                         ")");
  }
  if (self->phase_ == Phase::kPrime || self->phase_ == Phase::kWarmup || self->phase_ == Phase::kMeasure) {
    if (self->o_.rate <= 0) self->expire_windows(now);
  }
  if (self->phase_ == Phase::kMuc) {
    self->muc_->on_second();
    return;
  }
  self->progress();
}

void Loadgen::progress() {
  std::uint64_t now = now_ns();
  double dt = seconds_between(last_progress_ns_, now);
  if (o_.quiet || dt <= 0) return;
  double t = seconds_between(login_start_ns_, now);
  switch (phase_) {
    case Phase::kLogin:
      std::fprintf(stderr, "[%6.1fs] login: %zu online, %zu failed, %zu in progress, %zu to go\n", t, logins_,
                   login_failures_, pending_, clients_.size() - launched_);
      break;
    case Phase::kPrime:
    case Phase::kWarmup:
    case Phase::kMeasure:
    case Phase::kDrain:
      std::fprintf(stderr,
                   "[%6.1fs] %s: sent %.0f/s, received %.0f/s, %" PRIu64 " in flight, %" PRIu64 " bounced, %zu errors\n",
                   t,
                   phase_ == Phase::kPrime    ? "prime"
                   : phase_ == Phase::kWarmup ? "warm-up"
                   : phase_ == Phase::kMeasure ? "measure"
                                               : "drain",
                   static_cast<double>(sent_ - last_sent_) / dt, static_cast<double>(received_ - last_received_) / dt,
                   sent_ - std::min(sent_, received_ + bounced_), bounced_, static_cast<std::size_t>(errors_));
      break;
    case Phase::kHold:
      std::fprintf(stderr, "[%6.1fs] hold: %zu connected, %zu disconnected\n", t, logins_ - disconnects_,
                   disconnects_);
      break;
    case Phase::kMuc:
    case Phase::kDone: break;
  }
  last_sent_ = sent_;
  last_received_ = received_;
  last_progress_ns_ = now;
}

void Loadgen::print_results() {
  double login_seconds = seconds_between(login_start_ns_, login_end_ns_);
  double login_rate = login_seconds > 0 ? static_cast<double>(logins_) / login_seconds : 0.0;
  std::string errors = "{\"count\": " + std::to_string(errors_) + ", \"first\": " +
                       (first_error_.empty() ? std::string("null") : json_string(first_error_));
  for (int k = 0; k < static_cast<int>(ErrorKind::kCount); ++k)
    errors += ", \"" + std::string(error_kind_name(static_cast<ErrorKind>(k))) + "\": " + std::to_string(error_counts_[k]);
  errors += "}";
  char buf[4096];
  std::string json;
  if (muc_) {
    std::snprintf(buf, sizeof buf,
                  "{\"mode\": \"muc\", \"accounts\": %u, \"logins\": %zu, \"login_failures\": %zu, "
                  "\"login_seconds\": %.3f, \"login_rate\": %.1f, \"login_cpu_seconds\": %.3f, \"hold_seconds\": %.1f, "
                  "\"disconnects\": %zu, \"scram_cache_hits\": %" PRIu64,
                  o_.accounts, logins_, login_failures_, login_seconds, login_rate, login_cpu_, o_.hold, disconnects_,
                  shared_.cache.hits());
    json = buf + muc_->json_members() + ", \"errors\": " + errors + "}";
    muc_->print_summary();
  } else if (!messages()) {
    std::snprintf(buf, sizeof buf,
                  "{\"mode\": \"idle\", \"accounts\": %u, \"ready\": %zu, \"logins\": %zu, \"login_failures\": %zu, "
                  "\"login_seconds\": %.3f, \"login_rate\": %.1f, \"login_cpu_seconds\": %.3f, \"hold_seconds\": %.1f, "
                  "\"disconnects\": %zu, \"scram_cache_hits\": %" PRIu64 ", \"errors\": ",
                  o_.accounts, ready_ ? logins_ : 0, logins_, login_failures_, login_seconds,
                  login_rate, login_cpu_, o_.hold, disconnects_, shared_.cache.hits());
    json = buf + errors + "}";
    if (!o_.quiet)
      std::fprintf(stderr, "loadgen: %zu clients logged in in %.2f s (%.0f/s), %zu disconnected while held\n", logins_,
                   login_seconds, login_rate, disconnects_);
  } else {
    double period = seconds_between(measure_start_ns_, measure_end_ns_);
    double cpu = cpu_end_ - cpu_start_;
    std::uint64_t lost = sent_ > received_ ? sent_ - received_ : 0;
    auto ms = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e6; };
    std::snprintf(buf, sizeof buf,
                  "{\"mode\": \"messages\", \"accounts\": %u, \"pairs\": %zu, \"rate\": %.0f, \"window\": %u, "
                  "\"body_bytes\": %u, \"mechanism\": \"%s\", "
                  "\"logins\": %zu, \"login_failures\": %zu, \"login_seconds\": %.3f, \"login_rate\": %.1f, "
                  "\"login_cpu_seconds\": %.3f, \"prime_seconds\": %.3f, \"sent\": %" PRIu64 ", \"received\": %" PRIu64 ", \"lost\": %" PRIu64 ", \"duplicates\": %" PRIu64
                  ", \"bounced\": %" PRIu64 ", \"stale\": %" PRIu64 ", \"unparsed\": %" PRIu64
                  ", \"backlog_skips\": %" PRIu64 ", \"given_up\": %" PRIu64 ", "
                  "\"duration_seconds\": %.3f, \"sent_in_period\": %" PRIu64 ", \"received_in_period\": %" PRIu64
                  ", \"msgs_per_sec\": %.1f, \"drain_seconds\": %.3f, "
                  "\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"samples\": %" PRIu64
                  "}, \"client_cpu_seconds\": %.3f, \"client_cpu_percent\": %.1f, \"disconnects\": %zu, "
                  "\"message_errors\": %" PRIu64 ", \"first_message_error\": %s, \"scram_cache_hits\": %" PRIu64
                  ", \"errors\": ",
                  o_.accounts, active_.size(), o_.rate, o_.window, o_.body_bytes, o_.mechanism.c_str(), logins_,
                  login_failures_, login_seconds, login_rate, login_cpu_, seconds_between(prime_start_ns_, send_start_ns_), sent_, received_, lost, duplicates_, bounced_, stale_,
                  unparsed_, pacer_.skips(), pacer_.given_up(), period, sent_in_period_, received_in_period_,
                  period > 0 ? static_cast<double>(received_in_period_) / period : 0.0,
                  seconds_between(measure_end_ns_, drain_end_ns_), ms(latency_.quantile(0.5)),
                  ms(latency_.quantile(0.9)), ms(latency_.quantile(0.99)), ms(latency_.max()), latency_.count(), cpu,
                  period > 0 ? 100.0 * cpu / period : 0.0, disconnects_, message_errors_,
                  first_message_error_.empty() ? "null" : json_string(first_message_error_).c_str(),
                  shared_.cache.hits());
    std::string conditions = "{";
    for (const auto& [condition, count] : message_error_conditions_)
      conditions += (conditions.size() > 1 ? ", " : "") + json_string(condition) + ": " + std::to_string(count);
    conditions += "}";
    std::size_t unsent = 0;
    for (const Pair* p : active_) unsent += p->sender->pending_output();
    json = buf + errors + ", \"message_error_conditions\": " + conditions +
           ", \"unsent_bytes_at_end\": " + std::to_string(unsent) + ", \"reconnects\": " + std::to_string(reconnects_) +
           ", \"reconnect_failures\": " + std::to_string(reconnect_failures_) + "}";
    if (!o_.quiet)
      std::fprintf(stderr,
                   "loadgen: %zu pairs, %.1f s measured: %.0f messages/s received; sent %" PRIu64 ", received %" PRIu64
                   ", lost %" PRIu64 ", duplicates %" PRIu64 "; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
                   "loadgen CPU %.0f%%\n",
                   active_.size(), period, period > 0 ? static_cast<double>(received_in_period_) / period : 0.0, sent_,
                   received_, lost, duplicates_, ms(latency_.quantile(0.5)), ms(latency_.quantile(0.99)),
                   ms(latency_.max()), period > 0 ? 100.0 * cpu / period : 0.0);
  }
  if (!o_.quiet && errors_ > 0)
    std::fprintf(stderr, "loadgen: %" PRIu64 " errors, the first: %s\n", errors_, first_error_.c_str());
  if (o_.json) {
    std::printf("%s\n", json.c_str());
    std::fflush(stdout);
  }
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) {
  loadgen::Options options = loadgen::parse_options(argc, argv);
  loadgen::Loadgen generator(std::move(options));
  return generator.run();
}
