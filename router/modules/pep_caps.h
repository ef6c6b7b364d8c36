// Who wants which PEP nodes (XEP-0163 §4.3.1 filtered notifications): the XEP-0115 caps of
// the clients whose presence the server sees, the local users' sessions and their remote
// contacts' clients, each resolved to the "+notify" features of its disco#info, learnt once
// per verification string and cached (bounded).
//
// Only presences with caps cost anything: a client without them is not followed.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "router/server.h"
#include "xml/element.h"
#include "xmpp/jid.h"

namespace xmppd::router::pep {

class Interests {
 public:
  // Told when the nodes a client (`full`) wants are learnt or change, for `owner`, the local
  // user who saw its presence (the client's own user, for a local session): its last items
  // are then due (XEP-0163 §4.3.3).
  using Learnt = std::function<void(const xmpp::Jid& full, const std::string& owner)>;
  Interests(Server& server, Learnt learnt) : server_(server), learnt_(std::move(learnt)) {}

  // An available or unavailable presence of `from` (a full JID) seen by local user `owner`.
  void presence(const xml::Element& presence, const xmpp::Jid& from, const std::string& owner);
  // Whether any client of `bare` is followed: a presence without caps from one that is not
  // costs nothing more.
  bool follows(std::string_view bare) const { return !clients_.empty() && clients_.find(bare) != clients_.end(); }
  // A local session ended, or an account went: what was followed for it goes.
  void forget(const xmpp::Jid& full);
  void forget_owner(const std::string& owner);
  // Whether the client `full` wants notifications of `node`, as seen by `owner` (null: by
  // anyone; a local session, whose contacts the roster says).
  bool wants(const xmpp::Jid& full, std::string_view node, const std::string* owner) const;
  // The clients of `bare` that `owner` saw and that want `node`.
  std::vector<xmpp::Jid> wanting(const std::string& bare, std::string_view node, const std::string& owner) const;

 private:
  using Nodes = std::shared_ptr<const std::set<std::string, std::less<>>>;
  struct Client {
    Nodes nodes;                   // null while the disco#info query is out
    std::string ver;
    std::set<std::string> owners;  // local users who saw its presence
  };
  void resolve(const xmpp::Jid& full, const std::string& owner, const std::string& node, const std::string& ver,
               const std::string& hash);
  void resolved(const std::string& ver, const std::string& hash, const xml::Element* reply,
                const std::string& full);
  const Client* find(const xmpp::Jid& full) const;

  Server& server_;
  Learnt learnt_;
  // By bare JID, then resource.
  std::map<std::string, std::map<std::string, Client>, std::less<>> clients_;
  std::size_t count_ = 0;
  std::map<std::string, Nodes, std::less<>> cache_;  // verification string -> nodes
  std::set<std::string> querying_;                   // verification strings asked for
};

}  // namespace xmppd::router::pep
