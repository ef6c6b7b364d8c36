// The vcard_legacy module's storage of vCards (XEP-0054) and its conversion to and from the
// XEP-0084 avatar nodes of the user's PEP service (XEP-0398), split from the module's IQ
// and presence handling (vcard_legacy.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "router/item_store.h"
#include "router/modules/vcard_photo.h"
#include "xml/element.h"

namespace xmppd::router {

class Module;
class ModuleTable;
class PepService;
class Server;

inline constexpr std::string_view kVcardNs = "vcard-temp";
inline constexpr std::string_view kConversionNs = "urn:xmpp:pep-vcard-conversion:0";

class VcardStore {
 public:
  enum class Result { kStored, kMalformed, kTooLarge, kFailed };

  // Follows the avatar nodes of the table's pep module, if it has one, for the users of the
  // hosts that enable both `owner` (vcard_legacy) and pep.
  VcardStore(Server& server, ModuleTable& table, const Module& owner);

  std::optional<xml::Element> get(const std::string& bare);
  // The hex SHA-1 of the stored photo, "" for a vCard without one, nullopt with no vCard.
  std::optional<std::string> photo_hash(const std::string& bare);
  // Stores `vcard` for the user and publishes its photo as the user's avatar; on an error,
  // nothing is stored and `why` says what was wrong.
  Result set(const std::string& bare, const xml::Element& vcard, std::string& why);
  void remove(const std::string& bare);

 private:
  Result store(const std::string& bare, const xml::Element& vcard, const std::string& hash, std::string& why);
  ItemStore::Limits limits() const;
  // Past max_user_vcard_bytes, with `why` said.
  bool over_limit(const xml::Element& vcard, std::string& why);
  Result too_large(std::string& why) const;
  // XEP-0398 §4: the photo of a vCard set becomes the avatar, data first (XEP-0084 §4.2).
  ItemStore::Outcome publish_avatar(const std::string& bare, const VcardPhoto* photo, bool had_photo);
  // XEP-0398 §5: an avatar published by a client becomes the vCard's photo.
  void avatar_changed(const std::string& bare, const xml::Element& metadata);

  // The pep service when the user's host enables it (and `owner_`, for the listener).
  PepService* pep_for(const std::string& bare, bool with_owner = false) const;

  Server& server_;
  const Module& owner_;
  const Module* pep_module_;
  PepService* pep_;
  bool publishing_ = false;  // our own publish comes back through the listener
};

}  // namespace xmppd::router
