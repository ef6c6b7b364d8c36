// The questions the parent has passed from xmppctl to its children (AdminQuery) and are not
// fully answered yet, and the check every AdminAnswer passes before it goes back to xmppctl.
//
// Trusts nothing it is given: an AdminAnswer comes from a child that may be compromised. It
// is passed on only if its id is one the parent asked THAT child, its kind fits the question
// (a list of sessions for show c2s, AdminDone for kick, ...), and a paged answer keeps its
// kind. Anything else is refused with a reason to log; the parent drops it and goes on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control.pb.h"

namespace xmppd::parent {

class AdminQueries {
 public:
  using Clock = std::chrono::steady_clock;
  using ClientId = std::uint64_t;
  // xmppctl asks one question per connection; a few more are allowed for other clients.
  static constexpr std::size_t kMaxPerClient = 4;
  static constexpr std::size_t kMaxPending = 256;
  // A child that has not answered by then never will: xmppctl is told so.
  static constexpr std::chrono::seconds kTimeout{10};

  // Records that `client` asks `role` the question of `query` and gives the query its id.
  // False (nothing recorded) when the client or the parent has too many questions open.
  bool ask(ClientId client, ipc::Role role, ipc::AdminQuery& query, Clock::time_point now);

  // An answer fit to pass on: to whom, and whether it was the last page.
  struct Delivery {
    ClientId client;
    bool last;
  };
  // Checks an answer that `from` sent. nullopt and `why` for anything the parent did not
  // ask that child, or that does not fit the question.
  std::optional<Delivery> check(ipc::Role from, const ipc::AdminAnswer& answer, std::string& why);

  // The questions that will get no answer: those open at a child that stopped, and those
  // older than kTimeout. Each is forgotten; the clients are returned, to be told.
  std::vector<ClientId> child_gone(ipc::Role role);
  std::vector<ClientId> expired(Clock::time_point now);
  // A client that went away: its questions stay open until answered or expired, for nobody
  // (kNobody), so that the rest of a paged answer is dropped quietly rather than as forged.
  void client_gone(ClientId client);
  static constexpr ClientId kNobody = 0;

  std::size_t pending() const { return pending_.size(); }
  // Which answer kinds fit a question (exposed for the unit test).
  static bool fits(ipc::AdminQuery::QuestionCase question, ipc::AdminAnswer::AnswerCase answer);

 private:
  struct Pending {
    ClientId client;
    ipc::Role role;
    ipc::AdminQuery::QuestionCase question;
    ipc::AdminAnswer::AnswerCase kind = ipc::AdminAnswer::ANSWER_NOT_SET;  // once a page came
    Clock::time_point deadline;
  };
  std::size_t open_for(ClientId client) const;
  template <class Match>
  std::vector<ClientId> drop_if(Match match);

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Pending> pending_;
};

}  // namespace xmppd::parent
