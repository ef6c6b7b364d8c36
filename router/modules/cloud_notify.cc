// cloud_notify (XEP-0357), as Prosody's mod_cloud_notify: a client registers the app server
// of its vendor (<enable jid= node=/>), and a message worth waking a phone for that arrives
// while the account has no session to take it (kept offline), or for a session that stream
// management holds while its connection is gone (XEP-0198 hibernation), is announced to the
// app server by a PubSub publish from the account. The app server then wakes the phone,
// whose client logs in (or resumes) and fetches the message itself.
//
// State: registrations in the item store ("push"; at most push_max_devices per account, a
// new one replacing the oldest); in memory, which session enabled which registration (for a
// hibernating session's pushes) and each registration's count of errors from its app server
// (past push_max_errors it is removed), which a restart forgets, as Prosody's does.
// Trust: <enable/> and <disable/> come from the account's own sessions only and are checked in
// push_notification.cc; answers from app servers are matched by Server::request.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/modules/push_notification.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using push::kPushNs;
using push::Registration;

constexpr std::string_view kStore = "push";

class CloudNotify final : public Module {
 public:
  explicit CloudNotify(const ModuleContext& context) : Module("cloud_notify", context.index), server_(context.server) {
    context.table.on_iq(IqScope::kAccount, kPushNs, "enable", *this, [this](const IqRequest& iq) { enable(iq); });
    context.table.on_iq(IqScope::kAccount, kPushNs, "disable", *this, [this](const IqRequest& iq) { disable(iq); });
    Hooks& hooks = context.table.hooks();
    hooks.message_delivered.add(
        *this, [this](const xml::Element& message, const xmpp::Jid& to, std::span<ClientStream* const> targets) {
          delivered(message, to, targets);
        });
    hooks.session_hibernated.add(*this, [this](ClientStream& s) { hibernated(s); });
    hooks.session_ended.add(*this, [this](ClientStream& s) { sessions_.erase(&s); });
    hooks.user_removed.add(*this, [this](const std::string& bare) { removed(bare); });
  }
  // XEP-0357 §4: the account, not the server, says it can push.
  void account_features(std::vector<std::string>& features) const override { features.emplace_back(kPushNs); }

 private:
  PushOptions options(std::string_view domain) const {
    const HostConfig* host = server_.host(domain);
    return host ? host->push : PushOptions{};
  }

  // Only the account's own sessions register their devices.
  bool from_own_session(const IqRequest& iq) {
    if (!iq.set()) {
      server_.bounce(iq.stanza, "modify", "bad-request");
      return false;
    }
    if (iq.session == nullptr || !iq.from_self()) {
      server_.bounce(iq.stanza, "cancel", "forbidden", "Push notifications are enabled by the account itself");
      return false;
    }
    return true;
  }

  void enable(const IqRequest& iq) {
    if (!from_own_session(iq)) return;
    const std::string bare = iq.to.bare();
    auto outcome = push::read_enable(iq.payload, bare, [this](std::string_view d) { return server_.is_local(d); });
    if (!outcome.registration) {
      const push::Refusal& r = outcome.refusal;
      return server_.bounce(iq.stanza, r.type, r.condition, r.text);
    }
    const Registration& reg = *outcome.registration;
    const std::string id = reg.id();
    // As Prosody: past push_max_devices the oldest registration goes.
    ItemStore::Limits limits{.max_items = options(iq.to.domain()).max_devices, .drop_oldest = true};
    if (server_.items().put({bare, kStore, "", id}, reg.serialize(), limits) != ItemStore::Outcome::kStored)
      return server_.bounce(iq.stanza, "wait", "internal-server-error");
    errors_.erase(error_key(bare, id));
    sessions_[iq.session] = id;
    log::info("cloud_notify: %s enabled push notifications to %s", iq.session->full().c_str(), reg.jid.c_str());
    server_.send(xmpp::reply(iq.stanza, "result"));
  }

  // XEP-0357 §6: disabling what is not registered is no error.
  void disable(const IqRequest& iq) {
    if (!from_own_session(iq)) return;
    push::Refusal refusal;
    auto request = push::read_disable(iq.payload, refusal);
    if (!request) return server_.bounce(iq.stanza, refusal.type, refusal.condition, refusal.text);
    const std::string bare = iq.to.bare();
    for (const auto& [id, reg] : registrations(bare))
      if (push::matches(*request, reg)) forget(bare, id);
    server_.send(xmpp::reply(iq.stanza, "result"));
  }

