// A page of an XEP-0313 archive and the <fin/> that ends it (mam_page.h).
#include "router/modules/mam_page.h"

#include <algorithm>

#include "xmpp/stanza.h"

namespace xmppd::router::mam {
namespace {

// An id of the archive to its place; false when the id is unknown or the store failed.
bool resolve(ArchiveStore& store, const std::string& owner, const std::string& id, std::int64_t& seq, bool& failed) {
  std::optional<ArchiveStore::Message> m;
  if (!store.by_id(owner, id, m)) {
    failed = true;
    return false;
  }
  if (!m) return false;
  seq = m->seq;
  return true;
}

// The #extended ids field: the messages themselves, as a page is clamped to `max` before the
// lookups (each a round trip to the database on the router's only thread), so that one IQ
// costs no more than one page.
PageError by_ids(ArchiveStore& store, const std::string& owner, const Query& q, std::size_t max, Page& out) {
  std::vector<std::string_view> wanted;
  for (const std::string& id : q.ids)
    if (wanted.size() <= max && std::find(wanted.begin(), wanted.end(), id) == wanted.end()) wanted.push_back(id);
  if (wanted.size() > max) {
    wanted.resize(max);
    out.complete = false;
  }
  for (std::string_view id : wanted) {
    std::optional<ArchiveStore::Message> m;
    if (!store.by_id(owner, id, m)) return PageError::kFailed;
    if (!m) return PageError::kItemNotFound;
    out.messages.push_back(std::move(*m));
  }
  auto& page = out.messages;
  std::sort(page.begin(), page.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  page.erase(std::unique(page.begin(), page.end(), [](const auto& a, const auto& b) { return a.seq == b.seq; }),
             page.end());
  out.count = static_cast<std::int64_t>(page.size());
  return PageError::kNone;
}

}  // namespace

PageError read_page(ArchiveStore& store, const std::string& owner, const Query& q, std::size_t limit, Page& out) {
  limit = std::max<std::size_t>(1, limit);
  const std::size_t max = std::min(q.max.value_or(limit), limit);
  out = Page{};
  if (!q.ids.empty()) {
    PageError e = by_ids(store, owner, q, max, out);
    if (e == PageError::kNone && q.flip) std::reverse(out.messages.begin(), out.messages.end());
    return e;
  }
  ArchiveStore::Filter filter;
  filter.with = q.with;
  filter.start = q.start;
  filter.end = q.end;
  const ArchiveStore::Filter counted = filter;
  bool failed = false;
  const auto unknown = [&] { return failed ? PageError::kFailed : PageError::kItemNotFound; };
  std::int64_t seq = 0;
  if (q.after_id) {
    if (!resolve(store, owner, *q.after_id, seq, failed)) return unknown();
    filter.after_seq = seq;
  }
  if (q.before_id) {
    if (!resolve(store, owner, *q.before_id, seq, failed)) return unknown();
    filter.before_seq = seq;
  }
  if (q.after) {
    if (!resolve(store, owner, *q.after, seq, failed)) return unknown();
    filter.after_seq = std::max(filter.after_seq, seq);
  }
  if (q.before && !q.before->empty()) {
    if (!resolve(store, owner, *q.before, seq, failed)) return unknown();
    filter.before_seq = std::min(filter.before_seq, seq);
  }
  const bool backward = q.before.has_value();
  if (max > 0) {
    if (!store.page(owner, filter, backward, max + 1, out.messages)) return PageError::kFailed;
    out.complete = out.messages.size() <= max;
    if (!out.complete) out.messages.resize(max);
    if (backward) std::reverse(out.messages.begin(), out.messages.end());
  } else {
    out.complete = false;
  }
  if (!store.count(owner, counted, out.count)) return PageError::kFailed;
  if (q.flip) std::reverse(out.messages.begin(), out.messages.end());
  return PageError::kNone;
}

xml::Element fin_reply(const xml::Element& iq, const Page& page) {
  xml::Element reply = xmpp::reply(iq, "result");
  xml::Element& fin = reply.add_child(xml::Element(kMamNs, "fin"));
  if (page.complete) fin.set_attribute("complete", "true");
  xml::Element& set = fin.add_child(xml::Element(kRsmNs, "set"));
  if (!page.messages.empty()) {
    set.add_child(xml::Element(kRsmNs, "first")).add_text(page.messages.front().id);
    set.add_child(xml::Element(kRsmNs, "last")).add_text(page.messages.back().id);
  }
  set.add_child(xml::Element(kRsmNs, "count")).add_text(std::to_string(page.count));
  return reply;
}

void strip_stanza_ids(xml::Element& m, std::string_view by) {
  bool found = false;
  for (const xml::Element* c : m.children())
    if (c->is(kSidNs, "stanza-id") && c->attribute_or("by") == by) found = true;
  if (!found) return;
  xml::Element out(m.shared_ns(), m.name(), m.attributes());
  for (const xml::Element* c : m.children())
    if (!(c->is(kSidNs, "stanza-id") && c->attribute_or("by") == by)) out.add_child(*c);
  const std::string text = m.text();
  if (!text.empty()) out.add_text(text);
  m = std::move(out);
}

}  // namespace xmppd::router::mam
