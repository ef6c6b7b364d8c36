// A child's answer to one of xmppctl's questions (control.proto AdminQuery) sent in pages: a
// list of 10,000 sessions is larger than one control record (kChildToParent) and than one
// record to xmppctl, so it goes as several AdminAnswers with the same id, each at most
// kAdminPageBytes of entries, every one but the last with `more` set. The parent passes each
// page on as it comes (daemon/admin_queries.h checks them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "control.pb.h"

namespace xmppd::runtime {

// Half a control record: an entry added past it still leaves the page within the record.
inline constexpr std::size_t kAdminPageBytes = 32 << 10;
// No one entry may be larger (an entry is a few hundred bytes; a longer one is cut by its maker).
inline constexpr std::size_t kAdminEntryBytes = 16 << 10;

class AdminPages {
 public:
  using Send = std::function<void(const ipc::ChildToParent&)>;
  // `start_page` sets the answer's kind on an empty page (e.g. mutable_c2s()): every page,
  // the last one too, carries it even when it holds no entry.
  AdminPages(std::uint64_t id, std::function<void(ipc::AdminAnswer&)> start_page, Send send);
  AdminPages(const AdminPages&) = delete;
  AdminPages& operator=(const AdminPages&) = delete;

  ipc::AdminAnswer& page() { return answer_; }
  // After one entry of `bytes` (its ByteSizeLong()) was added to page(): a full page goes now.
  void added(std::size_t bytes);
  // Sends the last page.
  void finish();
  std::size_t pages_sent() const { return pages_; }

 private:
  void send(bool more);

  std::uint64_t id_;
  std::function<void(ipc::AdminAnswer&)> start_page_;
  Send send_;
  ipc::AdminAnswer answer_;
  std::size_t bytes_ = 0;
  std::size_t pages_ = 0;
};

}  // namespace xmppd::runtime
