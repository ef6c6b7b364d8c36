// vcard4 (XEP-0292), as Prosody's mod_vcard4: the vCard4 is item "current" of the user's PEP
// node urn:xmpp:vcard4, and an IQ get or set of <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>
// at the user's bare JID reads or publishes it. Set: the user's own sessions only. Get: whom the
// node's access model allows (created open, as a vcard-temp vCard is readable by anyone;
// otherwise forbidden, as from Prosody). A user with none gets item-not-found, as
// from Prosody; a vCard4 past max_user_vcard_bytes is refused with not-acceptable, as in
// vcard_legacy. Without the pep module it offers nothing. The node goes with the user's PEP
// data when the account is removed (the pep module's user_removed).
#include "common/log.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/modules/pep.h"
#include "router/server.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kVcard4Ns = "urn:ietf:params:xml:ns:vcard-4.0";
constexpr std::string_view kFeature = "urn:xmpp:vcard4";
constexpr std::string_view kNode = "urn:xmpp:vcard4";

class Vcard4 final : public Module {
 public:
  explicit Vcard4(const ModuleContext& context)
      : Module("vcard4", context.index),
        server_(context.server),
        pep_module_(context.table.find("pep")),
        pep_(find_pep(context.table)) {
    if (pep_ == nullptr) return;
    context.table.on_iq(IqScope::kAccount, kVcard4Ns, "vcard", *this, [this](const IqRequest& iq) { answer(iq); });
  }
  void server_features(std::vector<std::string>& features) const override {
    if (pep_ != nullptr) features.emplace_back(kFeature);
  }
  void account_features(std::vector<std::string>& features) const override {
    if (pep_ != nullptr) features.emplace_back(kFeature);
  }

 private:
  void answer(const IqRequest& iq) {
    // The vCard4 is a PEP node: nothing without pep on the user's host.
    const HostConfig* host = server_.host(iq.to.domain());
    if (host == nullptr || !pep_module_->enabled(host->modules))
      return server_.bounce(iq.stanza, "cancel", "service-unavailable");
    if (!iq.set()) return get(iq);
    if (!iq.from_self()) return server_.bounce(iq.stanza, "auth", "forbidden");
    set(iq);
  }

  void get(const IqRequest& iq) {
    std::optional<xml::Element> vcard = pep_->item(iq.to.bare(), kNode, "current");
    if (!vcard || !vcard->is(kVcard4Ns, "vcard")) return server_.bounce(iq.stanza, "cancel", "item-not-found");
    // The node's access model, as a pubsub items request would be judged (Prosody's order:
    // a missing node first, then the reader).
    if (!pep_->may_read(iq.to.bare(), kNode, iq.from.bare())) return server_.bounce(iq.stanza, "auth", "forbidden");
    xml::Element result = xmpp::reply(iq.stanza, "result");
    result.add_child(std::move(*vcard));
    server_.send(result);
  }

  void set(const IqRequest& iq) {
    std::string text;
    iq.payload.serialize(text);
    const std::size_t max = server_.quotas().vcard_bytes;
    if (max > 0 && text.size() > max)
      return server_.bounce(iq.stanza, "modify", "not-acceptable",
                            "The vCard is larger than this server's limit of " + std::to_string(max) + " bytes");
    switch (pep_->publish(iq.to.bare(), kNode, "current", iq.payload, "open")) {
      case ItemStore::Outcome::kStored:
        return server_.send(xmpp::reply(iq.stanza, "result"));
      case ItemStore::Outcome::kOverQuota:
        return server_.bounce(iq.stanza, "modify", "not-acceptable",
                              "The vCard does not fit in the account's PEP storage");
      case ItemStore::Outcome::kFailed:
        return server_.bounce(iq.stanza, "wait", "internal-server-error");
    }
  }

  Server& server_;
  const Module* pep_module_;
  PepService* pep_;  // built before this module (router/modules/modules.cc), or null
};

}  // namespace

std::unique_ptr<Module> make_vcard4(const ModuleContext& context) { return std::make_unique<Vcard4>(context); }

}  // namespace xmppd::router
