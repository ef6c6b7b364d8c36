// DATA_PATH/control.sock: where xmppctl asks the running server (admin.proto). Only the
// user xmppd runs as (root in production) may connect: the socket is 0600 and the peer's
// uid is checked. Every request goes to the parent (Ask), which answers it itself or through
// a child (daemon/admin_queries.h tracks those questions).
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
  using ClientId = std::uint64_t;
  // A request of a client; answered with respond(), at once or later.
  using Ask = std::function<void(ClientId client, const ipc::AdminRequest& request)>;
  // The client closed its connection: its open questions need no answer.
  using Gone = std::function<void(ClientId client)>;

  // Records to xmppctl: a child's answer page (at most runtime::kChildToParent) with a few
  // bytes of envelope.
  static constexpr std::size_t kMaxAnswerRecord = (64 << 10) + 1024;

  AdminSocket(struct event_base* base, Ask ask, Gone gone);
  ~AdminSocket();
  bool listen(const std::string& path, std::string& error);
  // False if the client is gone or the record cannot be sent.
  bool respond(ClientId client, const ipc::AdminResponse& response);
  // Ends a client's connection (an answer that could not be sent): xmppctl sees it at once.
  void close(ClientId client);

 private:
  using Client = ipc::TypedChannel<ipc::AdminRequest>;
  static void on_accept(evutil_socket_t, short, void* arg);
  static void on_reap(evutil_socket_t, short, void* arg);
  void accept_one();

  struct event_base* base_;
  Ask ask_;
  Gone gone_notice_;
  std::string path_;
  UniqueFd listener_;
  ipc::EventPtr accept_event_;
  ClientId next_client_ = 1;
  std::map<ClientId, std::unique_ptr<Client>> clients_;
  std::vector<ClientId> gone_;
  ipc::EventPtr reap_;
};

}  // namespace xmppd::parent
