// A file sharing service (XEP-0363), Prosody's Component "domain" "http_file_share": it
// grants upload slots; the HTTP process (http/file_share.cc) takes the uploads and serves
// them. The two share only the slot key: a slot is a token signed here
// (common/upload_slot.h) that the HTTP process checks on its own.
//
// Like the MUC service it runs inside the router: it reads only stanzas the router parsed and
// addressed, and holds nothing the router does not hold already (the slot key lets one forge
// slots, i.e. upload within the size limit, which any user of the host may do anyway).
//
// Who may upload is Prosody's rule: with no http_file_share_access, the users of any local
// VirtualHost; with one, only the JIDs and domains it lists.
//
// Each slot granted is a row of the user store (store/file_share_schema.h), so that the daily
// quota (one uploader's bytes, and at most 1000 slots, in 24 hours) and the global quota (the
// bytes of grants not yet expired) hold across restarts; a slot is charged at least 4 KiB.
// sweep() deletes the rows neither needs any more.
//
// Trust: as router/component.h: 'from' is the sender's real address; the request's
// attributes are the client's and are checked here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "control.pb.h"
#include "router/component.h"
#include "router/server.h"

namespace xmppd::router {

class FileShareService final : public Component {
 public:
  FileShareService(Server& server, const ipc::FileShareService& options, std::string slot_key)
      : server_(server), options_(options), slot_key_(std::move(slot_key)) {}
  const std::string& domain() const { return options_.domain(); }
  void configure(const ipc::FileShareService& options, std::string slot_key) {
    options_ = options;
    slot_key_ = std::move(slot_key);
  }
  // Deletes the grants that count for no quota any more (older than a day and than
  // expires_after); the router calls it now and then.
  void sweep(std::int64_t now);

  // Component
  void receive(const xml::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to) override;

 private:
  void disco_info(const xml::Element& iq);
  void request_slot(const xml::Element& iq, const xml::Element& request, const xmpp::Jid& from);
  bool may_upload(const xmpp::Jid& from) const;
  // The condition (and `text`) refusing `size` more bytes for `uploader` now, or empty.
  std::string_view over_quota(const std::string& uploader, std::uint64_t size, std::int64_t now, std::string& text);
  void send(xml::Element stanza) { server_.from_component(std::move(stanza)); }

  Server& server_;
  ipc::FileShareService options_;
  std::string slot_key_;
};

}  // namespace xmppd::router
