#include "daemon/router_settings.h"

namespace xmppd::parent {

ipc::RouterSettings::HostModules host_modules(const config::HostSettings& host) {
  ipc::RouterSettings::HostModules out;
  out.set_host(host.name);
  for (const std::string& module : host.modules) {
    // turn_external without a secret offers nothing (as Prosody's fails to load): not even
    // its disco feature.
    if (module == "turn_external" && host.turn.secret.empty()) continue;
    out.add_modules(module);
  }
  for (const std::string& jid : host.admins) out.add_admins(jid);
  for (const auto& [field, addresses] : host.contact_addresses()) {
    ipc::RouterSettings::HostModules::Contact& contact = *out.add_contact_info();
    contact.set_field(field);
    for (const std::string& address : addresses) contact.add_addresses(address);
  }
  ipc::RouterSettings::HostModules::Push& push = *out.mutable_push();
  push.set_with_body(host.push_notification_with_body);
  push.set_with_sender(host.push_notification_with_sender);
  push.set_max_errors(static_cast<std::uint32_t>(host.push_max_errors));
  push.set_max_devices(static_cast<std::uint32_t>(host.push_max_devices));
  return out;
}

std::optional<ipc::RouterSettings::TurnService> turn_service(const config::HostSettings& host) {
  if (!host.module_enabled("turn_external") || host.turn.secret.empty()) return std::nullopt;
  ipc::RouterSettings::TurnService out;
  out.set_host(host.name);
  out.set_secret(host.turn.secret);
  out.set_turn_host(host.turn.host.empty() ? host.name : host.turn.host);
  out.set_port(static_cast<std::uint32_t>(host.turn.port));
  out.set_ttl(static_cast<std::uint32_t>(host.turn.ttl));
  out.set_tcp(host.turn.tcp);
  out.set_user(host.turn.user);
  out.set_tls_port(static_cast<std::uint32_t>(host.turn.tls_port));
  return out;
}

ipc::RouterSettings::UserQuotas user_quotas(const config::QuotaSettings& q) {
  ipc::RouterSettings::UserQuotas out;
  out.set_offline_messages(q.offline_messages);
  out.set_offline_bytes(q.offline_bytes);
  out.set_pending_subscriptions(q.pending_subscriptions);
  out.set_roster_items(q.roster_items);
  out.set_directed_presences(q.directed_presences);
  out.set_sessions(q.sessions);
  out.set_pep_nodes(q.pep_nodes);
  out.set_pep_items(q.pep_items);
  out.set_pep_bytes(q.pep_bytes);
  out.set_private_bytes(q.private_bytes);
  out.set_vcard_bytes(q.vcard_bytes);
  out.set_blocklist_items(q.blocklist_items);
  out.set_archive_items(q.archive_items);
  out.set_archive_expires_after(q.archive_expires_after);
  out.set_archive_policy(static_cast<std::uint32_t>(q.archive_policy));
  out.set_archive_query_results(q.archive_query_results);
  out.set_archive_cleanup_interval(q.archive_cleanup_interval);
  return out;
}

ipc::RouterSettings::Smacks smacks_settings(const config::SmacksSettings& s) {
  ipc::RouterSettings::Smacks out;
  out.set_hibernation_time(s.hibernation_time);
  out.set_max_unacked_stanzas(s.max_unacked_stanzas);
  out.set_max_ack_delay(s.max_ack_delay);
  out.set_max_hibernated_sessions(s.max_hibernated_sessions);
  out.set_max_queue_size(s.max_queue_size);
  return out;
}

ipc::RouterSettings::MucService muc_service(const config::HostSettings& c, const config::Settings& settings) {
  ipc::RouterSettings::MucService m;
  m.set_domain(c.name);
  const config::HostSettings* parent = nullptr;
  for (const config::HostSettings& h : settings.hosts) {
    bool below = c.name.size() > h.name.size() && c.name.ends_with("." + h.name);
    if (h.enabled && below && (parent == nullptr || h.name.size() > parent->name.size())) parent = &h;
  }
  if (parent != nullptr) {
    m.set_parent_host(parent->name);
    for (const std::string& jid : parent->admins) m.add_admins(jid);
  }
  for (const std::string& jid : c.admins) m.add_admins(jid);
  const config::MucSettings& o = c.muc;
  m.set_restrict_room_creation(o.restrict_room_creation);
  m.set_room_default_public(o.room_default_public);
  m.set_room_default_persistent(o.room_default_persistent);
  m.set_room_default_members_only(o.room_default_members_only);
  m.set_room_default_moderated(o.room_default_moderated);
  m.set_room_default_public_jids(o.room_default_public_jids);
  m.set_room_default_change_subject(o.room_default_change_subject);
  m.set_room_default_allow_member_invites(o.room_default_allow_member_invites);
  m.set_room_default_history_length(static_cast<std::uint32_t>(o.room_default_history_length));
  m.set_max_history_messages(static_cast<std::uint32_t>(o.max_history_messages));
  m.set_room_locking(o.room_locking);
  m.set_room_lock_timeout(static_cast<std::uint32_t>(o.room_lock_timeout));
  m.set_tombstones(o.tombstones);
  m.set_tombstone_expiry(o.tombstone_expiry);
  m.set_max_occupants(static_cast<std::uint32_t>(o.max_occupants));
  m.set_max_rooms_per_user(static_cast<std::uint32_t>(o.max_rooms_per_user));
  m.set_max_rooms(static_cast<std::uint32_t>(o.max_rooms));
  m.set_max_rooms_per_domain(static_cast<std::uint32_t>(o.max_rooms_per_domain));
  m.set_max_nick_length(static_cast<std::uint32_t>(o.max_nick_length));
  m.set_max_subject_length(static_cast<std::uint32_t>(o.max_subject_length));
  m.set_max_char_count(static_cast<std::uint32_t>(o.max_char_count));
  m.set_max_line_count(static_cast<std::uint32_t>(o.max_line_count));
  m.set_event_rate(o.event_rate);
  m.set_burst_factor(o.burst_factor);
  m.set_max_form_bytes(static_cast<std::uint32_t>(o.max_form_bytes));
  m.set_mam(c.module_enabled("muc_mam"));
  m.set_vcard(c.module_enabled("vcard_muc"));
  m.set_log_by_default(o.log_by_default);
  m.set_log_all_rooms(o.log_all_rooms);
  m.set_log_expires_after(o.log_expires_after);
  m.set_enforce_registered_nickname(o.enforce_registered_nickname);
  m.set_s2s(c.module_enabled("s2s"));
  return m;
}

}  // namespace xmppd::parent
