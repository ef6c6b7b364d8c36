// The HTTP side of file sharing (XEP-0363): the handler of /file_share/ in the HTTP process.
//   PUT  /file_share/ID/NAME  with "Authorization: Bearer TOKEN", a slot the router signed
//        (common/upload_slot.h) for exactly this path, not expired, Content-Length equal to
//        the slot's size (411 without one): the body is stored (http/file_share_store.h), 201.
//   GET, HEAD  the file, whole or one Range (GET only), with a safe Content-Type and
//              Content-Disposition.
//   OPTIONS    CORS preflight, so that web clients may upload and download.
// Expired files are removed at start and by a timer. libevent holds a download's file (or range)
// mapped until the client has read it, so the bytes being served are bounded
// (kServingBudget): past it a GET is answered 503 with Retry-After.
//
// Trust: the request is the client's. The token is the only authority: the HTTP process asks
// the router nothing; the slot key comes from the parent (HttpSettings.slot_key).
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/event_ptr.h"
#include "common/upload_slot.h"
#include "control.pb.h"
#include "http/file_share_headers.h"
#include "http/file_share_store.h"
#include "http/handler.h"

namespace xmppd::http {

class FileShareHandler final : public Handler {
 public:
  static constexpr std::string_view kPrefix = "/file_share/";
  // Bytes of downloads held at once: a quarter of the http role's 2 GiB address space.
  static constexpr std::uint64_t kServingBudget = 512ull << 20;

  // `dir`: the store's directory ("/file_share" in the chroot), made now if missing.
  FileShareHandler(struct event_base* base, std::string dir, const ipc::HttpSettings& settings);
  // The store is usable; expired files are swept and the sweep timer runs.
  bool start(std::string& error);
  // The services (by domain) and the slot key; a reload may change them.
  void configure(const ipc::HttpSettings& settings);
  FileShareStore& store() { return store_; }
  // Bytes of downloads not yet read by their clients; the budget (tests lower it).
  std::uint64_t serving() const { return *serving_; }
  void set_serving_budget(std::uint64_t bytes) { serving_budget_ = bytes; }

  // Handler
  int on_headers(evhttp_request* req, const RequestInfo& info) override;
  std::uint64_t max_body(evhttp_request* req, const RequestInfo& info, std::uint64_t configured) override;
  void on_request(evhttp_request* req, const RequestInfo& info) override;

 private:
  // The slot of a PUT to this path, or the status that refuses it.
  int check_put(evhttp_request* req, const RequestInfo& info, UploadSlot& slot) const;
  void put(evhttp_request* req, const RequestInfo& info);
  void get(evhttp_request* req, const RequestInfo& info, bool head);
  bool served_inline(const UploadSlot& slot) const;
  // Adds `range` of `fd` to `body`, counted in serving_ until libevent frees it.
  bool add_counted_file(evbuffer* body, UniqueFd fd, const ByteRange& range);
  void sweep();
  static void on_timer(evutil_socket_t, short, void* arg);

  struct event_base* base_;
  FileShareStore store_;
  std::string key_;
  std::map<std::string, ipc::FileShareService, std::less<>> services_;  // by domain
  EventPtr timer_;
  std::shared_ptr<std::uint64_t> serving_ = std::make_shared<std::uint64_t>(0);
  std::uint64_t serving_budget_ = kServingBudget;
  std::size_t swept_ = 0;  // files removed by the sweep under way
};

}  // namespace xmppd::http
