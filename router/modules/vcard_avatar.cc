#include "router/modules/vcard_avatar.h"

#include "common/base64.h"
#include "common/log.h"
#include "router/module_table.h"
#include "router/modules/pep.h"
#include "router/server.h"
#include "xml/fragment.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kStore = "vcard";
constexpr std::string_view kDataNode = "urn:xmpp:avatar:data";
constexpr std::string_view kMetadataNode = "urn:xmpp:avatar:metadata";
constexpr std::size_t kHashBytes = 40;

ItemStore::Key vcard_key(const std::string& bare) { return {bare, kStore, "", "vcard"}; }
ItemStore::Key hash_key(const std::string& bare) { return {bare, kStore, "photo", "hash"}; }

xml::Element text_element(std::string_view ns, std::string name, std::string_view text) {
  xml::Element e(ns, std::move(name));
  e.add_text(text);
  return e;
}

// `vcard` without its PHOTO, with `photo` instead when it is given.
xml::Element with_photo(const xml::Element& vcard, const xml::Element* photo) {
  xml::Element out(vcard.shared_ns(), vcard.name(), vcard.attributes());
  for (const xml::Element* child : vcard.children())
    if (!child->is(kVcardNs, "PHOTO")) out.add_child(*child);
  if (photo != nullptr) out.add_child(*photo);
  return out;
}

}  // namespace

VcardStore::VcardStore(Server& server, ModuleTable& table, const Module& owner)
    : server_(server), owner_(owner), pep_module_(table.find("pep")), pep_(find_pep(table)) {
  if (pep_ == nullptr) return;
  pep_->on_change(
      [this](const std::string& bare, std::string_view node, std::string_view, const xml::Element* payload) {
        if (!publishing_ && node == kMetadataNode && payload != nullptr && pep_for(bare, true) != nullptr)
          avatar_changed(bare, *payload);
      });
}

PepService* VcardStore::pep_for(const std::string& bare, bool with_owner) const {
  if (pep_ == nullptr) return nullptr;
  const HostConfig* host = server_.host(std::string_view(bare).substr(bare.find('@') + 1));
  if (host == nullptr || !pep_module_->enabled(host->modules)) return nullptr;
  if (with_owner && !owner_.enabled(host->modules)) return nullptr;
  return pep_;
}

ItemStore::Limits VcardStore::limits() const {
  ItemStore::Limits limits;
  if (server_.quotas().vcard_bytes > 0) limits.max_bytes = server_.quotas().vcard_bytes + kHashBytes;
  return limits;
}

std::optional<xml::Element> VcardStore::get(const std::string& bare) {
  std::optional<std::string> text = server_.items().get(vcard_key(bare));
  if (!text) return std::nullopt;
  std::string error;
  auto vcard = xml::parse_fragment(*text, kVcardNs, text->size() + 1, &error);
  if (!vcard) log::warning("vcard: the stored vCard of %s does not parse: %s", bare.c_str(), error.c_str());
  return vcard;
}

std::optional<std::string> VcardStore::photo_hash(const std::string& bare) {
  return server_.items().get(hash_key(bare));
}

VcardStore::Result VcardStore::set(const std::string& bare, const xml::Element& vcard, std::string& why) {
  auto photo = vcard_photo(vcard, why);
  if (!photo) return Result::kMalformed;
  if (over_limit(vcard, why)) return Result::kTooLarge;  // before anything is published
  std::optional<std::string> old_hash = photo_hash(bare);
  const std::string hash = *photo ? (*photo)->hash : "";
  // The avatar first: a photo that the PEP service refuses leaves the vCard as it was.
  if (pep_for(bare) != nullptr && (!old_hash || *old_hash != hash)) {
    switch (publish_avatar(bare, *photo ? &**photo : nullptr, old_hash && !old_hash->empty())) {
      case ItemStore::Outcome::kStored:
        break;
      case ItemStore::Outcome::kOverQuota:
        why = "The photo does not fit in the account's PEP storage";
        return Result::kTooLarge;
      case ItemStore::Outcome::kFailed:
        return Result::kFailed;
    }
  }
  return store(bare, vcard, hash, why);
}

