// Where a client's stanza goes (RFC 6120 §8, §10; RFC 6121 §8): the server itself, another
// local session, or (with federation) another server.
#pragma once

#include <set>
#include <string>

#include "daemon/auth_link.h"
#include "daemon/local_sessions.h"
#include "daemon/roster.h"
#include "daemon/user_store.h"
#include "xml/element.h"

namespace xmppd::router {

class ClientStream;

class Routing {
 public:
  void set_hosts(std::set<std::string> hosts, std::set<std::string> version_hosts) {
    hosts_ = std::move(hosts);
    version_hosts_ = std::move(version_hosts);
  }
  void set_backends(AuthLink* auth, UserStore* store) {
    auth_ = auth;
    store_ = store;
    im_.set_store(store);
  }
  Im& im() { return im_; }
  // The session sent its initial presence: messages kept while it was offline go to it.
  void became_available(ClientStream& stream);
  void bind(ClientStream& stream, const std::string& resource);
  void unbind(ClientStream& stream);
  void route(ClientStream& from, xml::Element stanza);
  const LocalSessions& sessions() const { return sessions_; }

 private:
  void to_server(ClientStream& from, const xml::Element& stanza, const std::string& host);
  void to_local_user(ClientStream& from, const xml::Element& stanza, const std::string& bare,
                     const std::string& resource);
  bool account_disco(ClientStream& from, const xml::Element& iq, const std::string& bare);
  void message_to_bare(ClientStream& from, const xml::Element& message, const std::string& bare);
  void keep_offline(ClientStream& from, const xml::Element& message, const std::string& bare);
  // Answers with a stanza error, except to an error (RFC 6120 §8.3.1).
  static void bounce(ClientStream& from, const xml::Element& stanza, std::string_view type,
                     std::string_view condition, std::string_view text = {});

  std::set<std::string> hosts_;
  std::set<std::string> version_hosts_;  // XEP-0092 answered (off by default: it tells attackers what runs)
  LocalSessions sessions_;
  AuthLink* auth_ = nullptr;
  UserStore* store_ = nullptr;
  Im im_{sessions_};
};

}  // namespace xmppd::router
