// The file sharing service (file_share_service.h): its disco, who may upload, the checks of a
// slot request (name, size, type, quotas) and the slot itself.
#include "router/file_share/file_share_service.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

#include "common/log.h"
#include "common/upload_slot.h"
#include "router/disco_info.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using store::Statement;
using store::Value;
using Outcome = UserStore::Outcome;

constexpr std::string_view kInfoNs = kDiscoInfoNs;
constexpr std::string_view kItemsNs = kDiscoItemsNs;
constexpr std::string_view kUploadNs = "urn:xmpp:http:upload:0";
constexpr std::int64_t kDay = 86400;
// Each slot is charged at least a page against the quotas, and one user gets at most so many
// slots a day: tiny requests would otherwise fill the table (and the disk) within the quotas.
constexpr std::uint64_t kMinSlotCharge = 4096;
constexpr std::int64_t kMaxSlotsPerDay = 1000;

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// XEP-0363 §5: a file over the limit says the limit, in the error's application condition.
xml::Element too_large(const xml::Element& iq, std::uint64_t limit) {
  xml::Element out = xmpp::reply(iq, "error");
  xml::Element error(std::string(xmpp::kClientNs), "error", {{"type", "modify"}});
  error.add_child(xml::Element(std::string(xmpp::kStanzaErrorNs), "not-acceptable"));
  error.add_child(xml::Element(std::string(xmpp::kStanzaErrorNs), "text")).add_text("File too large");
  xml::Element& big = error.add_child(xml::Element(kUploadNs, "file-too-large"));
  big.add_child(xml::Element(kUploadNs, "max-file-size")).add_text(std::to_string(limit));
  out.add_child(std::move(error));
  return out;
}

}  // namespace

void FileShareService::receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) {
  // Only IQs to the service itself; errors and results (a bounced answer) end here.
  const std::string type = stanza.attribute_or("type");
  if (stanza.name() != "iq" || (type != "get" && type != "set")) return;
  auto children = stanza.children();
  const xml::Element* payload = children.size() == 1 ? children.front() : nullptr;
  if (to.has_local() || to.has_resource() || payload == nullptr) {
    send(xmpp::error_reply(stanza, "cancel", "service-unavailable"));
  } else if (type == "get" && payload->is(kInfoNs, "query") && payload->attribute("node") == nullptr) {
    disco_info(stanza);
  } else if (type == "get" && payload->is(kItemsNs, "query") && payload->attribute("node") == nullptr) {
    xml::Element reply = xmpp::reply(stanza, "result");
    reply.add_child(xml::Element(kItemsNs, "query"));
    send(std::move(reply));
  } else if (type == "get" && (payload->is(kInfoNs, "query") || payload->is(kItemsNs, "query"))) {
    send(xmpp::error_reply(stanza, "cancel", "item-not-found"));  // XEP-0030: an unknown node
  } else if (type == "get" && payload->is(kUploadNs, "request")) {
    request_slot(stanza, *payload, from);
  } else {
    send(xmpp::error_reply(stanza, "cancel", "service-unavailable"));
  }
}

void FileShareService::disco_info(const xml::Element& iq) {
  // XEP-0128 extended information: the size limit, so that clients need not ask in vain.
  send(DiscoInfo()
           .identity("store", "file", "HTTP File Upload")
           .features({kInfoNs, kItemsNs, kUploadNs})
           .form(kUploadNs, {{"max-file-size", std::to_string(options_.size_limit())}})
           .result(iq));
}

// As Prosody's http_file_share_access: empty, the users of any local VirtualHost; otherwise
// only the JIDs and domains it names (the parent host's users are not added).
bool FileShareService::may_upload(const xmpp::Jid& from) const {
  if (!from.has_local()) return false;
  if (options_.access().empty()) return server_.host(from.domain()) != nullptr;
  const std::string bare = from.bare();
  return std::any_of(options_.access().begin(), options_.access().end(),
                     [&](const std::string& jid) { return jid == bare || jid == from.domain(); });
}

std::string_view FileShareService::over_quota(const std::string& uploader, std::uint64_t size, std::int64_t now,
                                              std::string& text) {
  store::Database& db = server_.store().database();
  std::vector<store::Row> rows;
  const Value user[] = {domain(), uploader, now - kDay};
  if (!db.run(Statement::kUploadUserBytes, user, &rows) || rows.size() != 1) {
    text = "The upload quota cannot be checked now";
    return "internal-server-error";
  }
  const auto used = static_cast<std::uint64_t>(std::max<std::int64_t>(0, store::integer(rows[0], 0)));
  if (used + size > options_.daily_quota()) {
    text = "Daily upload quota reached";
    return "resource-constraint";
  }
  if (store::integer(rows[0], 1) >= kMaxSlotsPerDay) {
    text = "Too many uploads today";
    return "resource-constraint";
  }
  if (options_.global_quota() == 0) return {};
  rows.clear();
  const std::int64_t since = options_.expires_after() != 0 ? now - static_cast<std::int64_t>(options_.expires_after()) : 0;
  const Value service[] = {domain(), since};
  if (!db.run(Statement::kUploadServiceBytes, service, &rows) || rows.size() != 1) {
    text = "The upload quota cannot be checked now";
    return "internal-server-error";
  }
  const auto stored = static_cast<std::uint64_t>(std::max<std::int64_t>(0, store::integer(rows[0], 0)));
  if (stored + size > options_.global_quota()) {
    text = "Global upload quota reached";
    return "resource-constraint";
  }
  return {};
}