VcardStore::Result VcardStore::store(const std::string& bare, const xml::Element& vcard, const std::string& hash,
                                     std::string& why) {
  std::string text;
  vcard.serialize(text);
  const std::size_t max = server_.quotas().vcard_bytes;
  if (max > 0 && text.size() > max) return too_large(why);
  ItemStore& items = server_.items();
  // The vCard and its photo's hash together, or neither.
  ItemStore::Outcome outcome = items.atomically([&] {
    ItemStore::Outcome put = items.put(vcard_key(bare), text, limits());
    return put == ItemStore::Outcome::kStored ? items.put(hash_key(bare), hash, limits()) : put;
  });
  if (outcome == ItemStore::Outcome::kStored) return Result::kStored;
  if (outcome == ItemStore::Outcome::kOverQuota) return too_large(why);
  return Result::kFailed;
}

bool VcardStore::over_limit(const xml::Element& vcard, std::string& why) {
  std::string text;
  vcard.serialize(text);
  const std::size_t max = server_.quotas().vcard_bytes;
  if (max == 0 || text.size() <= max) return false;
  too_large(why);
  return true;
}

VcardStore::Result VcardStore::too_large(std::string& why) const {
  why = "The vCard is larger than this server's limit of " + std::to_string(server_.quotas().vcard_bytes) + " bytes";
  return Result::kTooLarge;
}

void VcardStore::remove(const std::string& bare) { server_.items().remove_store(bare, kStore); }

ItemStore::Outcome VcardStore::publish_avatar(const std::string& bare, const VcardPhoto* photo, bool had_photo) {
  publishing_ = true;
  ItemStore::Outcome outcome = ItemStore::Outcome::kStored;
  xml::Element metadata(kMetadataNode, "metadata");
  if (photo != nullptr && !photo->type.empty()) {
    // Open, as Prosody publishes them: the vCard they come from is readable by anyone.
    outcome = pep_->publish(bare, kDataNode, photo->hash, text_element(kDataNode, "data", photo->base64), "open");
    xml::Element info(kMetadataNode, "info");
    info.set_attribute("bytes", std::to_string(photo->bytes));
    info.set_attribute("id", photo->hash);
    info.set_attribute("type", photo->type);
    metadata.add_child(std::move(info));
  } else if (!had_photo) {
    publishing_ = false;
    return outcome;  // no avatar before, none now
  }
  // An empty metadata says the avatar is gone (XEP-0084 §4.5); its id is then "current".
  const bool with_data = photo != nullptr && !photo->type.empty();
  if (outcome == ItemStore::Outcome::kStored) {
    outcome = pep_->publish(bare, kMetadataNode, with_data ? photo->hash : "current", metadata, "open");
    // Data that no metadata points to would only take the account's PEP space.
    if (outcome != ItemStore::Outcome::kStored && with_data) pep_->retract(bare, kDataNode, photo->hash);
  }
  publishing_ = false;
  return outcome;
}

void VcardStore::avatar_changed(const std::string& bare, const xml::Element& metadata) {
  // The first avatar with its data here (an info without 'url', XEP-0084 §4.2.1).
  const xml::Element* info = nullptr;
  for (const xml::Element* child : metadata.children())
    if (child->is(kMetadataNode, "info") && child->attribute("url") == nullptr && child->attribute("id") != nullptr) {
      info = child;
      break;
    }
  std::optional<xml::Element> old = get(bare);
  if (info == nullptr) {
    if (!old || old->child(kVcardNs, "PHOTO") == nullptr) return;
    std::string why;
    if (store(bare, with_photo(*old, nullptr), "", why) != Result::kStored)
      log::info("vcard: %s: the avatar's removal was not applied to the vCard: %s", bare.c_str(), why.c_str());
    return;
  }
  std::optional<std::string> current = photo_hash(bare);
  if (current && *current == *info->attribute("id")) return;
  std::optional<xml::Element> data = pep_->item(bare, kDataNode, *info->attribute("id"));
  std::optional<std::string> bytes = data ? base64_decode(without_space(data->text())) : std::nullopt;
  if (!bytes || hex_sha1(*bytes) != *info->attribute("id")) {
    log::info("vcard: %s published avatar metadata without matching data; the vCard keeps its photo", bare.c_str());
    return;
  }
  xml::Element photo(kVcardNs, "PHOTO");
  photo.add_child(text_element(kVcardNs, "TYPE", info->attribute_or("type", "image/png")));
  photo.add_child(text_element(kVcardNs, "BINVAL", without_space(data->text())));
  std::string why;
  xml::Element vcard = with_photo(old ? *old : xml::Element(kVcardNs, "vCard"), &photo);
  if (store(bare, vcard, hex_sha1(*bytes), why) != Result::kStored)
    log::info("vcard: %s: the avatar was not applied to the vCard: %s", bare.c_str(), why.c_str());
}

}  // namespace xmppd::router
