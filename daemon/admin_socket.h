// DATA_PATH/control.sock: where xmppctl asks the running server to change accounts. Only
// the user xmppd runs as (root in production) may connect: the socket is 0600 and the
// peer's uid is checked. Requests go to the auth helper; its answer goes back.
#pragma once

#include <event2/event.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "admin.pb.h"
#include "common/unique_fd.h"
#include "proto/channel.h"

namespace xmppd::parent {

class AdminSocket {
 public:
  // Forwards a request to the auth helper; false if it is not running.
  using Forward = std::function<bool(const ipc::AccountRequest&)>;

  AdminSocket(struct event_base* base, Forward forward);
  ~AdminSocket();
  bool listen(const std::string& path, std::string& error);
  void answer(const ipc::AccountResult& result);

 private:
  using Client = ipc::TypedChannel<ipc::AdminRequest>;
  static void on_accept(evutil_socket_t, short, void* arg);
  static void on_reap(evutil_socket_t, short, void* arg);
  void accept_one();

  struct event_base* base_;
  Forward forward_;
  std::string path_;
  UniqueFd listener_;
  ipc::EventPtr accept_event_;
  std::uint64_t next_id_ = 1;
  std::map<Client*, std::unique_ptr<Client>> clients_;
  std::map<std::uint64_t, Client*> waiting_;  // request id → who asked
  std::vector<Client*> gone_;
  ipc::EventPtr reap_;
};

}  // namespace xmppd::parent
