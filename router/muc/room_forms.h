// The data forms (XEP-0004) a room reads and writes: the owner's configuration form
// (muc#roomconfig, XEP-0045 §10.2), the nickname registration form (muc#register, §7.10),
// and the limits on what owners and admins submit.
//
// Trust: the forms come from the room's users, checked here field by field; a form that
// fails any check changes nothing.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/muc/room.h"
#include "xml/element.h"

namespace xmppd::router::muc {

inline constexpr std::string_view kDataNs = "jabber:x:data";
inline constexpr std::string_view kRoomConfigFormType = "http://jabber.org/protocol/muc#roomconfig";
inline constexpr std::string_view kRoomInfoFormType = "http://jabber.org/protocol/muc#roominfo";
inline constexpr std::string_view kRegisterFormType = "http://jabber.org/protocol/muc#register";

// Items one muc#admin IQ may carry, and affiliations one room may keep: they bound the work
// one stanza can cause, a room's memory, and the room's first (whole) write to the store.
inline constexpr std::size_t kMaxAdminItems = 100;
inline constexpr std::size_t kMaxAffiliations = 10000;

// A data form as a user submitted it: its type and each field's values, by 'var'.
struct SubmittedForm {
  std::string type;
  std::map<std::string, std::vector<std::string>, std::less<>> fields;

  const std::vector<std::string>* values(std::string_view var) const;
};

// Why a form (or an item of muc#admin) was refused: the stanza error it gets.
struct RequestError {
  std::string_view type;       // "modify", "cancel", "auth", "wait"
  std::string_view condition;  // RFC 6120 §8.3.3
  std::string text;
};

// The fields of <x xmlns='jabber:x:data'/>; a field without 'var', or one given twice, is
// refused.
std::optional<SubmittedForm> read_form(const xml::Element& x, RequestError& refusal);

// The form's FORM_TYPE is `form_type`, or it has none (an instant room's empty submit).
bool form_type_is(const SubmittedForm& form, std::string_view form_type);

// The configuration form of a room as its owner sees it (§10.1.3), with the current values.
xml::Element room_config_form(const RoomConfig& config, const MucOptions& options);

// Applies a submitted configuration form to `config` (fields left out keep their values):
// nullopt when every field was valid, else the refusal, with `config` then unusable.
std::optional<RequestError> apply_room_config(const SubmittedForm& form, const MucOptions& options, RoomConfig& config);

// The service lets owners choose whether their room is archived (muc#roomconfig_enablearchiving).
bool archiving_configurable(const MucOptions& options);

// The nickname registration form (§7.10).
xml::Element register_form();

// Text a person wrote that the room shows to others (a name, a description): UTF-8 without
// control characters other than line breaks and tabs, at most 1023 bytes.
bool valid_display_text(std::string_view text);

}  // namespace xmppd::router::muc
