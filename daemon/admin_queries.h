// The questions the parent has passed from xmppctl to its children (AdminQuery, account
// requests, and a reload waiting for the tls helper's CredentialsLoaded) and are not fully
// answered yet, and the check every answer passes before it goes back to xmppctl.
//
// Trusts nothing it is given: an answer comes from a child that may be compromised. It is
// passed on only if its id is one the parent asked THAT child, its kind fits the question
// (a list of sessions for show c2s, AdminDone for kick, ...), and a paged answer keeps its
// kind. Anything else breaks the control protocol (Refusal::violation: the parent restarts
// the child), but for an answer to a question that already timed out or whose client went,
// which an honest but slow child sends too: only logged, at a limited rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "admin.pb.h"
#include "control.pb.h"

namespace xmppd::parent {

class AdminQueries {
 public:
  using Clock = std::chrono::steady_clock;
  using ClientId = std::uint64_t;
  // xmppctl asks one question per connection; a few more are allowed for other clients.
  static constexpr std::size_t kMaxPerClient = 4;
  static constexpr std::size_t kMaxPending = 256;
  // A child holds at most this many questions at once: each list answer waits in the child's
  // memory until its pages have gone (runtime/admin_pages.h), so this bounds that memory.
  static constexpr std::size_t kMaxPerChild = 4;
  // A child that has not answered by then never will: xmppctl is told so.
  static constexpr std::chrono::seconds kTimeout{10};
  // status waits this long at most for the children's memory, then answers with what it has.
  static constexpr std::chrono::seconds kMemoryTimeout{2};

  // Records that `client` asks `role` the question of `query` and gives the query its id.
  // False (nothing recorded) when the client, the child or the parent has too many open.
  // Unanswered after `timeout`, it is expired().
  bool ask(ClientId client, ipc::Role role, ipc::AdminQuery& query, Clock::time_point now,
           Clock::duration timeout = kTimeout);
  // The same for an account request to the auth helper.
  bool ask_account(ClientId client, ipc::AccountRequest& request, Clock::time_point now);
  // A reload taken at `generation` whose answer (`result`, taken) waits for the tls helper.
  bool ask_reload(ClientId client, const ipc::ReloadResult& result, Clock::time_point now);

  // An answer fit to pass on: to whom, and whether it was the last page.
  struct Delivery {
    ClientId client;
    bool last;
    ipc::AdminQuery::QuestionCase question = ipc::AdminQuery::QUESTION_NOT_SET;  // answered
  };
  struct Refusal {
    bool violation = false;  // false: a late answer
    std::string why;
  };
  // Checks an answer that `from` sent: nullopt and why for anything not to be passed on.
  std::optional<Delivery> check(ipc::Role from, const ipc::AdminAnswer& answer, Refusal& refusal);
  std::optional<Delivery> check_account(ipc::Role from, const ipc::AccountResult& result, Refusal& refusal);
  // The reloads that waited for the tls helper's outcome at `generation`: their clients and
  // results, which the caller completes. Forgotten here.
  std::vector<std::pair<ClientId, ipc::ReloadResult>> credentials_loaded(std::uint64_t generation);

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
  enum class Kind { kQuery, kAccount, kReload };
  struct Pending {
    ClientId client;
    ipc::Role role;
    Kind kind;
    ipc::AdminQuery::QuestionCase question = ipc::AdminQuery::QUESTION_NOT_SET;
    ipc::AdminAnswer::AnswerCase answered = ipc::AdminAnswer::ANSWER_NOT_SET;  // once a page came
    Clock::time_point deadline;
    ipc::ReloadResult reload;  // kReload: the answer so far
  };
  std::size_t open_for(ClientId client) const;
  bool room_for(ClientId client, ipc::Role role) const;
  // The question `id` if `from` may answer it with a `kind` answer; else nullptr and why.
  Pending* find(std::uint64_t id, ipc::Role from, Kind kind, Refusal& refusal);
  template <class Match>
  std::vector<ClientId> drop_if(Match match);

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Pending> pending_;
};

}  // namespace xmppd::parent
