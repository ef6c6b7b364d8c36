// A child's answer to one of xmppctl's questions (control.proto AdminQuery) sent in pages: a
// list of 10,000 sessions is larger than one control record (kChildToParent) and than one
// record to xmppctl, so it goes as several AdminAnswers with the same id, each at most
// kAdminPageBytes of entries, every one but the last with `more` set. The parent passes each
// page on as it comes (daemon/admin_queries.h checks them). The pages go through
// ChildRuntime::send_to_parent, which sends the next only once the control channel has
// drained: a long list never fills the queue to the parent, whose overflow ends the child.
//
// A list stops at kAdminMaxEntries entries, and its last page says it was cut (`truncated`):
// the pages wait in the child's memory until they are sent, and the parent lets a child hold
// only a few questions at once (AdminQueries::kMaxPerChild), so this bounds that memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "control.pb.h"

namespace xmppd::runtime {

// Half a control record: an entry added past it still leaves the page within the record.
inline constexpr std::size_t kAdminPageBytes = 32 << 10;
// No one entry may be larger (an entry is a few hundred bytes, a JID at most 3 KiB), so that a
// page stays within one record: a larger one is left out, and the list marked `truncated`.
inline constexpr std::size_t kAdminEntryBytes = 16 << 10;
// The longest list one answer holds (xmppctl show c2s on a server with more sessions says so).
inline constexpr std::size_t kAdminMaxEntries = 50000;

class AdminPages {
 public:
  using Send = std::function<void(const ipc::ChildToParent&)>;
  // `start_page` sets the answer's kind on an empty page (e.g. mutable_c2s()): every page,
  // the last one too, carries it even when it holds no entry.
  AdminPages(std::uint64_t id, std::function<void(ipc::AdminAnswer&)> start_page, Send send);
  AdminPages(const AdminPages&) = delete;
  AdminPages& operator=(const AdminPages&) = delete;

  ipc::AdminAnswer& page() { return answer_; }
  // Before adding an entry: false (and the list marked cut) once it holds kAdminMaxEntries.
  bool room();
  // After one entry of `bytes` (its ByteSizeLong()) was added to page(): a full page goes now.
  void added(std::size_t bytes);
  // Sends the last page.
  void finish();
  std::size_t pages_sent() const { return pages_; }
  bool truncated() const { return truncated_; }

 private:
  void send(bool more);

  std::uint64_t id_;
  std::function<void(ipc::AdminAnswer&)> start_page_;
  Send send_;
  ipc::AdminAnswer answer_;
  std::size_t bytes_ = 0;
  std::size_t pages_ = 0;
  std::size_t entries_ = 0;
  bool truncated_ = false;
};

}  // namespace xmppd::runtime