void FileShareService::request_slot(const xml::Element& iq, const xml::Element& request, const xmpp::Jid& from) {
  if (!may_upload(from)) {
    send(xmpp::error_reply(iq, "auth", "forbidden", "You are not allowed to upload here"));
    return;
  }
  UploadSlot slot;
  slot.filename = request.attribute_or("filename");
  auto size = parse_size(request.attribute_or("size"));
  // Parameters ("; charset=utf-8") are dropped: the bare type is checked, stored and served.
  slot.content_type = lowercase(request.attribute_or("content-type"));
  slot.content_type = slot.content_type.substr(0, slot.content_type.find(';'));
  while (!slot.content_type.empty() && (slot.content_type.back() == ' ' || slot.content_type.back() == '\t'))
    slot.content_type.pop_back();
  if (slot.content_type.empty()) slot.content_type = "application/octet-stream";
  if (slot.filename.size() > kMaxUploadFilenameBytes) {
    send(xmpp::error_reply(iq, "modify", "bad-request", "File name too long"));
    return;
  }
  if (!valid_upload_filename(slot.filename)) {
    send(xmpp::error_reply(iq, "modify", "bad-request", "Invalid file name"));
    return;
  }
  if (!size || *size == 0) {
    send(xmpp::error_reply(iq, "modify", "bad-request", "Invalid file size"));
    return;
  }
  if (*size > options_.size_limit()) {
    send(too_large(iq, options_.size_limit()));
    return;
  }
  if (!valid_content_type(slot.content_type) ||
      !content_type_allowed(slot.content_type, {options_.allowed_file_types().begin(), options_.allowed_file_types().end()})) {
    send(xmpp::error_reply(iq, "modify", "not-acceptable", "File type not allowed"));
    return;
  }
  slot.size = *size;
  slot.id = new_upload_slot_id();
  slot.service = domain();
  slot.uploader = from.bare();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  // 300 s, or the files' lifetime when that is shorter: an upload may not outlive its file.
  std::int64_t lifetime = kUploadSlotSeconds;
  if (options_.expires_after() != 0) lifetime = std::min(lifetime, static_cast<std::int64_t>(options_.expires_after()));
  slot.expires = now + lifetime;

  std::string text;
  std::string_view refused;
  Outcome outcome = server_.store().atomically("cannot record an upload slot", [&] {
    const std::uint64_t charged = std::max(slot.size, kMinSlotCharge);
    refused = over_quota(slot.uploader, charged, now, text);
    if (!refused.empty()) return Outcome::kOverQuota;
    // The row's size is what the quotas are charged, not the file's.
    const Value row[] = {slot.id, slot.service, slot.uploader, slot.filename, static_cast<std::int64_t>(charged),
                         slot.content_type, now};
    return server_.store().database().run(Statement::kUploadInsert, row) ? Outcome::kStored : Outcome::kFailed;
  });
  if (outcome != Outcome::kStored) {
    if (refused.empty()) refused = "internal-server-error";
    log::info("file_share: %s: slot for %s (%llu bytes) refused: %s", domain().c_str(), slot.uploader.c_str(),
              static_cast<unsigned long long>(slot.size), text.empty() ? "store failed" : text.c_str());
    // RFC 6120 8.3.3.6: internal-server-error is of type cancel; a quota may free up later.
    send(xmpp::error_reply(iq, refused == "internal-server-error" ? "cancel" : "wait", refused, text));
    return;
  }
  const std::string url = options_.base_url() + "file_share/" + slot.id + "/" + percent_encode_segment(slot.filename);
  xml::Element reply = xmpp::reply(iq, "result");
  xml::Element& out = reply.add_child(xml::Element(kUploadNs, "slot"));
  xml::Element& put = out.add_child(xml::Element(kUploadNs, "put", {{"url", url}}));
  put.add_child(xml::Element(kUploadNs, "header", {{"name", "Authorization"}})).add_text("Bearer " + sign_upload_slot(slot, slot_key_));
  out.add_child(xml::Element(kUploadNs, "get", {{"url", url}}));
  log::info("file_share: %s: slot %s for %s (%llu bytes, %s)", domain().c_str(), slot.id.c_str(), slot.uploader.c_str(),
            static_cast<unsigned long long>(slot.size), slot.content_type.c_str());
  send(std::move(reply));
}

void FileShareService::sweep(std::int64_t now) {
  // Rows serve the daily quota for a day and the global quota until the grant expires; with
  // expires_after 0 (files never expire) and a global quota, they are kept for good.
  std::int64_t keep = kDay;
  if (options_.global_quota() != 0) {
    if (options_.expires_after() == 0) return;
    keep = std::max(keep, static_cast<std::int64_t>(options_.expires_after()));
  }
  server_.store().atomically("cannot delete old upload slots", [&] {
    const Value row[] = {domain(), now - keep};
    return server_.store().database().run(Statement::kUploadExpire, row) ? Outcome::kStored : Outcome::kFailed;
  });
}

}  // namespace xmppd::router
