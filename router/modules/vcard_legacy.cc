// vcard_legacy (XEP-0054 vcard-temp): a user's vCard, set by the user's own sessions and read
// by anyone at the user's bare JID, as Prosody does; XEP-0153: the SHA-1 of its photo in the
// user's available presence; XEP-0398: the photo kept in step with the XEP-0084 avatar nodes
// of the user's PEP service, both ways (router/modules/vcard_avatar.*).
//
// Store "vcard" holds two items: node "" id "vcard", the vCard as set; node "photo" id
// "hash", the hex SHA-1 of its PHOTO's BINVAL ("" when it has none), so that a presence
// reads 40 bytes, not the photo. A user with no vCard has neither, and their presence is
// left as their client wrote it.
//
// Choices where the XEPs leave one: a get for a user with no vCard answers an empty
// <vCard/> (as Prosody; XEP-0054 §3.1 allows item-not-found too), which clients take as "no
// vCard yet"; a vCard larger than max_user_vcard_bytes is refused with not-acceptable
// (modify): the request itself is unacceptable, whereas resource-constraint (wait) would tell
// the client to try the same again later.
#include "router/modules/vcard_avatar.h"

#include "common/log.h"
#include "router/c2s_stream.h"
#include "router/module_table.h"
#include "router/modules/modules.h"
#include "router/server.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kUpdateNs = "vcard-temp:x:update";

class VcardLegacy final : public Module {
 public:
  explicit VcardLegacy(const ModuleContext& context)
      : Module("vcard_legacy", context.index), server_(context.server), vcards_(context.server, context.table, *this) {
    context.table.on_iq(IqScope::kAccount, kVcardNs, "vCard", *this, [this](const IqRequest& iq) { answer(iq); });
    Hooks& hooks = context.table.hooks();
    hooks.presence_broadcast.add(
        *this, [this](ClientStream& from, xml::Element& presence) { add_photo_hash(from, presence); });
    hooks.user_removed.add(*this, [this](const std::string& bare) { vcards().remove(bare); });
  }
  void server_features(std::vector<std::string>& features) const override {
    features.emplace_back(kVcardNs);
    features.emplace_back(kConversionNs);
  }
  void account_features(std::vector<std::string>& features) const override {
    features.emplace_back(kVcardNs);
    features.emplace_back(kConversionNs);
  }

 private:
  VcardStore& vcards() { return vcards_; }

  void answer(const IqRequest& iq) {
    if (!iq.set()) return get(iq);
    // XEP-0054 §3.2: a user publishes only their own vCard.
    if (!iq.from_self()) return server_.bounce(iq.stanza, "auth", "forbidden");
    set(iq);
  }

  void get(const IqRequest& iq) {
    xml::Element result = xmpp::reply(iq.stanza, "result");
    if (auto stored = vcards().get(iq.to.bare()))
      result.add_child(std::move(*stored));
    else
      result.add_child(xml::Element(kVcardNs, "vCard"));
    server_.send(result);
  }

  void set(const IqRequest& iq) {
    std::string why;
    switch (vcards().set(iq.to.bare(), iq.payload, why)) {
      case VcardStore::Result::kStored:
        return server_.send(xmpp::reply(iq.stanza, "result"));
      case VcardStore::Result::kMalformed:
        return server_.bounce(iq.stanza, "modify", "bad-request", why);
      case VcardStore::Result::kTooLarge:
        return server_.bounce(iq.stanza, "modify", "not-acceptable", why);
      case VcardStore::Result::kFailed:
        return server_.bounce(iq.stanza, "wait", "internal-server-error");
    }
  }

  // XEP-0153 §4.1: the server's hash replaces whatever the client put, so that contacts see
  // the photo that is stored. Unavailable presence, and users with no vCard, are left alone.
  void add_photo_hash(ClientStream& from, xml::Element& presence) {
    if (presence.attribute("type") != nullptr) return;
    std::optional<std::string> hash = vcards().photo_hash(from.bare());
    if (!hash) return;
    xml::Element out(presence.shared_ns(), presence.name(), presence.attributes());
    for (const xml::Element* child : presence.children())
      if (!child->is(kUpdateNs, "x")) out.add_child(*child);
    xml::Element x(kUpdateNs, "x");
    xml::Element photo(kUpdateNs, "photo");
    photo.add_text(*hash);  // empty: "no photo" (XEP-0153 §3.1)
    x.add_child(std::move(photo));
    out.add_child(std::move(x));
    presence = std::move(out);
  }

  Server& server_;
  VcardStore vcards_;  // follows the pep module's avatar nodes from the start
};

}  // namespace

std::unique_ptr<Module> make_vcard_legacy(const ModuleContext& context) {
  return std::make_unique<VcardLegacy>(context);
}

}  // namespace xmppd::router
