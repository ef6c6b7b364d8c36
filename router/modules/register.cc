// register (XEP-0077) after login: a session changes its account's password (§3.3) or
// removes the account (§3.2). Registration before login is the stream's (c2s_stream.cc).
// The auth helper alone changes credentials, and only with the account token it gave the
// session at login (auth-helper/account_tokens.h): this module relays, it decides nothing
// about whose account it is.
#include <set>
#include <string>

#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kRegisterNs = "jabber:iq:register";

// The error type (RFC 6120 §8.3.2) for a condition of an account change.
std::string_view error_type(std::string_view condition) {
  if (condition == "not-acceptable" || condition == "bad-request") return "modify";
  if (condition == "not-authorized") return "auth";
  if (condition == "resource-constraint") return "wait";
  return "cancel";
}

class Register final : public Module {
 public:
  explicit Register(const ModuleContext& context) : Module("register", context.index), server_(context.server) {
    // Clients address it to their server (XEP-0077's examples) or to no one (slixmpp).
    for (IqScope scope : {IqScope::kServer, IqScope::kAccount})
      context.table.on_iq(scope, kRegisterNs, "query", *this, [this](const IqRequest& iq) { handle(iq); });
  }
  void server_features(std::vector<std::string>& features) const override { features.emplace_back(kRegisterNs); }

 private:
  void handle(const IqRequest& iq) {
    // Only a session of the account itself, on its own server: nobody else's account is
    // anyone's to change.
    ClientStream* session = iq.session;
    if (session == nullptr || (iq.to.has_local() ? !iq.from_self() : iq.to.domain() != iq.from.domain()))
      return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    if (!iq.set()) return form(iq, *session);
    if (session->account_token().empty())  // an anonymous host: the helper gave no token
      return server_.bounce(iq.stanza, "cancel", "not-allowed", "Anonymous accounts cannot be changed");
    const bool remove = iq.payload.child(kRegisterNs, "remove") != nullptr;
    const xml::Element* user = iq.payload.child(kRegisterNs, "username");
    const xml::Element* password = iq.payload.child(kRegisterNs, "password");
    if (!remove && (user == nullptr || password == nullptr))
      return server_.bounce(iq.stanza, "modify", "bad-request", "A username and a password, or remove");
    if (!remove) {
      auto prepared = xmpp::prepare_localpart(user->text());
      if (!prepared || *prepared != session->username())
        return server_.bounce(iq.stanza, "auth", "not-authorized", "Not this account's username");
    }
    // One change per session at a time; AuthLink bounds them all together.
    const std::string full = session->full();
    if (!pending_.insert(full).second)
      return server_.bounce(iq.stanza, "wait", "resource-constraint", "One account change at a time");
    // The answer goes to the session's address: if the session is gone, it goes nowhere.
    auto answer = [this, full, request = iq.stanza, remove, bare = session->bare()](const std::string& condition) {
      pending_.erase(full);
      if (!condition.empty()) return server_.bounce(request, error_type(condition), condition);
      server_.send(xmpp::reply(request, "result"));
      if (remove) return server_.user_removed(bare);  // every session, this one too, after its result
      // A password changed ends the account's other logins, as Prosody does: a session
      // opened with the old password (a stolen one) does not outlive it.
      for (ClientStream* other : server_.sessions().resources(bare))
        if (other->full() != full) other->revoked("Password changed");
    };
    if (remove)
      server_.auth().remove_account(session->domain(), session->username(), session->account_token(), std::move(answer));
    else
      server_.auth().change_password(session->domain(), session->username(), session->account_token(),
                                     password->text(), std::move(answer));
  }

  // §3.1 for a registered user: the form says so, with the username.
  void form(const IqRequest& iq, const ClientStream& session) {
    xml::Element result = xmpp::reply(iq.stanza, "result");
    xml::Element& query = result.add_child(xml::Element(kRegisterNs, "query"));
    query.add_child(xml::Element(kRegisterNs, "registered"));
    query.add_child(xml::Element(kRegisterNs, "username")).add_text(session.username());
    query.add_child(xml::Element(kRegisterNs, "password"));
    server_.send(result);
  }

  Server& server_;
  std::set<std::string> pending_;  // full JIDs of the sessions whose change waits for the helper
};

}  // namespace

std::unique_ptr<Module> make_register(const ModuleContext& context) { return std::make_unique<Register>(context); }

}  // namespace xmppd::router
