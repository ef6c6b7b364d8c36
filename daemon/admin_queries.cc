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
    default:
      return false;  // close s2s, kick: AdminDone only
  }
}

std::size_t AdminQueries::open_for(ClientId client) const {
  std::size_t n = 0;
  for (const auto& [id, p] : pending_) n += p.client == client;  // kNobody's never count: ids start at 1
  return n;
}

bool AdminQueries::ask(ClientId client, ipc::Role role, ipc::AdminQuery& query, Clock::time_point now) {
  if (pending_.size() >= kMaxPending || open_for(client) >= kMaxPerClient) return false;
  const std::uint64_t id = next_id_++;
  query.set_id(id);
  pending_[id] = Pending{client, role, query.question_case(), ipc::AdminAnswer::ANSWER_NOT_SET, now + kTimeout};
  return true;
}

std::optional<AdminQueries::Delivery> AdminQueries::check(ipc::Role from, const ipc::AdminAnswer& answer,
                                                          std::string& why) {
  auto it = pending_.find(answer.id());
  if (it == pending_.end()) {
    why = "an answer to no open question (id " + std::to_string(answer.id()) + ")";
    return std::nullopt;
  }
  Pending& p = it->second;
  if (p.role != from) {
    why = "an answer to a question asked another process";
    return std::nullopt;
  }
  if (!fits(p.question, answer.answer_case())) {
    why = "an answer of a kind that does not fit the question";
    return std::nullopt;
  }
  if (answer.more() && answer.answer_case() == ipc::AdminAnswer::kDone) {
    why = "a paged AdminDone";
    return std::nullopt;
  }
  if (p.kind != ipc::AdminAnswer::ANSWER_NOT_SET && p.kind != answer.answer_case() &&
      answer.answer_case() != ipc::AdminAnswer::kDone) {
    why = "a page of another kind than the ones before it";
    return std::nullopt;
  }
  p.kind = answer.answer_case();
  Delivery delivery{p.client, !answer.more()};
  if (delivery.last) pending_.erase(it);
  return delivery;
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
