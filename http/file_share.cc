// The /file_share/ handler (file_share.h): PUT with a slot, GET and HEAD with Range, CORS.
#include "http/file_share.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>
#include <event2/keyvalq_struct.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "common/log.h"
#include "http/file_share_headers.h"

namespace xmppd::http {
namespace {

constexpr time_t kMaxSweepSeconds = 300;
constexpr std::size_t kSweepBatch = 256;

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// "ID/NAME" after the prefix, each part checked as a slot's would be; nullopt for any other path.
std::optional<std::pair<std::string_view, std::string_view>> target(std::string_view path) {
  if (!path.starts_with(FileShareHandler::kPrefix)) return std::nullopt;
  path.remove_prefix(FileShareHandler::kPrefix.size());
  const std::size_t slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view id = path.substr(0, slash), name = path.substr(slash + 1);
  if (!valid_upload_slot_id(id) || !valid_upload_filename(name)) return std::nullopt;
  return std::make_pair(id, name);
}

void add_cors(evhttp_request* req) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
  evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, HEAD, PUT, OPTIONS");
  evhttp_add_header(out, "Access-Control-Allow-Headers", "Authorization, Content-Type");
  evhttp_add_header(out, "Access-Control-Max-Age", "7200");
}

void reply(evhttp_request* req, int code, const char* reason, evbuffer* body = nullptr) {
  add_cors(req);
  evhttp_add_header(evhttp_request_get_output_headers(req), "X-Content-Type-Options", "nosniff");
  evhttp_send_reply(req, code, reason, body);
}

void reply_error(evhttp_request* req, int code) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_remove_header(out, "Content-Type");
  evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
  if (code == 401) evhttp_add_header(out, "WWW-Authenticate", "Bearer");
  if (code == 405) evhttp_add_header(out, "Allow", "GET, HEAD, PUT, OPTIONS");
  if (code == 503) evhttp_add_header(out, "Retry-After", "10");
  evbuffer* body = evbuffer_new();
  evbuffer_add_printf(body, "%d\n", code);
  reply(req, code, nullptr, body);  // evhttp's own reason phrase
  evbuffer_free(body);
}

