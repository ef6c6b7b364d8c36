#include "runtime/admin_pages.h"

namespace xmppd::runtime {

AdminPages::AdminPages(std::uint64_t id, std::function<void(ipc::AdminAnswer&)> start_page, Send send)
    : id_(id), start_page_(std::move(start_page)), send_(std::move(send)) {
  answer_.set_id(id_);
  start_page_(answer_);
}

void AdminPages::added(std::size_t bytes) {
  bytes_ += bytes + 8;  // the entry's tag and length
  if (bytes_ >= kAdminPageBytes) send(true);
}

void AdminPages::finish() { send(false); }

void AdminPages::send(bool more) {
  ipc::ChildToParent message;
  answer_.set_more(more);
  *message.mutable_admin_answer() = std::move(answer_);
  send_(message);
  ++pages_;
  answer_.Clear();
  answer_.set_id(id_);
  start_page_(answer_);
  bytes_ = 0;
}

}  // namespace xmppd::runtime
