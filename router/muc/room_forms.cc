// The room's data forms: reading what a user submitted, writing the configuration and
// registration forms, and checking each configuration field before anything changes.
#include "router/muc/room_forms.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <functional>
#include <set>

#include "xmpp/jid.h"

namespace xmppd::router::muc {
namespace {

using Options = std::vector<std::pair<std::string, std::string>>;  // value, label

// Prosody's name for muc#roomconfig_allowinvites, which clients written against Prosody send.
constexpr std::string_view kProsodyAllowInvites = "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites";

xml::Element field(std::string_view var, std::string_view type, std::string_view label,
                   const std::vector<std::string>& values = {}, const Options& options = {}) {
  xml::Element out(kDataNs, "field", {{"var", std::string(var)}, {"type", std::string(type)}});
  if (!label.empty()) out.set_attribute("label", std::string(label));
  for (const auto& [value, option_label] : options) {
    xml::Element& option = out.add_child(xml::Element(kDataNs, "option", {{"label", option_label}}));
    option.add_child(xml::Element(kDataNs, "value")).add_text(value);
  }
  for (const std::string& value : values) out.add_child(xml::Element(kDataNs, "value")).add_text(value);
  return out;
}

xml::Element boolean(std::string_view var, std::string_view label, bool value) {
  return field(var, "boolean", label, {value ? "1" : "0"});
}

std::string_view whois_name(Whois whois) { return whois == Whois::kAnyone ? "anyone" : "moderators"; }

constexpr std::pair<WhoMay, std::string_view> kAllowPm[] = {
    {WhoMay::kAnyone, "anyone"},
    {WhoMay::kParticipants, "participants"},
    {WhoMay::kModerators, "moderators"},
    {WhoMay::kNobody, "none"},
};

std::string_view allow_pm_name(WhoMay who) {
  for (const auto& [value, name] : kAllowPm)
    if (value == who) return name;
  return "anyone";
}

// The choices of muc#roomconfig_maxusers: round numbers up to the service's cap, and the
// room's own value.
std::vector<std::size_t> max_users_choices(std::size_t current, std::size_t cap) {
  std::set<std::size_t> choices{current};
  for (std::size_t n : {10, 20, 30, 50, 100, 200, 500, 1000})
    if (cap == 0 || n <= cap) choices.insert(n);
  if (cap != 0) choices.insert(cap);
  return {choices.begin(), choices.end()};
}

RequestError refuse(std::string_view condition, std::string text) {
  return RequestError{"modify", condition, std::move(text)};
}

// The one value of a single-valued field ("" when it has none), or a refusal.
std::optional<RequestError> single(const SubmittedForm& form, std::string_view var, std::optional<std::string>& out) {
  const std::vector<std::string>* values = form.values(var);
  if (values == nullptr) return std::nullopt;
  if (values->size() > 1) return refuse("bad-request", std::string(var) + " takes one value");
  out = values->empty() ? std::string() : values->front();
  return std::nullopt;
}

std::optional<RequestError> read_bool(const SubmittedForm& form, std::string_view var, bool& out) {
  std::optional<std::string> value;
  if (auto refusal = single(form, var, value)) return refusal;
  if (!value) return std::nullopt;
  if (*value == "1" || *value == "true")
    out = true;
  else if (value->empty() || *value == "0" || *value == "false")  // XEP-0004: no value is false
    out = false;
  else
    return refuse("bad-request", std::string(var) + " is a boolean (0 or 1)");
  return std::nullopt;
}

std::optional<RequestError> read_count(const SubmittedForm& form, std::string_view var, std::size_t lowest,
                                       std::size_t highest, std::size_t& out) {
  std::optional<std::string> value;
  if (auto refusal = single(form, var, value)) return refusal;
  if (!value) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (error != std::errc() || end != value->data() + value->size() || value->empty())
    return refuse("bad-request", std::string(var) + " is a number");
  if (n < lowest || n > highest)
    return refuse("not-acceptable",
                  std::string(var) + " must be from " + std::to_string(lowest) + " to " + std::to_string(highest));
  out = static_cast<std::size_t>(n);
  return std::nullopt;
}

std::optional<RequestError> read_text(const SubmittedForm& form, std::string_view var, std::string& out) {
  std::optional<std::string> value;
  if (auto refusal = single(form, var, value)) return refusal;
  if (!value) return std::nullopt;
  if (!valid_display_text(*value))
    return refuse("not-acceptable", std::string(var) + " is too long or has control characters");
  out = std::move(*value);
  return std::nullopt;
}

// muc#roomconfig_maxusers: a number up to the service's cap, or "none" (XEP-0045's
// example form), which is the cap itself (0, no limit, when the service has none).
std::optional<RequestError> read_max_users(const SubmittedForm& form, const MucOptions& options, std::size_t& out) {
  constexpr std::string_view kVar = "muc#roomconfig_maxusers";
  const std::vector<std::string>* values = form.values(kVar);
  if (values != nullptr && values->size() == 1 && (values->front() == "none" || values->front().empty())) {
    out = options.max_occupants();
    return std::nullopt;
  }
  std::size_t cap = options.max_occupants() != 0 ? options.max_occupants() : SIZE_MAX;
  return read_count(form, kVar, 1, cap, out);
}

// A language tag (RFC 5646) in its plain form: letters, digits and hyphens.
std::optional<RequestError> read_language(const SubmittedForm& form, std::string& out) {
  std::optional<std::string> value;
  if (auto refusal = single(form, "muc#roomconfig_lang", value)) return refusal;
  if (!value) return std::nullopt;
  bool plain = value->size() <= 35 && std::all_of(value->begin(), value->end(),
                                                  [](unsigned char c) { return std::isalnum(c) != 0 || c == '-'; });
  if (!plain) return refuse("not-acceptable", "muc#roomconfig_lang is not a language tag");
  out = std::move(*value);
  return std::nullopt;
}

std::optional<RequestError> read_whois(const SubmittedForm& form, Whois& out) {
  std::optional<std::string> value;
  if (auto refusal = single(form, "muc#roomconfig_whois", value)) return refusal;
  if (!value) return std::nullopt;
  if (*value == "anyone")
    out = Whois::kAnyone;
  else if (*value == "moderators")
    out = Whois::kModerators;
  else  // fully anonymous rooms ("none") are not offered, as in Prosody
    return refuse("not-acceptable", "muc#roomconfig_whois is moderators or anyone");
  return std::nullopt;
}

std::optional<RequestError> read_allow_pm(const SubmittedForm& form, WhoMay& out) {
  std::optional<std::string> value;
  if (auto refusal = single(form, "muc#roomconfig_allowpm", value)) return refusal;
  if (!value) return std::nullopt;
  for (const auto& [who, name] : kAllowPm)
    if (name == *value) {
      out = who;
      return std::nullopt;
    }
  return refuse("not-acceptable", "muc#roomconfig_allowpm is anyone, participants, moderators or none");
}

// muc#roomconfig_passwordprotectedroom and muc#roomconfig_roomsecret together: protection
// switched on needs a secret, switched off clears it.
std::optional<RequestError> read_password(const SubmittedForm& form, std::string& password) {
  std::string secret = password;
  std::optional<std::string> value;
  if (auto refusal = single(form, "muc#roomconfig_roomsecret", value)) return refusal;
  if (value) {
    if (!xmpp::valid_text(*value))
      return refuse("not-acceptable", "muc#roomconfig_roomsecret is too long or has control characters");
    secret = std::move(*value);
  }
  bool protect = !secret.empty();
  if (auto refusal = read_bool(form, "muc#roomconfig_passwordprotectedroom", protect)) return refusal;
  if (protect && secret.empty())
    return refuse("not-acceptable", "A password-protected room needs a password (muc#roomconfig_roomsecret)");
  password = protect ? std::move(secret) : std::string();
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>* SubmittedForm::values(std::string_view var) const {
  auto it = fields.find(var);
  return it != fields.end() ? &it->second : nullptr;
}

std::optional<SubmittedForm> read_form(const xml::Element& x, RequestError& refusal) {
  SubmittedForm form;
  form.type = x.attribute_or("type");
  for (const xml::Element* child : x.children()) {
    if (!child->is(kDataNs, "field")) continue;
    std::string var = child->attribute_or("var");
    if (var.empty()) {
      refusal = refuse("bad-request", "A submitted field needs a 'var'");
      return std::nullopt;
    }
    std::vector<std::string> values;
    for (const xml::Element* value : child->children())
      if (value->is(kDataNs, "value")) values.push_back(value->text());
    if (!form.fields.emplace(std::move(var), std::move(values)).second) {
      refusal = refuse("bad-request", "A field is given twice");
      return std::nullopt;
    }
  }
  return form;
}

bool form_type_is(const SubmittedForm& form, std::string_view form_type) {
  const std::vector<std::string>* values = form.values("FORM_TYPE");
  return values == nullptr || (values->size() == 1 && values->front() == form_type);
}

bool archiving_configurable(const MucOptions& options) { return options.mam() && !options.log_all_rooms(); }

bool valid_display_text(std::string_view text) {
  std::string flat(text);
  std::replace_if(
      flat.begin(), flat.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return xmpp::valid_text(flat);
}

xml::Element room_config_form(const RoomConfig& c, const MucOptions& options) {
  xml::Element x(kDataNs, "x", {{"type", "form"}});
  x.add_child(xml::Element(kDataNs, "title")).add_text("Room configuration");
  x.add_child(field("FORM_TYPE", "hidden", "", {std::string(kRoomConfigFormType)}));
  x.add_child(field("muc#roomconfig_roomname", "text-single", "Title", {c.name}));
  x.add_child(field("muc#roomconfig_roomdesc", "text-single", "Description", {c.description}));
  x.add_child(
      field("muc#roomconfig_lang", "text-single", "Language tag for room (e.g. 'en', 'de', 'fr' etc.)", {c.language}));
  x.add_child(
      boolean("muc#roomconfig_persistentroom", "Persistent (room should remain even when it is empty)", c.persistent));
  x.add_child(boolean("muc#roomconfig_publicroom", "Include room information in public lists", c.public_room));
  x.add_child(boolean("muc#roomconfig_membersonly", "Only allow members to join", c.members_only));
  x.add_child(boolean("muc#roomconfig_moderatedroom", "Moderated (require permission to speak)", c.moderated));
  x.add_child(boolean("muc#roomconfig_passwordprotectedroom", "Password protected", !c.password.empty()));
  x.add_child(field("muc#roomconfig_roomsecret", "text-private", "Password", {c.password}));
  x.add_child(field("muc#roomconfig_whois", "list-single", "Addresses (JIDs) of room occupants may be viewed by",
                    {std::string(whois_name(c.whois))}, {{"moderators", "Moderators only"}, {"anyone", "Anyone"}}));
  Options pm;
  for (const auto& [who, name] : kAllowPm) pm.emplace_back(std::string(name), std::string(name));
  x.add_child(field("muc#roomconfig_allowpm", "list-single", "Allow private messages",
                    {std::string(allow_pm_name(c.allow_pm))}, pm));
  Options users;
  for (std::size_t n : max_users_choices(c.max_occupants, options.max_occupants()))
    if (n != 0) users.emplace_back(std::to_string(n), std::to_string(n));
  if (options.max_occupants() == 0) users.emplace_back("none", "No limit");
  std::string max_users = c.max_occupants != 0 ? std::to_string(c.max_occupants) : "none";
  x.add_child(field("muc#roomconfig_maxusers", "list-single", "Maximum number of occupants", {max_users}, users));
  x.add_child(boolean("muc#roomconfig_allowinvites", "Allow members to invite new members", c.allow_invites));
  x.add_child(boolean("muc#roomconfig_changesubject", "Allow anyone to set the room's subject", c.change_subject));
  x.add_child(field("muc#roomconfig_historylength", "text-single",
                    "Maximum number of history messages returned by room", {std::to_string(c.history_length)}));
  if (archiving_configurable(options))
    x.add_child(boolean("muc#roomconfig_enablearchiving", "Archive chat on server", c.archiving));
  return x;
}

std::optional<RequestError> apply_room_config(const SubmittedForm& form, const MucOptions& options, RoomConfig& c) {
  // In the form's order; the first bad field is the answer.
  const std::function<std::optional<RequestError>()> readers[] = {
      [&] { return read_text(form, "muc#roomconfig_roomname", c.name); },
      [&] { return read_text(form, "muc#roomconfig_roomdesc", c.description); },
      [&] { return read_language(form, c.language); },
      [&] { return read_bool(form, "muc#roomconfig_persistentroom", c.persistent); },
      [&] { return read_bool(form, "muc#roomconfig_publicroom", c.public_room); },
      [&] { return read_bool(form, "muc#roomconfig_membersonly", c.members_only); },
      [&] { return read_bool(form, "muc#roomconfig_moderatedroom", c.moderated); },
      [&] { return read_password(form, c.password); },
      [&] { return read_whois(form, c.whois); },
      [&] { return read_allow_pm(form, c.allow_pm); },
      [&] { return read_max_users(form, options, c.max_occupants); },
      [&] { return read_bool(form, "muc#roomconfig_allowinvites", c.allow_invites); },
      [&] { return read_bool(form, kProsodyAllowInvites, c.allow_invites); },
      [&] { return read_bool(form, "muc#roomconfig_changesubject", c.change_subject); },
      [&] {
        return read_count(form, "muc#roomconfig_historylength", 0, options.max_history_messages(), c.history_length);
      },
  };
  for (const auto& read : readers)
    if (std::optional<RequestError> refusal = read()) return refusal;
  if (archiving_configurable(options)) return read_bool(form, "muc#roomconfig_enablearchiving", c.archiving);
  return std::nullopt;
}

xml::Element register_form() {
  xml::Element x(kDataNs, "x", {{"type", "form"}});
  x.add_child(xml::Element(kDataNs, "title")).add_text("Nickname registration");
  x.add_child(xml::Element(kDataNs, "instructions")).add_text("Choose the nickname the room keeps for you");
  x.add_child(field("FORM_TYPE", "hidden", "", {std::string(kRegisterFormType)}));
  x.add_child(field("muc#register_roomnick", "text-single", "Nickname")).add_child(xml::Element(kDataNs, "required"));
  return x;
}

}  // namespace xmppd::router::muc
