#include "store/remote_database.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "proto/channel.h"
#include "proto/frame.h"
#include "store/wire_values.h"

namespace xmppd::store {
namespace {

using Clock = std::chrono::steady_clock;

bool fits(const ipc::RouterToStorage& envelope) { return envelope.ByteSizeLong() <= kStorageRecordBytes; }

}  // namespace

void RemoteDatabase::attach(UniqueFd link) {
  link_ = std::move(link);
  if (link_) ipc::set_nonblocking(link_.get());
  overdue_.reset();
  in_transaction_ = rollback_owed_ = false;  // a new storage process: the old one's transaction went with it
  unavailable_ = false;
  error_.clear();
}

bool RemoteDatabase::out_of_reach(std::string why) {
  error_ = std::move(why);
  unavailable_ = true;
  return false;
}

void RemoteDatabase::violation(std::string why) {
  link_.reset();
  overdue_.reset();
  in_transaction_ = rollback_owed_ = false;
  out_of_reach("the storage process broke the protocol: " + why);
  if (on_violation_) on_violation_(why);
}

bool RemoteDatabase::run(Statement id, std::span<const Value> params, std::vector<Row>* rows) {
  ipc::StorageRequest request;
  request.set_statement(static_cast<std::uint32_t>(id));
  to_wire(params, *request.mutable_params());
  return exchange(request, rows);
}

bool RemoteDatabase::run_batch(Statement id, std::span<const Row> batch) {
  std::size_t begin = 0;
  while (begin < batch.size()) {
    ipc::StorageRequest request;
    request.set_statement(static_cast<std::uint32_t>(id));
    request.set_batch(true);
    std::size_t bytes = 0, end = begin;
    for (; end < batch.size(); ++end) {
      ipc::SqlRow row;
      to_wire(batch[end], *row.mutable_values());
      const std::size_t size = row.ByteSizeLong() + 8;
      if (end > begin && bytes + size > kStoragePageBytes) break;
      bytes += size;
      *request.add_rows() = std::move(row);
    }
    if (!exchange(request, nullptr)) return false;
    begin = end;
  }
  return true;
}

bool RemoteDatabase::exchange(ipc::StorageRequest& request, std::vector<Row>* rows) {
  unavailable_ = false;
  error_.clear();
  if (!link_) return out_of_reach("no link to the storage process (it is starting or restarting)");
  ipc::StorageAnswer last;
  if (overdue_) {
    receive(0, std::nullopt, nullptr, last);  // the overdue answer, if it came meanwhile
    if (!link_) return false;
    if (overdue_) return out_of_reach("the storage process has not answered an earlier request yet");
  }
  const auto id = static_cast<Statement>(request.statement());
  if (rollback_owed_ && !settle_rollback(id)) return false;
  request.set_serial(++serial_);
  const Clock::time_point deadline = Clock::now() + timeout_;
  ipc::RouterToStorage envelope;
  *envelope.mutable_request() = std::move(request);
  if (!fits(envelope)) {
    error_ = "the statement's parameters are larger than one IPC record (" + std::to_string(kStorageRecordBytes) +
             " bytes)";
    return false;
  }
  if (!send(envelope.request(), deadline)) return false;
  const bool was_in_transaction = in_transaction_;
  if (id == Statement::kCommit || id == Statement::kRollback) in_transaction_ = false;
  std::vector<Row> received;
  if (!receive(serial_, deadline, rows != nullptr ? &received : nullptr, last)) {
    if (link_ && !overdue_) overdue_ = serial_;
    // The caller gives up on its batch and its ROLLBACK fails here at once: it is sent later.
    if (link_ && id != Statement::kRollback && (was_in_transaction || id == Statement::kBegin))
      rollback_owed_ = true;
    in_transaction_ = false;
    if (link_) out_of_reach("no answer from the storage process in " + std::to_string(timeout_.count()) + " ms");
    return false;
  }
  if (!last.ok()) {
    error_ = last.error().empty() ? "the statement failed" : last.error();
    unavailable_ = last.unavailable();
    return false;
  }
  if (id == Statement::kBegin) in_transaction_ = true;
  if (rows != nullptr)
    for (Row& row : received) rows->push_back(std::move(row));
  return true;
}

bool RemoteDatabase::settle_rollback(Statement next) {
  rollback_owed_ = false;
  if (next == Statement::kRollback) return true;  // the request is the ROLLBACK owed
  ipc::StorageRequest rollback;
  rollback.set_statement(static_cast<std::uint32_t>(Statement::kRollback));
  // A refusal ("no transaction") is fine: only an unreachable storage process stops the request.
  if (!exchange(rollback, nullptr) && unavailable_) return false;
  unavailable_ = false;
  error_.clear();
  return true;
}

bool RemoteDatabase::wait(short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{link_.get(), events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;  // ready, or an error the next call reports
    if (n < 0 && errno != EINTR) return false;
  }
}

bool RemoteDatabase::send(const ipc::StorageRequest& request, Clock::time_point deadline) {
  ipc::RouterToStorage envelope;
  *envelope.mutable_request() = request;
  std::string bytes = envelope.SerializeAsString();
  const auto span = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  for (;;) {
    switch (ipc::send_record(link_.get(), span, {})) {
      case ipc::SendStatus::kSent: return true;
      case ipc::SendStatus::kWouldBlock:
        if (wait(POLLOUT, deadline)) continue;
        return out_of_reach("the storage process does not read its link");
      case ipc::SendStatus::kError:
        link_.reset();
        return out_of_reach(std::string("the link to the storage process is closed: ") + std::strerror(errno));
    }
  }
}

bool RemoteDatabase::receive(std::uint64_t serial, std::optional<Clock::time_point> deadline, std::vector<Row>* rows,
                             ipc::StorageAnswer& last) {
  buffer_.resize(kStorageRecordBytes + 1);
  for (;;) {
    std::vector<UniqueFd> fds;
    std::size_t length = 0;
    const ipc::RecvStatus status = ipc::recv_record(link_.get(), buffer_, 0, length, fds);
    if (status == ipc::RecvStatus::kWouldBlock) {
      if (deadline && wait(POLLIN, *deadline)) continue;
      return false;
    }
    if (status == ipc::RecvStatus::kClosed || status == ipc::RecvStatus::kError) {
      link_.reset();
      overdue_.reset();
      in_transaction_ = rollback_owed_ = false;
      return out_of_reach("the storage process closed its link (it is restarting)");
    }
    if (status != ipc::RecvStatus::kRecord) {
      violation(ipc::describe(status));
      return false;
    }
    ipc::StorageToRouter envelope;
    std::string why;
    if (!ipc::decode_envelope(envelope, std::span(buffer_.data(), length), why)) {
      violation(why);
      return false;
    }
    ipc::StorageAnswer& answer = *envelope.mutable_answer();
    if (answer.serial() == 0 || answer.serial() > serial_) {
      violation("an answer to request " + std::to_string(answer.serial()) + ", which was never sent");
      return false;
    }
    if (answer.serial() != serial) {  // late: its request gave up
      if (overdue_ == answer.serial() && !answer.more()) overdue_.reset();
      continue;
    }
    if (rows != nullptr) {
      for (const ipc::SqlRow& wire : answer.rows()) {
        if (!from_wire(wire.values(), rows->emplace_back())) {
          violation("a column with no value");
          return false;
        }
      }
    }
    if (answer.more()) continue;
    last = std::move(answer);
    return true;
  }
}

}  // namespace xmppd::store
