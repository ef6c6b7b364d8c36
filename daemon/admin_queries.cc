#include "daemon/admin_queries.h"

namespace xmppd::parent {

bool AdminQueries::fits(ipc::AdminQuery::QuestionCase question, ipc::AdminAnswer::AnswerCase answer) {
  // AdminDone fits every question: it is how a child says it cannot answer one.
  if (answer == ipc::AdminAnswer::kDone) return true;
  switch (question) {
    case ipc::AdminQuery::kShowC2S:
      return answer == ipc::AdminAnswer::kC2S;
    case ipc::AdminQuery::kShowS2S:
      return answer == ipc::AdminAnswer::kS2S;
    case ipc::AdminQuery::kUsers:
      return answer == ipc::AdminAnswer::kUsers;
    case ipc::AdminQuery::kShowComponents:
      return answer == ipc::AdminAnswer::kComponents;
    case ipc::AdminQuery::kShowMuc:
      return answer == ipc::AdminAnswer::kRooms;
    case ipc::AdminQuery::kMemory:
      return answer == ipc::AdminAnswer::kMemory;
    case ipc::AdminQuery::kMetrics:
      return answer == ipc::AdminAnswer::kMetrics;
    default:
      return false;  // close s2s, kick: AdminDone only
  }
}

std::size_t AdminQueries::open_for(ClientId client) const {
  std::size_t n = 0;
  for (const auto& [id, p] : pending_) n += p.client == client;  // kNobody's never count: ids start at 1
  return n;
}

bool AdminQueries::room_for(ClientId client, ipc::Role role) const {
  std::size_t at_child = 0;
  for (const auto& [id, p] : pending_) at_child += p.role == role;
  return pending_.size() < kMaxPending && open_for(client) < kMaxPerClient && at_child < kMaxPerChild;
}

bool AdminQueries::ask(ClientId client, ipc::Role role, ipc::AdminQuery& query, Clock::time_point now,
                       Clock::duration timeout) {
  if (!room_for(client, role)) return false;
  const std::uint64_t id = next_id_++;
  query.set_id(id);
  pending_[id] =
      Pending{client, role, Kind::kQuery, query.question_case(), ipc::AdminAnswer::ANSWER_NOT_SET, now + timeout, {}};
  return true;
}

bool AdminQueries::ask_account(ClientId client, ipc::AccountRequest& request, Clock::time_point now) {
  if (!room_for(client, ipc::ROLE_AUTH)) return false;
  const std::uint64_t id = next_id_++;
  request.set_id(id);
  pending_[id] = Pending{client,
                         ipc::ROLE_AUTH,
                         Kind::kAccount,
                         ipc::AdminQuery::QUESTION_NOT_SET,
                         ipc::AdminAnswer::ANSWER_NOT_SET,
                         now + kTimeout,
                         {}};
  return true;
}

bool AdminQueries::ask_reload(ClientId client, const ipc::ReloadResult& result, Clock::time_point now) {
  if (!room_for(client, ipc::ROLE_TLS)) return false;
  pending_[next_id_++] = Pending{
      client,         ipc::ROLE_TLS, Kind::kReload, ipc::AdminQuery::QUESTION_NOT_SET, ipc::AdminAnswer::ANSWER_NOT_SET,
      now + kTimeout, result};
  return true;
}

AdminQueries::Pending* AdminQueries::find(std::uint64_t id, ipc::Role from, Kind kind, Refusal& refusal) {
  refusal = {};
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    // An id never handed out is made up; an old one is an answer that came too late.
    refusal.violation = id == 0 || id >= next_id_;
    refusal.why = (refusal.violation ? "an answer to a question never asked (id " : "a late answer (id ") +
                  std::to_string(id) + ")";
    return nullptr;
  }
  Pending& p = it->second;
  refusal.violation = true;
  if (p.role != from) {
    refusal.why = "an answer to a question asked another process";
    return nullptr;
  }
  if (p.kind != kind) {
    refusal.why = "an answer of a kind that does not fit the question";
    return nullptr;
  }
  refusal.violation = false;
  return &p;
}

std::optional<AdminQueries::Delivery> AdminQueries::check(ipc::Role from, const ipc::AdminAnswer& answer,
                                                          Refusal& refusal) {
  Pending* p = find(answer.id(), from, Kind::kQuery, refusal);
  if (p == nullptr) return std::nullopt;
  refusal.violation = true;
  if (!fits(p->question, answer.answer_case())) {
    refusal.why = "an answer of a kind that does not fit the question";
    return std::nullopt;
  }
  if (answer.more() && answer.answer_case() == ipc::AdminAnswer::kDone) {
    refusal.why = "a paged AdminDone";
    return std::nullopt;
  }
  if (p->answered != ipc::AdminAnswer::ANSWER_NOT_SET && p->answered != answer.answer_case() &&
      answer.answer_case() != ipc::AdminAnswer::kDone) {
    refusal.why = "a page of another kind than the ones before it";
    return std::nullopt;
  }
  refusal.violation = false;
  p->answered = answer.answer_case();
  Delivery delivery{p->client, !answer.more(), p->question};
  if (delivery.last) pending_.erase(answer.id());
  return delivery;
}

std::optional<AdminQueries::Delivery> AdminQueries::check_account(ipc::Role from, const ipc::AccountResult& result,
                                                                  Refusal& refusal) {
  Pending* p = find(result.id(), from, Kind::kAccount, refusal);
  if (p == nullptr) return std::nullopt;
  Delivery delivery{p->client, true};
  pending_.erase(result.id());
  return delivery;
}

std::vector<std::pair<AdminQueries::ClientId, ipc::ReloadResult>> AdminQueries::credentials_loaded(
    std::uint64_t generation) {
  std::vector<std::pair<ClientId, ipc::ReloadResult>> done;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.kind != Kind::kReload || it->second.reload.generation() != generation) {
      ++it;
      continue;
    }
    done.emplace_back(it->second.client, std::move(it->second.reload));
    it = pending_.erase(it);
  }
  return done;
}

template <class Match>
std::vector<AdminQueries::ClientId> AdminQueries::drop_if(Match match) {
  std::vector<ClientId> clients;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!match(it->second)) {
      ++it;
      continue;
    }
    clients.push_back(it->second.client);
    it = pending_.erase(it);
  }
  return clients;
}

std::vector<AdminQueries::ClientId> AdminQueries::child_gone(ipc::Role role) {
  return drop_if([role](const Pending& p) { return p.role == role; });
}

std::vector<AdminQueries::ClientId> AdminQueries::expired(Clock::time_point now) {
  return drop_if([now](const Pending& p) { return p.deadline <= now; });
}

void AdminQueries::client_gone(ClientId client) {
  for (auto& [id, p] : pending_)
    if (p.client == client) p.client = kNobody;
}

}  // namespace xmppd::parent
