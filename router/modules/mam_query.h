// What an XEP-0313 query asks (urn:xmpp:mam:2): the data form's filters and the XEP-0059
// result set's paging, read from a client's <query/> and checked, and XEP-0082 dates.
// Everything here comes from a client: each field is checked, and a query that cannot be
// answered as asked is refused whole (bad-request), never half applied. A library of its own,
// apart from the router, so that a unit test and a fuzz target link it alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.h"

namespace xmppd::router::mam {

inline constexpr std::string_view kMamNs = "urn:xmpp:mam:2";
inline constexpr std::string_view kMamExtendedNs = "urn:xmpp:mam:2#extended";
inline constexpr std::string_view kRsmNs = "http://jabber.org/protocol/rsm";
inline constexpr std::string_view kDataNs = "jabber:x:data";

// An XEP-0082 DateTime ("2026-12-05T10:33:00Z", fractions and a numeric offset allowed) as
// seconds since the epoch (fractions dropped); nullopt for anything else.
std::optional<std::int64_t> parse_datetime(std::string_view text);
// Seconds since the epoch as an XEP-0082 DateTime in UTC.
std::string format_datetime(std::int64_t seconds);

struct Query {
  std::string queryid;
  std::optional<std::string> with;  // a bare JID
  std::optional<std::int64_t> start, end;
  std::optional<std::string> before_id, after_id;  // the form's bounds (urn:xmpp:mam:2#extended)
  std::vector<std::string> ids;                    // the form's ids field (#extended)
  std::optional<std::size_t> max;                  // RSM <max/>
  // RSM <before/> (an empty one asks for the last page) and <after/>.
  std::optional<std::string> before, after;
  bool flip = false;  // <flip-page/>
};

// Reads a <query xmlns='urn:xmpp:mam:2'/>; false with `error` (the text of a bad-request)
// when a field is not understood or not valid.
bool parse_query(const xml::Element& query, Query& out, std::string& error);

// The query form of a type='get' (XEP-0313 §6.1.1) with the fields parse_query reads.
xml::Element query_form();

}  // namespace xmppd::router::mam
