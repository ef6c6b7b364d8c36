// muc_mam: the archive of a MUC service's rooms (XEP-0313 for rooms, as Prosody's
// mod_muc_mam): each groupchat message with a body is kept in the archive users' messages
// are kept in (router/archive_store.h), owned by the room's bare JID, stamped with the
// room's XEP-0359 stanza-id; whoever may enter the room pages through it with the same
// queries as a user's archive (modules/mam_page.h).
//
// Trust: the message is the room's broadcast (the room checked the sender's role); a
// stanza-id by= the room in it came from the sender and is forged: removed. Queries come from
// anyone: a banned user, or an outsider of a members-only room, is refused.
#include <algorithm>
#include <ctime>

#include "common/log.h"
#include "router/modules/mam_page.h"
#include "router/muc/muc_service.h"
#include "xml/fragment.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";
constexpr std::string_view kDelayNs = "urn:xmpp:delay";
// A stored message is parsed back to be sent on; it was at most a stanza when archived.
constexpr std::size_t kMaxStoredStanza = 1 << 20;

}  // namespace

bool MucService::archived(const muc::Room& room) const {
  return options_.mam() && (room.state().config.archiving || options_.log_all_rooms());
}

void MucService::archive(muc::Room& room, xml::Element& message, const std::string& sender_bare) {
  (void)sender_bare;
  mam::strip_stanza_ids(message, room.jid());
  ArchiveStore* store = server_.archive();
  if (store == nullptr || !archived(room) || message.child(xmpp::kClientNs, "body") == nullptr) return;
  ArchiveStore::Entry e;
  e.owner = room.jid();
  e.id = ArchiveStore::new_id();
  e.with = message.attribute_or("from");  // room@service/nick: the occupant, as it is seen
  e.stamp = std::time(nullptr);
  if (const xml::Element* origin = message.child(mam::kSidNs, "origin-id")) e.origin_id = origin->attribute_or("id");
  message.serialize(e.stanza);
  std::string id = e.id;
  if (!store->append(std::move(e))) return;
  message.add_child(xml::Element(mam::kSidNs, "stanza-id", {{"id", id}, {"by", room.jid()}}));
}

// As Prosody's mod_muc_mam serves history from the archive, but read once, when the room is
// first addressed after a restart: the newest messages it would have kept, with the times
// they were sent (so <delay/>, seconds and since are as before) and their stanza-ids.
// A read that failed, or found muc_mam off (a reload may turn it on), is tried again later,
// unless the room has kept history by then: what the archive holds would come after it.
MucService::Refill MucService::restore_history(muc::Room& room) {
  ArchiveStore* store = server_.archive();
  const std::size_t wanted = std::min<std::size_t>(room.state().config.history_length, options_.max_history_messages());
  if (room.has_history() || wanted == 0) return Refill::kDone;
  if (store == nullptr || !options_.mam()) return Refill::kLater;
  if (!archived(room)) return Refill::kDone;
  std::vector<ArchiveStore::Message> newest;
  if (!store->page(room.jid(), {}, true, wanted, newest)) {
    log::warning("muc: the history of %s cannot be read from its archive; tried again in %lld s: %s",
                 room.jid().c_str(), static_cast<long long>(kHistoryRetrySeconds), store->error().c_str());
    return Refill::kFailed;
  }
  for (auto m = newest.rbegin(); m != newest.rend(); ++m) {
    std::optional<xml::Element> stored = xml::parse_fragment(m->stanza, xmpp::kClientNs, kMaxStoredStanza);
    if (!stored || stored->name() != "message" || stored->child(xmpp::kClientNs, "body") == nullptr) {
      log::error("muc: archived message %s of %s does not parse; left out of its history", m->id.c_str(),
                 room.jid().c_str());
      continue;
    }
    mam::strip_stanza_ids(*stored, room.jid());
    stored->add_child(xml::Element(mam::kSidNs, "stanza-id", {{"id", m->id}, {"by", room.jid()}}));
    room.restore_history(std::move(*stored), m->stamp * 1000);
  }
  return Refill::kDone;
}

// XEP-0313 §4 for a room: those who may enter it may read it (XEP-0045 §7.2.6: not the
// banned; §7.2.7: members-only rooms, members only).
void MucService::mam_query(muc::Room& room, const xml::Element& iq, const xml::Element& query,
                           const xmpp::Jid& from) {
  const muc::Affiliation affiliation = room.affiliation_of(from.bare());
  if (affiliation == muc::Affiliation::kOutcast ||
      (room.state().config.members_only && affiliation < muc::Affiliation::kMember))
    return room.bounce(iq, "auth", "forbidden");
  if (!archived(room)) return room.bounce(iq, "cancel", "service-unavailable");
  if (iq.attribute_or("type") != "set") {
    xml::Element reply = xmpp::reply(iq, "result");
    reply.add_child(xml::Element(mam::kMamNs, "query")).add_child(mam::query_form());
    return send(std::move(reply));
  }
  mam::Query q;
  std::string error;
  if (!mam::parse_query(query, q, error)) return room.bounce(iq, "modify", "bad-request", error);
  ArchiveStore* store = server_.archive();
  // The reads see every message archived so far (as modules/mam.cc's).
  if (store == nullptr || (server_.store().batch_open() && !server_.store().commit()))
    return room.bounce(iq, "wait", "internal-server-error");
  mam::Page page;
  switch (mam::read_page(*store, room.jid(), q, server_.quotas().archive_query_results, page)) {
    case mam::PageError::kFailed: return room.bounce(iq, "wait", "internal-server-error");
    case mam::PageError::kItemNotFound: return room.bounce(iq, "cancel", "item-not-found");
    case mam::PageError::kNone: break;
  }
  for (const ArchiveStore::Message& m : page.messages) {
    std::optional<xml::Element> stored = xml::parse_fragment(m.stanza, xmpp::kClientNs, kMaxStoredStanza);
    if (!stored) {
      log::error("muc: archived message %s of %s does not parse; skipped", m.id.c_str(), room.jid().c_str());
      continue;
    }
    xml::Element out(xmpp::kClientNs, "message", {{"to", from.full()}, {"from", room.jid()}});
    xml::Element& result = out.add_child(xml::Element(mam::kMamNs, "result", {{"id", m.id}}));
    if (!q.queryid.empty()) result.set_attribute("queryid", q.queryid);
    xml::Element& forwarded = result.add_child(xml::Element(kForwardNs, "forwarded"));
    forwarded.add_child(xml::Element(kDelayNs, "delay", {{"stamp", mam::format_datetime(m.stamp)}}));
    forwarded.add_child(std::move(*stored));
    send(std::move(out));
  }
  send(mam::fin_reply(iq, page));
}

}  // namespace xmppd::router
