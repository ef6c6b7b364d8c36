// The tables of the MUC services (XEP-0045, router/muc/room_store.h), per dialect: applied by
// whoever opens the database (store/schema.cc: SQLite's version 6, PostgreSQL's 3), never sent
// over IPC. Trust: compiled in.
//
// muc_room: one row per persistent room of a service (`service` its domain, `room` the room's
// localpart), its configuration in room_store.cc's text form, its subject and when it was
// made. muc_affiliation: the room's affiliations by bare JID, with the registered nickname
// and the reason given. muc_tombstone: a destroyed persistent room's name, held until
// `expires` (seconds since the epoch) with the owner's reason and alternate venue.
// muc_service: the service's XEP-0421 occupant id key, made once, so that occupant ids stay
// the same across restarts.
#pragma once

#include <array>
#include <string_view>

namespace xmppd::store {

inline constexpr std::array<std::string_view, 4> kMucSqlite = {
    "CREATE TABLE IF NOT EXISTS muc_room (service TEXT NOT NULL, room TEXT NOT NULL, config TEXT NOT NULL, "
    "subject TEXT NOT NULL, subject_nick TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (service, room))",
    "CREATE TABLE IF NOT EXISTS muc_affiliation (service TEXT NOT NULL, room TEXT NOT NULL, jid TEXT NOT NULL, "
    "affiliation TEXT NOT NULL, nick TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (service, room, jid))",
    "CREATE TABLE IF NOT EXISTS muc_tombstone (service TEXT NOT NULL, room TEXT NOT NULL, expires INTEGER NOT NULL, "
    "reason TEXT NOT NULL, alternate TEXT NOT NULL, PRIMARY KEY (service, room))",
    "CREATE TABLE IF NOT EXISTS muc_service (service TEXT PRIMARY KEY, occupant_id_key TEXT NOT NULL)",
};

inline constexpr std::array<std::string_view, 4> kMucPostgres = {
    "CREATE TABLE IF NOT EXISTS muc_room (service TEXT NOT NULL, room TEXT NOT NULL, config TEXT NOT NULL, "
    "subject TEXT NOT NULL, subject_nick TEXT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY (service, room))",
    "CREATE TABLE IF NOT EXISTS muc_affiliation (service TEXT NOT NULL, room TEXT NOT NULL, jid TEXT NOT NULL, "
    "affiliation TEXT NOT NULL, nick TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (service, room, jid))",
    "CREATE TABLE IF NOT EXISTS muc_tombstone (service TEXT NOT NULL, room TEXT NOT NULL, expires BIGINT NOT NULL, "
    "reason TEXT NOT NULL, alternate TEXT NOT NULL, PRIMARY KEY (service, room))",
    "CREATE TABLE IF NOT EXISTS muc_service (service TEXT PRIMARY KEY, occupant_id_key TEXT NOT NULL)",
};

}  // namespace xmppd::store
