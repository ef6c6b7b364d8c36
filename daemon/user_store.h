// The router's store of user data, DATA_PATH/router/user.sqlite: for now the messages that
// wait for users who are offline (XEP-0160). Written durably before the router reads the
// next stanza, so a message accepted is a message kept.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::router {

class UserStore {
 public:
  static std::unique_ptr<UserStore> open(const std::string& path, std::string& error);
  ~UserStore();

  // Keeps `stanza` (serialized) for `bare`, with the time it arrived; its id, or 0.
  std::int64_t store_offline(std::string_view bare, std::string_view stanza, std::int64_t when);
  void delete_offline_message(std::int64_t id);
  struct Offline {
    std::int64_t id;
    std::string stanza;
    std::int64_t when;
  };
  // The messages waiting for `bare`, oldest first.
  std::vector<Offline> offline(std::string_view bare);
  // Forgets them once they are delivered.
  void delete_offline(std::string_view bare, std::int64_t up_to_id);

  // Rosters (RFC 6121 §2) with a version per user (XEP-0237).
  struct RosterItem {
    std::string contact;           // bare JID
    std::string name;
    std::string subscription = "none";  // none, to, from, both
    bool ask = false;              // a subscription request of ours is pending
    std::vector<std::string> groups;
  };
  std::vector<RosterItem> roster(std::string_view bare);
  std::optional<RosterItem> roster_item(std::string_view bare, std::string_view contact);
  // Both return the roster's new version.
  std::int64_t set_roster_item(std::string_view bare, const RosterItem& item);
  std::int64_t remove_roster_item(std::string_view bare, std::string_view contact);
  std::int64_t roster_version(std::string_view bare);

  // Subscription requests that arrived while the user was offline (RFC 6121 §3.1.3).
  void store_subscription_request(std::string_view bare, std::string_view from, std::string_view stanza);
  std::vector<std::string> subscription_requests(std::string_view bare);
  void delete_subscription_request(std::string_view bare, std::string_view from);

 private:
  explicit UserStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);
  std::int64_t bump_version(std::string_view bare);

  sqlite3* db_;
};

}  // namespace xmppd::router
