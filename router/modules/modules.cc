#include "router/modules/modules.h"

namespace xmppd::router {

const std::vector<ModuleFactory>& module_factories() {
  static const std::vector<ModuleFactory> kFactories = {
      make_disco,   make_ping,   make_version, make_time, make_uptime, make_roster, make_offline,
      make_server_contact_info, make_register, make_csi_simple, make_smacks, make_turn_external,
      // Before carbons: a message to or from a blocked JID stops before it is copied.
      make_blocklist,
      make_private,
      make_pep,
      // After pep and private, whose services it uses.
      make_bookmarks,
      // After pep, whose service they use.
      make_vcard_legacy,
      make_vcard4,
      // After blocklist (a blocked message is not archived), before carbons (whose sent copies
      // then carry the sender's stanza-id).
      make_mam,
      // Last of the message_sent filters: it delivers a <private/> message itself.
      make_carbons,
      // After the modules that may take a message before it is delivered or kept.
      make_cloud_notify,
  };
  return kFactories;
}

}  // namespace xmppd::router