std::optional<std::uint64_t> content_length(evhttp_request* req) {
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length");
  if (value == nullptr) return std::nullopt;
  std::string_view text(value);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

FileShareHandler::FileShareHandler(struct event_base* base, std::string dir, const ipc::HttpSettings& settings)
    : base_(base), store_(std::move(dir)) {
  configure(settings);
}

bool FileShareHandler::start(std::string& error) {
  if (!store_.ready(error) || !prepare_upload_slots()) {
    if (error.empty()) error = "HMAC is not available";
    return false;
  }
  timer_.reset(event_new(base_, -1, 0, on_timer, this));
  sweep();
  return true;
}

void FileShareHandler::configure(const ipc::HttpSettings& settings) {
  key_ = settings.slot_key();
  services_.clear();
  for (const ipc::FileShareService& s : settings.file_share()) services_.emplace(s.domain(), s);
  if (timer_) sweep();
}

// At start, then every few minutes; sooner when a service's files expire sooner, so that a
// short http_file_share_expires_after is kept to within half of itself.
// A sweep looks at kSweepBatch entries per loop turn, so a large store never holds the loop.
void FileShareHandler::sweep() {
  swept_ += store_.sweep(now_seconds(), kSweepBatch);
  if (store_.sweeping()) {
    timeval next_turn = {0, 0};
    evtimer_add(timer_.get(), &next_turn);
    return;
  }
  if (swept_ > 0)
    log::info("file_share: %zu expired files removed; %zu files, %llu bytes stored", swept_, store_.files(),
              static_cast<unsigned long long>(store_.bytes()));
  swept_ = 0;
  time_t every = kMaxSweepSeconds;
  for (const auto& [domain, s] : services_)
    if (s.expires_after() != 0) every = std::min<time_t>(every, std::max<time_t>(1, static_cast<time_t>(s.expires_after() / 2)));
  timeval in = {every, 0};
  evtimer_add(timer_.get(), &in);
}

void FileShareHandler::on_timer(evutil_socket_t, short, void* arg) { static_cast<FileShareHandler*>(arg)->sweep(); }

int FileShareHandler::check_put(evhttp_request* req, const RequestInfo& info, UploadSlot& out) const {
  auto path = target(info.path);
  if (!path) return 404;
  auto token = bearer_token(evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"));
  if (!token) return 401;
  VerifiedSlot v = verify_upload_slot(*token, key_);
  if (!v.slot) {
    log::info("file_share: PUT from %s refused: %s", info.peer.c_str(), std::string(slot_refusal_text(v.refusal)).c_str());
    return 403;
  }
  // The token is good for exactly the path it was granted for, and only while its service exists.
  if (v.slot->id != path->first || v.slot->filename != path->second || !services_.contains(v.slot->service))
    return 403;
  if (v.slot->expires <= now_seconds()) return 403;
  // RFC 9110 15.5.12: no defined length (a chunked PUT) is 411; a malformed one is 400.
  if (evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length") == nullptr) return 411;
  auto length = content_length(req);
  if (!length) return 400;
  if (*length > v.slot->size) return 413;
  if (*length < v.slot->size) return 400;
  if (store_.exists(v.slot->id)) return 409;
  out = std::move(*v.slot);
  return 0;
}

int FileShareHandler::on_headers(evhttp_request* req, const RequestInfo& info) {
  switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_PUT: {
      UploadSlot slot;
      return check_put(req, info, slot);
    }
    case EVHTTP_REQ_GET:
    case EVHTTP_REQ_HEAD:
    case EVHTTP_REQ_OPTIONS: return 0;
    default: return 405;
  }
}

std::uint64_t FileShareHandler::max_body(evhttp_request* req, const RequestInfo& info, std::uint64_t configured) {
  if (evhttp_request_get_command(req) != EVHTTP_REQ_PUT) return 0;
  UploadSlot slot;
  // A valid slot's size, which may pass http_max_content_size (the server reads up to the
  // largest size_limit); anything else no more than the configured size.
  return check_put(req, info, slot) == 0 ? slot.size : configured;
}

void FileShareHandler::on_request(evhttp_request* req, const RequestInfo& info) {
  switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_PUT: return put(req, info);
    case EVHTTP_REQ_GET: return get(req, info, false);
    case EVHTTP_REQ_HEAD: return get(req, info, true);
    case EVHTTP_REQ_OPTIONS: return reply(req, 200, "OK");
    default: return reply_error(req, 405);
  }
}

void FileShareHandler::put(evhttp_request* req, const RequestInfo& info) {
  UploadSlot slot;
  if (int refused = check_put(req, info, slot); refused != 0) return reply_error(req, refused);
  evbuffer* body = evhttp_request_get_input_buffer(req);
  if (evbuffer_get_length(body) != slot.size) return reply_error(req, 400);
  const ipc::FileShareService& service = services_.find(slot.service)->second;
  const std::int64_t expires =
      service.expires_after() != 0 ? now_seconds() + static_cast<std::int64_t>(service.expires_after()) : 0;
  std::string error;
  if (!store_.put(slot, expires, body, error)) {
    log::warning("file_share: cannot store %s for %s: %s", slot.id.c_str(), slot.uploader.c_str(), error.c_str());
    return reply_error(req, 500);
  }
  log::info("file_share: %s stored %s (%llu bytes) from %s", slot.uploader.c_str(), slot.id.c_str(),
            static_cast<unsigned long long>(slot.size), info.peer.c_str());
  reply(req, 201, "Created");
}

// http_file_share_safe_file_types: shown by the browser; anything else is downloaded.
bool FileShareHandler::served_inline(const UploadSlot& slot) const {
  auto it = services_.find(slot.service);
  if (it == services_.end() || it->second.safe_file_types_size() == 0) return false;
  const auto& safe = it->second.safe_file_types();
  return content_type_allowed(slot.content_type, std::vector<std::string>(safe.begin(), safe.end()));
}

void FileShareHandler::get(evhttp_request* req, const RequestInfo& info, bool head) {
  auto path = target(info.path);
  std::optional<StoredFile> file = path ? store_.open(path->first, now_seconds()) : std::nullopt;
  if (!file || file->slot.filename != path->second) return reply_error(req, 404);
  const UploadSlot& slot = file->slot;
  const bool safe = served_inline(slot);
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Content-Type", safe ? slot.content_type.c_str() : "application/octet-stream");
  evhttp_add_header(out, "Content-Disposition", content_disposition(slot.filename, safe).c_str());
  evhttp_add_header(out, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
  evhttp_add_header(out, "Accept-Ranges", "bytes");
  const std::int64_t max_age = file->expires != 0 ? std::max<std::int64_t>(0, file->expires - now_seconds()) : 31536000;
  evhttp_add_header(out, "Cache-Control", ("public, max-age=" + std::to_string(max_age) + ", immutable").c_str());

  ByteRange range{0, slot.size - 1};
  // RFC 9110 14.2: Range is defined for GET only; HEAD answers the whole file's length.
  RangeAnswer answer =
      head ? RangeAnswer::kWhole
           : parse_range(evhttp_find_header(evhttp_request_get_input_headers(req), "Range"), slot.size, range);
  if (answer == RangeAnswer::kUnsatisfiable) {
    evhttp_add_header(out, "Content-Range", ("bytes */" + std::to_string(slot.size)).c_str());
    return reply_error(req, 416);
  }
  if (answer == RangeAnswer::kPartial)
    evhttp_add_header(out, "Content-Range", ("bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                                             "/" + std::to_string(slot.size)).c_str());
  const int code = answer == RangeAnswer::kPartial ? 206 : 200;
  const char* reason = code == 206 ? "Partial Content" : "OK";
  evbuffer* body = evbuffer_new();
  if (head) {
    // evhttp sends no body for HEAD but sets Content-Length from the (empty) buffer: say it here.
    evhttp_add_header(out, "Content-Length", std::to_string(range.length()).c_str());
  } else if (*serving_ != 0 && *serving_ + range.length() > serving_budget_) {
    // libevent maps (or reads) a file segment whole and holds it until the client has read it,
    // so what is being served is bounded, or slow readers exhaust the address space. One
    // download always goes, so that a file over the budget can still be fetched.
    evbuffer_free(body);
    log::info("file_share: GET from %s refused: %llu bytes being served already", info.peer.c_str(),
              static_cast<unsigned long long>(*serving_));
    return reply_error(req, 503);
  } else if (!add_counted_file(body, std::move(file->fd), range)) {
    evbuffer_free(body);
    return reply_error(req, 500);
  }
  reply(req, code, reason, body);
  evbuffer_free(body);
}

namespace {
// What one served segment gives back to the budget when libevent frees it: when the client has
// read it, or its connection closed. Shared, since a connection may outlive the handler.
struct Served {
  std::shared_ptr<std::uint64_t> serving;
  std::uint64_t length;
};
void served(evbuffer_file_segment const*, int, void* arg) {
  auto* s = static_cast<Served*>(arg);
  *s->serving -= s->length;
  delete s;
}
}  // namespace

bool FileShareHandler::add_counted_file(evbuffer* body, UniqueFd fd, const ByteRange& range) {
  evbuffer_file_segment* seg = evbuffer_file_segment_new(fd.get(), static_cast<ev_off_t>(range.first),
                                                         static_cast<ev_off_t>(range.length()),
                                                         EVBUF_FS_CLOSE_ON_FREE);
  if (seg == nullptr) return false;
  (void)fd.release();  // the segment owns it now
  *serving_ += range.length();
  evbuffer_file_segment_add_cleanup_cb(seg, served, new Served{serving_, range.length()});
  const bool added = evbuffer_add_file_segment(body, seg, 0, static_cast<ev_off_t>(range.length())) == 0;
  evbuffer_file_segment_free(seg);  // the buffer holds its own reference, if added
  return added;
}

}  // namespace xmppd::http
