// Prosody's records of one user turned into xmppd's (xmppctl/prosody_user.h). Runs in an
// unprivileged child of xmppctl: the files it reads came from a network-facing Prosody.
#include "xmppctl/prosody_user.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <set>

#include "router/modules/pep_node.h"
#include "router/modules/vcard_photo.h"
#include "xml/element.h"
#include "xml/fragment.h"
#include "xmpp/jid.h"
#include "xmppctl/prosody_data.h"
#include "xmppctl/vcard_from_pep.h"

namespace xmppd::ctl::prosody_import {
namespace {

using prosody::Value;

constexpr std::string_view kClientNs = "jabber:client";
constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kVcardNs = "vcard-temp";
constexpr std::size_t kMaxElementBytes = 1 << 20;  // as the router's largest stored value
constexpr std::size_t kMaxElementDepth = 48;
constexpr std::string_view kSidNs = "urn:xmpp:sid:0";
constexpr std::size_t kMaxArchiveKey = 256;  // a stanza-id or origin-id kept (Prosody's are ~12 bytes)

// "FILE:LINE: message" for a value, collected in `text`. add() returns false, for the
// converters that refuse; the ones that skip add and go on.
struct Problems {
  std::string text;
  bool add(const std::string& path, const Value& at, const std::string& message) {
    text += path + ":" + std::to_string(at.line) + ": " + message + "\n";
    return false;
  }
};

bool is_xml_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool ok =
        std::isalpha(c) || c == '_' || c >= 0x80 || (i > 0 && (std::isdigit(c) || c == '-' || c == '.' || c == ':'));
    if (!ok) return false;
  }
  return true;
}

// Prosody's preserialized stanza ({name=, attr={}, children positionally, strings for text})
// as an element whose namespace is attr.xmlns or, without one, `parent_ns`. On the `top`
// element, the attributes Prosody's archive store adds (stamp) are dropped.
bool build_element(const std::string& path, const Value& v, std::string_view parent_ns, std::size_t depth,
                   xml::Element& out, Problems& problems, bool top) {
  if (depth > kMaxElementDepth) return problems.add(path, v, "elements nested too deeply");
  if (!v.is_table()) return problems.add(path, v, "expected an element (a table)");
  const std::optional<std::string> name = v.text("name");
  if (!name || !is_xml_name(*name) || name->find(':') != std::string::npos)
    return problems.add(path, v, "an element without a valid name");
  const Value* attr = v.get("attr");
  std::string ns(parent_ns);
  if (attr != nullptr) {
    if (!attr->is_table() || !attr->array.empty()) return problems.add(path, *attr, "attr is not a table of strings");
    if (auto x = attr->text("xmlns")) ns = *x;
  }
  xml::Element element(ns, *name);
  if (attr != nullptr) {
    for (const prosody::Entry& e : attr->fields) {
      if (!e.key.is_string() || !e.value.is_string())
        return problems.add(path, e.value, "attr is not a table of strings");
      std::string key = e.key.string;
      if (key == "xmlns" || key.starts_with("xmlns:")) continue;
      if (top && (key == "stamp" || key == "stamp_legacy")) continue;  // the archive's, not the stanza's
      // util.xmppstream writes a namespaced attribute as "NAMESPACE\1NAME".
      if (const std::size_t sep = key.find('\1'); sep != std::string::npos) {
        if (key.substr(0, sep) != kXmlNs) return problems.add(path, e.value, "an attribute in a foreign namespace");
        key = "xml:" + key.substr(sep + 1);
      }
      if (!is_xml_name(key) || (key.find(':') != std::string::npos && !key.starts_with("xml:")))
        return problems.add(path, e.value, "an attribute without a valid name");
      element.set_attribute(key, e.value.string);
    }
  }
  for (const Value& child : v.array) {
    if (child.is_string()) {
      element.add_text(child.string);
      continue;
    }
    xml::Element built("", "x");
    if (!build_element(path, child, ns, depth + 1, built, problems, false)) return false;
    element.add_child(std::move(built));
  }
  out = std::move(element);
  return true;
}

