#include "router/admin_report.h"

#include <openssl/ssl.h>

#include "common/log.h"
#include "common/utf8_text.h"
#include "router/c2s_stream.h"
#include "router/component_stream.h"
#include "router/file_share/file_share_service.h"
#include "router/muc/muc_service.h"
#include "xmpp/jid.h"

namespace xmppd::router {
namespace {

std::uint64_t seconds_between(time_t from, time_t to) { return to > from ? static_cast<std::uint64_t>(to - from) : 0; }

// "available", or the <show/> of the last broadcast presence (RFC 6121 §4.7.2.1).
std::string presence_of(const ClientStream& stream) {
  if (!stream.available()) return "unavailable";
  const xml::Element presence = stream.last_presence();
  const xml::Element* show = presence.child("jabber:client", "show");
  std::string value = show ? show->text() : "";
  for (const char* known : {"away", "chat", "dnd", "xa"})
    if (value == known) return value;
  return "available";
}

// XEP-0198: "off", "on" (acknowledgements only), "resumable", or "hibernating" (the
// connection is gone and the session waits to be resumed).
std::string stream_management_of(const ClientStream& stream) {
  const StreamManagement* sm = stream.stream_management();
  if (stream.hibernating()) return "hibernating";
  if (sm == nullptr) return "off";
  return sm->resumable() ? "resumable" : "on";
}

// The log's "ADDRESS port N" as reports.proto has it: "ADDRESS N".
std::string report_address(std::string address) {
  if (std::size_t at = address.find(" port "); at != std::string::npos) address.replace(at, 6, " ");
  return address;
}

void describe(const ClientStream& stream, time_t now, ipc::C2sSession& out) {
  // Every string here must be valid UTF-8, or the parent cannot parse the answer and kills
  // the router: the JID was prepared (strict UTF-8, xmpp/jid.h), the rest is ours or
  // OpenSSL's ASCII; utf8_prefix keeps it so should a JID ever arrive some other way.
  out.set_jid(utf8_prefix(stream.full()));
  out.set_mechanism(stream.mechanism());
  out.set_stream_management(stream_management_of(stream));
  out.set_presence(presence_of(stream));
  out.set_inactive(stream.filtered());  // XEP-0352: the CSI module filters an inactive client
  const stream::Session* session = stream.session();
  if (session == nullptr) return;  // hibernating: no connection to describe
  out.set_address(report_address(session->peer()));
  if (SSL* ssl = session->ssl(); ssl != nullptr && session->encrypted()) {
    out.set_tls_version(SSL_get_version(ssl));
    if (const char* cipher = SSL_get_cipher_name(ssl)) out.set_cipher(cipher);
  }
  // A WebSocket client's TLS is with the HTTP process, which said which (checked printable
  // ASCII by router/http_link.cc).
  if (const auto& relayed = session->relayed_client()) {
    out.set_tls_version(relayed->tls_version);
    out.set_cipher(relayed->cipher);
    out.set_websocket(true);
  }
  out.set_idle_seconds(seconds_between(session->last_read(), now));
  out.set_age_seconds(seconds_between(session->started_at(), now));
  out.set_direct_tls(session->direct_tls());
}

void show_c2s(const ipc::AdminQuery& query, const LocalSessions& sessions, time_t now,
              const runtime::AdminPages::Send& send) {
  runtime::AdminPages pages(
      query.id(), [](ipc::AdminAnswer& a) { a.mutable_c2s(); }, send);
  const std::string& host = query.show_c2s().host();
  for (const ClientStream* stream : sessions.all()) {
    if (!host.empty() && stream->domain() != host) continue;
    if (!pages.room()) break;
    ipc::C2sSession& entry = *pages.page().mutable_c2s()->add_sessions();
    describe(*stream, now, entry);
    pages.added(entry.ByteSizeLong());
  }
  pages.finish();
}

std::size_t occupants_of(const MucService& service) {
  std::size_t n = 0;
  for (const auto& [jid, room] : service.loaded_rooms()) n += room->occupants().size();
  return n;
}

// Every configured component, by domain: the external ones, the MUC services, the file shares.
void show_components(const ipc::AdminQuery& query, const AdminSubjects& subjects, time_t now,
                     const runtime::AdminPages::Send& send) {
  std::map<std::string, ipc::ComponentReport> reports;
  for (const auto& [domain, tag] : subjects.external.configured()) {
    ipc::ComponentReport& r = reports[domain];
    r.set_kind("external");
    if (const ComponentStream* stream = subjects.external.find(domain)) {
      r.set_connected(true);
      r.set_address(report_address(stream->peer()));
      r.set_connected_seconds(seconds_between(stream->since(), now));
      r.set_stanzas_in(stream->stanzas_in());
      r.set_stanzas_out(stream->stanzas_out());
    }
  }
  for (const auto& [domain, service] : subjects.muc) {
    ipc::ComponentReport& r = reports[domain];
    r.set_kind("muc");
    r.set_rooms(service->rooms());
    r.set_occupants(occupants_of(*service));
  }
  for (const auto& [domain, share] : subjects.file_share) reports[domain].set_kind("http_file_share");
  runtime::AdminPages pages(
      query.id(), [](ipc::AdminAnswer& a) { a.mutable_components(); }, send);
  for (auto& [domain, report] : reports) {
    if (!pages.room()) break;
    report.set_domain(utf8_prefix(domain));  // from the configuration: checked already
    ipc::ComponentReport& entry = *pages.page().mutable_components()->add_components();
    entry = std::move(report);
    pages.added(entry.ByteSizeLong());
  }
  pages.finish();
}

// The rooms in memory of every MUC service, or of one, by JID.
void show_muc(const ipc::AdminQuery& query, const AdminSubjects& subjects, const runtime::AdminPages::Send& send) {
  const std::string& only = query.show_muc().service();
  if (!only.empty() && subjects.muc.find(only) == subjects.muc.end()) {
    ipc::ChildToParent message;
    message.mutable_admin_answer()->set_id(query.id());
    message.mutable_admin_answer()->mutable_done()->set_error(utf8_prefix(only, 200) + ": not a MUC service");
    send(message);
    return;
  }
  runtime::AdminPages pages(
      query.id(), [](ipc::AdminAnswer& a) { a.mutable_rooms(); }, send);
  for (const auto& [domain, service] : subjects.muc) {
    if (!only.empty() && domain != only) continue;
    for (const auto& [jid, room] : service->loaded_rooms()) {
      if (!pages.room()) break;
      const muc::RoomConfig& config = room->state().config;
      ipc::RoomReport& entry = *pages.page().mutable_rooms()->add_rooms();
      // The room's localpart came from a client: prepared (UTF-8), kept so by utf8_prefix.
      entry.set_jid(utf8_prefix(jid));
      entry.set_occupants(room->occupants().size());
      entry.set_persistent(config.persistent);
      entry.set_public_room(config.public_room);
      entry.set_members_only(config.members_only);
      entry.set_password(!config.password.empty());
      entry.set_locked(room->state().locked);
      entry.set_archived(service->archives(*room));
      pages.added(entry.ByteSizeLong());
    }
  }
  pages.finish();
}

ipc::AdminDone kick(const ipc::Kick& kick, const LocalSessions& sessions) {
  ipc::AdminDone done;
  std::optional<xmpp::Jid> jid = xmpp::Jid::parse(kick.jid());
  if (!jid || !jid->has_local()) {
    done.set_error(kick.jid() + ": not a user's JID");
    return done;
  }
  // xml::escape keeps control characters and bad UTF-8: the client would get malformed XML.
  if (!xmpp::valid_text(kick.reason())) {
    done.set_error("the reason is not UTF-8 text without control characters");
    return done;
  }
  std::vector<ClientStream*> targets;
  if (jid->has_resource()) {
    if (ClientStream* one = sessions.find(jid->bare(), jid->resource())) targets.push_back(one);
  } else {
    targets = sessions.resources(jid->bare());
  }
  if (targets.empty()) {
    done.set_error("no session of " + jid->full());
    return done;
  }
  for (ClientStream* stream : targets) {
    log::notice("xmppctl: kicking %s", stream->full().c_str());
    stream->kicked(kick.reason());
  }
  done.set_ok(true);
  done.set_count(static_cast<std::uint32_t>(targets.size()));
  return done;
}

}  // namespace

void answer_admin_query(const ipc::AdminQuery& query, const AdminSubjects& subjects, time_t now,
                        const runtime::AdminPages::Send& send) {
  const LocalSessions& sessions = subjects.sessions;
  ipc::ChildToParent message;
  ipc::AdminAnswer& answer = *message.mutable_admin_answer();
  answer.set_id(query.id());
  switch (query.question_case()) {
    case ipc::AdminQuery::kShowC2S:
      return show_c2s(query, sessions, now, send);
    case ipc::AdminQuery::kShowComponents:
      return show_components(query, subjects, now, send);
    case ipc::AdminQuery::kShowMuc:
      return show_muc(query, subjects, send);
    case ipc::AdminQuery::kKick:
      *answer.mutable_done() = kick(query.kick(), sessions);
      break;
    default:
      answer.mutable_done()->set_error("not a question for the router");
      break;
  }
  send(message);
}

}  // namespace xmppd::router