  std::vector<std::pair<std::string, Registration>> registrations(const std::string& bare) {
    std::vector<std::pair<std::string, Registration>> out;
    for (ItemStore::Item& item : server_.items().items(bare, kStore, "")) {
      auto reg = Registration::parse(item.value);
      if (!reg) {
        log::error("cloud_notify: a registration stored for %s does not parse; ignored", bare.c_str());
        continue;
      }
      out.emplace_back(std::move(item.id), std::move(*reg));
    }
    return out;
  }

  void forget(const std::string& bare, const std::string& id) {
    server_.items().remove({bare, kStore, "", id});
    errors_.erase(error_key(bare, id));
    for (auto it = sessions_.begin(); it != sessions_.end();)
      it = it->first->bare() == bare && it->second == id ? sessions_.erase(it) : std::next(it);
  }

  void removed(const std::string& bare) {
    server_.items().remove_store(bare, kStore);
    std::erase_if(errors_, [&bare](const auto& e) { return e.first.starts_with(bare + '\n'); });
  }

  // A message for a local user: kept offline (no targets: every registration of the account),
  // or given to sessions, of which those hibernating push to their own registration.
  void delivered(const xml::Element& message, const xmpp::Jid& to, std::span<ClientStream* const> targets) {
    if (!push::worth_pushing(message)) return;
    const std::string bare = to.bare();
    if (targets.empty()) {
      for (const auto& [id, reg] : registrations(bare)) notify(bare, id, reg, message);
      return;
    }
    for (ClientStream* s : targets)
      if (s->hibernating()) push_for_session(*s, message);
  }

  // XEP-0198: the connection is gone with stanzas still waiting for the session.
  void hibernated(ClientStream& stream) {
    auto it = sessions_.find(&stream);
    if (!push::push_on_hibernation(it != sessions_.end(), stream.queued())) return;
    // The waiting stanzas are not at hand here: the notification says only that there are some.
    xml::Element placeholder(xmpp::kClientNs, "message");
    push_for_session(stream, placeholder);
  }

  void push_for_session(ClientStream& stream, const xml::Element& message) {
    auto it = sessions_.find(&stream);
    if (it == sessions_.end()) return;
    const std::string id = it->second;
    auto value = server_.items().get({stream.bare(), kStore, "", id});
    auto reg = value ? Registration::parse(*value) : std::nullopt;
    if (!reg) {
      sessions_.erase(it);  // disabled meanwhile, or dropped as the oldest
      return;
    }
    notify(stream.bare(), id, *reg, message);
  }

  void notify(const std::string& bare, const std::string& id, const Registration& reg, const xml::Element& message) {
    const std::string domain = bare.substr(bare.find('@') + 1);
    xml::Element iq = push::notification(reg, bare, message, options(domain));
    server_.request(std::move(iq), [this, bare, id, service = reg.jid, domain](const xml::Element* reply) {
      answered(bare, id, service, domain, reply);
    });
  }

  // As Prosody: a result clears the count; an error counts unless it says to wait; past
  // push_max_errors the registration goes. No answer at all (a timeout) is not counted: the
  // link may be what failed.
  void answered(const std::string& bare, const std::string& id, const std::string& service, const std::string& domain,
                const xml::Element* reply) {
    if (reply == nullptr) return;
    const std::string key = error_key(bare, id);
    if (reply->attribute_or("type") == "result") {
      errors_.erase(key);
      return;
    }
    const xml::Element* error = reply->child(xmpp::kClientNs, "error");
    if (error != nullptr && error->attribute_or("type") == "wait") return;
    std::size_t count = ++errors_[key];
    std::size_t max = options(domain).max_errors;
    log::info("cloud_notify: %s answered a notification for %s with an error (%zu of %zu)", service.c_str(),
              bare.c_str(), count, max);
    if (count < max) return;
    log::warning("cloud_notify: push notifications of %s to %s disabled after %zu errors", bare.c_str(),
                 service.c_str(), count);
    forget(bare, id);
  }

  static std::string error_key(const std::string& bare, const std::string& id) { return bare + '\n' + id; }

  Server& server_;
  std::unordered_map<ClientStream*, std::string> sessions_;  // the registration each session enabled
  std::unordered_map<std::string, std::size_t> errors_;      // by error_key
};

}  // namespace

std::unique_ptr<Module> make_cloud_notify(const ModuleContext& context) {
  return std::make_unique<CloudNotify>(context);
}

}  // namespace xmppd::router
