#include "runtime/admin_pages.h"

namespace xmppd::runtime {

AdminPages::AdminPages(std::uint64_t id, std::function<void(ipc::AdminAnswer&)> start_page, Send send)
    : id_(id), start_page_(std::move(start_page)), send_(std::move(send)) {
  answer_.set_id(id_);
  start_page_(answer_);
}

namespace {

// The entry just added to whichever list the page holds.
void drop_last(ipc::AdminAnswer& answer) {
  switch (answer.answer_case()) {
    case ipc::AdminAnswer::kC2S:
      answer.mutable_c2s()->mutable_sessions()->RemoveLast();
      break;
    case ipc::AdminAnswer::kS2S:
      answer.mutable_s2s()->mutable_streams()->RemoveLast();
      break;
    case ipc::AdminAnswer::kComponents:
      answer.mutable_components()->mutable_components()->RemoveLast();
      break;
    case ipc::AdminAnswer::kRooms:
      answer.mutable_rooms()->mutable_rooms()->RemoveLast();
      break;
    case ipc::AdminAnswer::kUsers: {
      ipc::UserList& users = *answer.mutable_users();
      if (!users.sha1_only().empty() && !users.usernames().empty() &&
          users.sha1_only(users.sha1_only_size() - 1) == users.usernames(users.usernames_size() - 1))
        users.mutable_sha1_only()->RemoveLast();
      users.mutable_usernames()->RemoveLast();
      break;
    }
    default:
      break;
  }
}

}  // namespace

bool AdminPages::room() {
  if (entries_ < kAdminMaxEntries) return true;
  truncated_ = true;
  return false;
}

void AdminPages::added(std::size_t bytes) {
  if (bytes > kAdminEntryBytes) {
    drop_last(answer_);  // it could push the page past one record
    truncated_ = true;
    return;
  }
  ++entries_;
  bytes_ += bytes + 8;  // the entry's tag and length
  if (bytes_ >= kAdminPageBytes) send(true);
}

void AdminPages::finish() { send(false); }

void AdminPages::send(bool more) {
  ipc::ChildToParent message;
  answer_.set_more(more);
  answer_.set_truncated(!more && truncated_);
  *message.mutable_admin_answer() = std::move(answer_);
  send_(message);
  ++pages_;
  answer_.Clear();
  answer_.set_id(id_);
  start_page_(answer_);
  bytes_ = 0;
}

}  // namespace xmppd::runtime