// The element, serialized as the router will store it, and parsed again as the router will
// parse it: text that is not UTF-8, a name XML refuses, anything the router could not read
// back fails here instead.
std::optional<std::string> serialized(const std::string& path, const Value& at, const xml::Element& element,
                                      std::string_view default_ns, Problems& problems) {
  std::string text;
  element.serialize(text, default_ns);
  std::string why;
  if (text.size() > kMaxElementBytes) {
    problems.add(path, at, "an element of more than " + std::to_string(kMaxElementBytes) + " bytes");
    return std::nullopt;
  }
  if (!xml::parse_fragment(text, default_ns, kMaxElementBytes, &why)) {
    problems.add(path, at, "the element is not XML xmppd can keep: " + why);
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> bare_jid(std::string_view text) {
  auto jid = xmpp::Jid::parse(text);
  if (!jid || jid->has_resource()) return std::nullopt;
  return jid->bare();
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int byte = 0;
    for (char c : hex.substr(i, 2)) {
      const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      byte = byte * 16 + d;
    }
    out += static_cast<char>(byte);
  }
  return out;
}

bool convert_account(const RawFile& file, const Value& v, Account& out, Problems& problems) {
  if (!v.is_table()) return problems.add(file.path, v, "expected a table");
  if (auto password = v.text("password")) {  // internal_plain
    if (password->empty()) return problems.add(file.path, v, "an empty password");
    out.password = *password;
    return true;
  }
  const Value* count = v.get("iteration_count");
  auto salt = v.text("salt");
  auto stored = v.text("stored_key");
  auto server = v.text("server_key");
  if (count == nullptr || !salt || !stored || !server)
    return problems.add(file.path, v, "neither password nor iteration_count, salt, stored_key and server_key");
  if (!count->is_number() || count->number != std::floor(count->number) || count->number < auth::kMinIterations ||
      count->number > 0x7fffffff)
    return problems.add(file.path, *count, "iteration_count is not a whole number from 4096 to 2^31-1");
  auto stored_key = from_hex(*stored);
  auto server_key = from_hex(*server);
  const std::size_t size = auth::digest_size(auth::ScramHash::kSha1);
  if (!stored_key || !server_key || stored_key->size() != size || server_key->size() != size)
    return problems.add(file.path, v, "stored_key and server_key are not 40 hexadecimal digits (SHA-1)");
  if (salt->empty()) return problems.add(file.path, v, "an empty salt");
  out.sha1 = auth::ScramCredential{auth::ScramHash::kSha1, *salt, static_cast<std::uint32_t>(count->number),
                                   *stored_key, *server_key};
  return true;
}

// One contact of roster/USER.dat; nullopt (with a warning) when it is skipped.
std::optional<router::UserStore::RosterItem> roster_item(const RawFile& file, const prosody::Entry& e,
                                                         Problems& problems) {
  auto contact = e.key.is_string() ? bare_jid(e.key.string) : std::nullopt;
  if (!contact) {
    problems.add(file.path, e.value, "a roster item for something that is not a bare JID, skipped");
    return std::nullopt;
  }
  if (!e.value.is_table()) {
    problems.add(file.path, e.value, "a roster item that is not a table, skipped");
    return std::nullopt;
  }
  router::UserStore::RosterItem item;
  item.contact = *contact;
  item.name = e.value.text("name").value_or("");
  const std::string subscription = e.value.text("subscription").value_or("none");
  if (subscription != "none" && subscription != "to" && subscription != "from" && subscription != "both") {
    problems.add(file.path, e.value, "subscription \"" + subscription + "\" is not none, to, from or both; skipped");
    return std::nullopt;
  }
  item.subscription = subscription;
  item.ask = e.value.text("ask").value_or("") == "subscribe";
  if (const Value* groups = e.value.get("groups")) {
    if (!groups->is_table()) {
      problems.add(file.path, *groups, "groups is not a table; the item is kept without groups");
      return item;
    }
    for (const prosody::Entry& g : groups->fields) {
      if (g.key.is_string() && !g.key.string.empty() && g.key.string.size() <= 1024)
        item.groups.push_back(g.key.string);
      else
        problems.add(file.path, g.value, "a group without a name, skipped");
    }
  }
  return item;
}

// Prosody's roster[false].version: a number it bumps per change (a string with some modules).
void roster_version(const Value& meta, UserData& out) {
  const Value* version = meta.is_table() ? meta.get("version") : nullptr;
  if (version == nullptr) return;
  std::int64_t n = 0;
  if (version->is_number() && std::isfinite(version->number) && version->number >= 0 && version->number < 1e15)
    n = static_cast<std::int64_t>(version->number);
  else if (version->is_string() && !version->string.empty() && version->string.size() < 16 &&
           std::all_of(version->string.begin(), version->string.end(), [](char c) { return c >= '0' && c <= '9'; }))
    n = std::stoll(version->string);
  out.roster_version = n;
}

void convert_roster(const RawFile& file, const Value& v, const std::string& bare, UserData& out, Problems& problems) {
  if (!v.is_table() || !v.array.empty()) {
    problems.add(file.path, v, "expected a table of contacts; the roster is skipped");
    return;
  }
  for (const prosody::Entry& e : v.fields) {
    if (e.key.is_boolean() && !e.key.boolean) {  // [false]: version and pending requests
      roster_version(e.value, out);
      const Value* pending = e.value.is_table() ? e.value.get("pending") : nullptr;
      if (pending == nullptr) continue;
      if (!pending->is_table()) {
        problems.add(file.path, *pending, "pending is not a table; the pending requests are skipped");
        continue;
      }
      for (const prosody::Entry& p : pending->fields) {
        auto from = p.key.is_string() ? bare_jid(p.key.string) : std::nullopt;
        if (!from) {
          problems.add(file.path, p.value, "a pending request from something that is not a bare JID, skipped");
          continue;
        }
        xml::Element request(kClientNs, "presence");
        request.set_attribute("from", *from);
        request.set_attribute("to", bare);
        request.set_attribute("type", "subscribe");
        std::string text;
        request.serialize(text, kClientNs);
        out.requests.emplace_back(*from, std::move(text));
      }
      continue;
    }
    if (auto item = roster_item(file, e, problems)) out.roster.push_back(std::move(*item));
  }
}

std::string utc_stamp(double when) {
  std::time_t t = static_cast<std::time_t>(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return stamp;
}

// A stanza-id as clients send it back in queries: printable ASCII, no space.
bool is_id_text(std::string_view id) {
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool valid_when(const Value* when) {
  return when != nullptr && when->is_number() && std::isfinite(when->number) && when->number >= 0 &&
         when->number < 253402300800.0;  // before year 10000
}

// Why an archived item's key or time cannot be kept (a key is remembered once seen), or null:
// the checks a user's archive and a room's share.
const char* archived_key_problem(const std::optional<std::string>& key, const Value* when,
                                 std::set<std::string, std::less<>>& keys) {
  if (!key || key->empty() || key->size() > kMaxArchiveKey || !is_id_text(*key))
    return "an archived message without a valid key";
  if (!keys.insert(*key).second) return "an archived message whose key repeats";
  if (!valid_when(when)) return "an archived message without a valid \"when\"";
  return nullptr;
}

// Each bad message is skipped: anyone can send one to an offline user.
void convert_offline(const RawFile& file, const std::vector<Value>& items, const std::string& host, UserData& out,
                     Problems& problems) {
  for (const Value& item : items) {
    xml::Element message("", "x");
    if (!build_element(file.path, item, kClientNs, 0, message, problems, true)) continue;
    if (message.name() != "message" || message.ns() != kClientNs) {
      problems.add(file.path, item, "an offline item that is not a message");
      continue;
    }
    const Value* when = item.get("when");
    if (!valid_when(when)) {
      problems.add(file.path, item, "an offline message without a valid \"when\"");
      continue;
    }
    xml::Element delay("urn:xmpp:delay", "delay");
    delay.set_attribute("from", host);
    delay.set_attribute("stamp", utc_stamp(when->number));
    message.add_child(std::move(delay));
    auto text = serialized(file.path, item, message, kClientNs, problems);
    if (text) out.offline.push_back({std::move(*text), static_cast<std::int64_t>(when->number)});
  }
}

// mod_mam's items: the stanza as preserialized, with key, when and with beside it (and the
// stamp attribute, dropped). Each bad message is skipped: others wrote them.
void convert_archive(const RawFile& file, const std::vector<Value>& items, UserData& out, Problems& problems) {
  std::set<std::string, std::less<>> keys;
  for (const Value& item : items) {
    xml::Element message("", "x");
    if (!build_element(file.path, item, kClientNs, 0, message, problems, true)) continue;
    const std::optional<std::string> key = item.text("key");
    const std::optional<std::string> with = item.text("with");
    const Value* when = item.get("when");
    auto with_jid = with ? xmpp::Jid::parse(*with) : std::nullopt;
    if (message.name() != "message" || message.ns() != kClientNs) {
      problems.add(file.path, item, "an archived item that is not a message");
    } else if (const char* why = archived_key_problem(key, when, keys)) {
      problems.add(file.path, item, why);
    } else if (!with_jid) {
      problems.add(file.path, item, "an archived message without a valid \"with\"");
    } else if (auto text = serialized(file.path, item, message, "", problems)) {  // as mam.cc: with its xmlns
      std::string origin;
      if (const xml::Element* o = message.child(kSidNs, "origin-id")) origin = o->attribute_or("id");
      if (origin.size() > kMaxArchiveKey) origin.clear();
      out.archive.push_back({*key, with_jid->bare(), std::move(origin), std::move(*text),
                             static_cast<std::int64_t>(when->number)});
    }
  }
}

// A room's message as xmppd's muc_mam stores it: no 'to', no muc#user <x/> (the real JID
// Prosody stored for a non-anonymous room, which xmppd does not keep).
xml::Element room_message(const xml::Element& message) {
  xml::Element::Attributes attributes;
  for (const auto& [name, value] : message.attributes())
    if (name != "to") attributes.emplace_back(name, value);
  xml::Element out(message.shared_ns(), message.name(), std::move(attributes));
  for (const xml::Element* child : message.children())
    if (!child->is("http://jabber.org/protocol/muc#user", "x")) out.add_child(*child);
  return out;
}

void convert_room_item(const RawFile& file, const Value& item, std::string_view room_jid,
                       std::set<std::string, std::less<>>& keys, std::vector<ArchivedMessage>& out,
                       Problems& problems) {
  const std::optional<std::string> with = item.text("with");
  if (with && !with->starts_with("message<")) return;  // presence, when muc_log_presences was on
  xml::Element message("", "x");
  if (!build_element(file.path, item, kClientNs, 0, message, problems, true)) return;
  const std::optional<std::string> key = item.text("key");
  const Value* when = item.get("when");
  auto from = xmpp::Jid::parse(message.attribute_or("from"));
  if (message.name() != "message" || message.ns() != kClientNs) {
    problems.add(file.path, item, "an archived item that is not a message");
  } else if (message.child(kClientNs, "body") == nullptr) {
    return;  // xmppd archives a room's messages with a body only
  } else if (const char* why = archived_key_problem(key, when, keys)) {
    problems.add(file.path, item, why);
  } else if (!from || from->bare() != room_jid || !from->has_resource()) {
    problems.add(file.path, item, "an archived message not from an occupant of the room");
  } else if (auto text = serialized(file.path, item, room_message(message), "", problems)) {
    std::string origin;
    if (const xml::Element* o = message.child(kSidNs, "origin-id")) origin = o->attribute_or("id");
    if (origin.size() > kMaxArchiveKey) origin.clear();
    out.push_back({*key, from->full(), std::move(origin), std::move(*text), static_cast<std::int64_t>(when->number)});
  }
}

bool convert_vcard(const RawFile& file, const Value& v, UserData& out, Problems& problems) {
  xml::Element vcard("", "x");
  if (!build_element(file.path, v, kVcardNs, 0, vcard, problems, false)) return false;
  if (!vcard.is(kVcardNs, "vCard")) return problems.add(file.path, v, "not a vcard-temp <vCard/>");
  auto text = serialized(file.path, v, vcard, "", problems);
  if (!text) return false;
  // The hash the router keeps beside the vCard, computed as the router does.
  std::string why;
  auto photo = router::vcard_photo(vcard, why);
  if (!photo) return problems.add(file.path, v, "the PHOTO's BINVAL is not base64");
  if (*photo) out.vcard_photo_hash = (*photo)->hash;
  out.vcard = std::move(*text);
  return true;
}

void convert_private(const RawFile& file, const Value& v, UserData& out, Problems& problems) {
  if (!v.is_table() || !v.array.empty()) {
    problems.add(file.path, v, "expected a table of elements; the private XML is skipped");
    return;
  }
  for (const prosody::Entry& e : v.fields) {
    xml::Element element("", "x");
    if (!build_element(file.path, e.value, "", 0, element, problems, false)) continue;
    if (element.ns().empty()) {
      problems.add(file.path, e.value, "a private element without a namespace");
      continue;
    }
    auto text = serialized(file.path, e.value, element, "", problems);
    if (text) out.private_elements.emplace_back(std::string(element.ns()), element.name(), std::move(*text));
  }
}

// Prosody's access model as xmppd's. xmppd's "roster" lets every contact in; Prosody's lets in
// only roster_groups_allowed, which xmppd cannot keep yet, and xmppd drops whitelist members
// and has no authorize: each of those becomes owner-only (whitelist), narrowed, never widened.
std::string access_model(const RawFile& file, const Value& config, const Value& node, Problems& problems) {
  const std::optional<std::string> access = config.text("access_model");
  if (!access || *access == "presence" || *access == "open") return access.value_or("presence");
  if (*access == "roster") {
    problems.add(file.path, config,
                 "access_model \"roster\" (with roster groups) imported as whitelist: only the owner can read "
                 "the node until its access model is set again");
  } else if (*access == "whitelist") {
    const Value* affiliations = node.get("affiliations");
    if (affiliations != nullptr && affiliations->is_table() && affiliations->fields.size() > 1)
      problems.add(file.path, *affiliations, "the node's whitelist is not imported: only the owner can read it");
  } else {
    problems.add(file.path, config,
                 "access_model \"" + access->substr(0, 64) + "\" imported as whitelist: only the owner can read it");
  }
  return "whitelist";
}

// pep/USER.dat: node -> {config = {access_model=, max_items=, persist_items=}, ...}. A bad
// node is skipped.
void convert_pep_nodes(const RawFile& file, const Value& v, UserData& out, Problems& problems) {
  if (!v.is_table()) {
    problems.add(file.path, v, "expected a table of nodes; PEP is skipped");
    return;
  }
  for (const prosody::Entry& e : v.fields) {
    if (!e.key.is_string() || e.key.string.empty() || e.key.string.size() > 1024) {
      problems.add(file.path, e.value, "a node without a name, skipped");
      continue;
    }
    if (!e.value.is_table()) {
      problems.add(file.path, e.value, "a node that is not a table, skipped");
      continue;
    }
    router::pep::NodeConfig config;
    if (const Value* c = e.value.get("config"); c != nullptr && c->is_table()) {
      config.access_model = access_model(file, *c, e.value, problems);
      if (const Value* max = c->get("max_items"); max != nullptr) {
        if (max->is_number() && max->number >= 1 && max->number <= 1e6 && max->number == std::floor(max->number))
          config.max_items = static_cast<std::size_t>(max->number);
        else if (max->is_string() && max->string == "max")
          config.max_items = 256;  // Prosody's pep_max_items
        else
          problems.add(file.path, *max,
                       "max_items is neither a whole number from 1 to 1000000 nor \"max\"; kept at " +
                           std::to_string(config.max_items));
      }
      if (const Value* persist = c->get("persist_items"); persist != nullptr && persist->is_boolean())
        config.persist_items = persist->boolean;
    }
    out.pep.push_back({e.key.string, config.serialize(), config.max_items, {}});
  }
}

// pep_NODE/USER.list: the items, oldest first; each the payload with key (the item id).
void convert_pep_items(const RawFile& file, const std::vector<Value>& items, PepNode& node, Problems& problems) {
  for (const Value& item : items) {
    auto id = item.text("key");
    if (!id || id->empty() || id->size() > 1024) {
      problems.add(file.path, item, "an item without an id (key), skipped");
      continue;
    }
    xml::Element payload("", "x");
    if (!build_element(file.path, item, "", 0, payload, problems, true)) continue;
    if (payload.ns().empty()) {
      problems.add(file.path, item, "an item payload without a namespace, skipped");
      continue;
    }
    auto text = serialized(file.path, item, payload, "", problems);
    if (!text) continue;
    std::erase_if(node.items, [&](const auto& kept) { return kept.first == *id; });
    node.items.emplace_back(*id, std::move(*text));
  }
  // As the node would have kept them: its newest max_items.
  if (node.items.size() > node.max_items)
    node.items.erase(node.items.begin(), node.items.end() - static_cast<std::ptrdiff_t>(node.max_items));
}

// No vcard/USER.dat but a vCard in PEP (Prosody's mod_vcard_legacy): the vcard-temp view of it,
// stored with its photo's hash as the router would store it (xmppctl/vcard_from_pep.h).
void vcard_temp_from_pep(const std::string& pep_path, UserData& out, Problems& problems) {
  std::string why;
  std::optional<xml::Element> vcard = vcard_from_pep(out.pep, why);
  for (std::size_t start = 0, end; (end = why.find('\n', start)) != std::string::npos; start = end + 1)
    problems.text += pep_path + ": " + why.substr(start, end - start + 1);
  if (!vcard) return;
  std::string text;
  vcard->serialize(text);
  auto photo = router::vcard_photo(*vcard, why);
  if (!photo || text.size() > kMaxElementBytes) {
    problems.text += pep_path + ": the vCard built from the vcard4 and avatar nodes is not one xmppd keeps, skipped\n";
    return;
  }
  if (*photo) out.vcard_photo_hash = (*photo)->hash;
  out.vcard = std::move(text);
}

}  // namespace

std::optional<Account> convert_account(const RawFile& file, std::string& error) {
  Problems problems;
  Account out;
  auto value = prosody::parse_dat(file.path, file.bytes, error);
  if (!value) return std::nullopt;
  if (!convert_account(file, *value, out, problems)) {
    error = problems.text;
    return std::nullopt;
  }
  return out;
}

std::vector<ArchivedMessage> convert_room_log(const RawFile& file, std::string_view room_jid, std::string& warnings) {
  std::vector<ArchivedMessage> out;
  std::string why;
  auto items = prosody::parse_list(file.path, file.bytes, why);
  if (!items) {
    warnings += why + " (the file is skipped)\n";
    return out;
  }
  Problems problems;
  std::set<std::string, std::less<>> keys;
  for (const Value& item : *items) convert_room_item(file, item, room_jid, keys, out, problems);
  warnings += problems.text;
  return out;
}

UserData convert_data(const std::string& user, const std::string& host, const RawUser& files, std::string& warnings) {
  UserData out;
  Problems problems;
  const std::string bare = user + "@" + host;
  std::map<std::string, std::vector<Value>> lists;
  for (const auto& [store, file] : files) {
    if (store == "accounts") continue;
    std::string why;
    if (file.list) {
      auto items = prosody::parse_list(file.path, file.bytes, why);
      if (items)
        lists.emplace(store, std::move(*items));
      else
        problems.text += why + " (the file is skipped)\n";
      continue;
    }
    auto value = prosody::parse_dat(file.path, file.bytes, why);
    if (!value)
      problems.text += why + " (the file is skipped)\n";
    else if (store == "roster")
      convert_roster(file, *value, bare, out, problems);
    else if (store == "vcard")
      convert_vcard(file, *value, out, problems);
    else if (store == "private")
      convert_private(file, *value, out, problems);
    else if (store == "pep")
      convert_pep_nodes(file, *value, out, problems);
  }
  if (auto archive = lists.find("archive"); archive != lists.end())
    convert_archive(files.at("archive"), archive->second, out, problems);
  if (auto offline = lists.find("offline"); offline != lists.end())
    convert_offline(files.at("offline"), offline->second, host, out, problems);
  for (PepNode& node : out.pep)
    if (auto items = lists.find("pep_" + node.node); items != lists.end())
      convert_pep_items(files.at(items->first), items->second, node, problems);
  if (!out.vcard && !out.pep.empty()) vcard_temp_from_pep(files.at("pep").path, out, problems);
  warnings = std::move(problems.text);
  return out;
}

}  // namespace xmppd::ctl::prosody_import
