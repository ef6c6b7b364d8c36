// The router's store of user data, DATA_PATH/router/user.sqlite: for now the messages that
// wait for users who are offline (XEP-0160). Written durably before the router reads the
// next stanza, so a message accepted is a message kept.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::router {

class UserStore {
 public:
  static std::unique_ptr<UserStore> open(const std::string& path, std::string& error);
  ~UserStore();

  // Keeps `stanza` (serialized) for `bare`, with the time it arrived.
  bool store_offline(std::string_view bare, std::string_view stanza, std::int64_t when);
  struct Offline {
    std::int64_t id;
    std::string stanza;
    std::int64_t when;
  };
  // The messages waiting for `bare`, oldest first.
  std::vector<Offline> offline(std::string_view bare);
  // Forgets them once they are delivered.
  void delete_offline(std::string_view bare, std::int64_t up_to_id);

 private:
  explicit UserStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);

  sqlite3* db_;
};

}  // namespace xmppd::router
