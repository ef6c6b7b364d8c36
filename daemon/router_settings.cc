#include "daemon/router_settings.h"

namespace xmppd::parent {

ipc::RouterSettings::HostModules host_modules(const config::HostSettings& host) {
  ipc::RouterSettings::HostModules out;
  out.set_host(host.name);
  for (const std::string& module : host.modules) out.add_modules(module);
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

}  // namespace xmppd::parent
