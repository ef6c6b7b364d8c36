// One page of an XEP-0313 archive, as a parsed query (mam_query.h) asks for it, read from the
// archive (router/archive_store.h), and the reply that ends it (<fin/> with the XEP-0059 set):
// what a user's archive (modules/mam.cc) and a room's (muc/muc_mam.cc) answer alike.
// Trust: the query came from a client, checked by parse_query; ids it names are looked up,
// never trusted to exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "router/archive_store.h"
#include "router/modules/mam_query.h"
#include "xml/element.h"

namespace xmppd::router::mam {

inline constexpr std::string_view kSidNs = "urn:xmpp:sid:0";

struct Page {
  std::vector<ArchiveStore::Message> messages;  // in the order they are sent
  bool complete = true;
  std::int64_t count = 0;
};

// What stopped a page: an id of the query that is not in the archive, or the database.
enum class PageError { kNone, kItemNotFound, kFailed };

// The page of `owner`'s archive that `query` asks for, at most `limit` messages (a larger
// <max/> is clamped, as Prosody does).
PageError read_page(ArchiveStore& store, const std::string& owner, const Query& query, std::size_t limit, Page& out);

// The IQ result to `iq` that ends the page: <fin complete?><set first last count/></fin>.
xml::Element fin_reply(const xml::Element& iq, const Page& page);

// `message` without the XEP-0359 stanza-ids that claim to be by `by` (forged: only `by`
// stamps its own).
void strip_stanza_ids(xml::Element& message, std::string_view by);

}  // namespace xmppd::router::mam
