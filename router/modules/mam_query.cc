// Reading XEP-0313 queries from clients (router/modules/mam_query.h): trusts nothing.
#include "router/modules/mam_query.h"

#include <charconv>
#include <ctime>

#include "xmpp/jid.h"

namespace xmppd::router::mam {
namespace {

// Larger pages are clamped by the module anyway; this only keeps the number sane.
constexpr std::size_t kMaxNumber = 1000000;
// Ids named in one query (the ids field): a client asks for a page's worth at a time.
constexpr std::size_t kMaxIds = 1000;
constexpr std::size_t kMaxIdLength = 256;

bool digits(std::string_view text, std::size_t at, std::size_t n, int& out) {
  if (at + n > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

std::optional<std::size_t> number(std::string_view text) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n > kMaxNumber) return std::nullopt;
  return n;
}

bool days_valid(int year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian), without the C library's
// local time zone.
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

xml::Element field(std::string_view var, std::string_view type, std::string_view value = {}) {
  xml::Element f(kDataNs, "field");
  f.set_attribute("var", std::string(var));
  f.set_attribute("type", std::string(type));
  if (!value.empty()) f.add_child(xml::Element(kDataNs, "value")).add_text(value);
  return f;
}

std::vector<std::string> values(const xml::Element& f) {
  std::vector<std::string> out;
  for (const xml::Element* v : f.children())
    if (v->is(kDataNs, "value")) out.push_back(v->text());
  return out;
}

// One form field applied; false with `error`.
bool apply_field(const xml::Element& f, Query& q, std::string& error) {
  const std::string var = f.attribute_or("var");
  std::vector<std::string> vs = values(f);
  if (var == "ids") {
    if (vs.size() > kMaxIds) return error = "Too many ids", false;
    for (std::string& v : vs) {
      if (v.empty() || v.size() > kMaxIdLength) return error = "Invalid id", false;
      q.ids.push_back(std::move(v));
    }
    return true;
  }
  if (vs.size() > 1) return error = "Field " + var + " takes one value", false;
  const std::string value = vs.empty() ? std::string() : vs.front();
  if (var == "FORM_TYPE") {
    if (value != kMamNs) return error = "Unknown FORM_TYPE", false;
  } else if (var == "with") {
    auto jid = xmpp::Jid::parse(value);
    if (!jid) return error = "Invalid JID in 'with'", false;
    q.with = jid->bare();
  } else if (var == "start" || var == "end") {
    auto when = parse_datetime(value);
    if (!when) return error = "Invalid date in '" + var + "'", false;
    (var == "start" ? q.start : q.end) = when;
  } else if (var == "before-id" || var == "after-id") {
    if (value.empty() || value.size() > kMaxIdLength) return error = "Invalid id in '" + var + "'", false;
    (var == "before-id" ? q.before_id : q.after_id) = value;
  } else {
    return error = "Unsupported field '" + var + "'", false;
  }
  return true;
}

bool apply_form(const xml::Element& form, Query& q, std::string& error) {
  std::string type = form.attribute_or("type", "submit");
  if (type != "submit") return error = "The form must be submitted", false;
  for (const xml::Element* f : form.children())
    if (f->is(kDataNs, "field") && !apply_field(*f, q, error)) return false;
  return true;
}

bool apply_set(const xml::Element& set, Query& q, std::string& error) {
  for (const xml::Element* c : set.children()) {
    if (c->ns() != kRsmNs) continue;
    const std::string text = c->text();
    if (c->name() == "max") {
      q.max = number(text);
      if (!q.max) return error = "Invalid <max/>", false;
    } else if (c->name() == "before") {
      if (text.size() > kMaxIdLength) return error = "Invalid <before/>", false;
      q.before = text;
    } else if (c->name() == "after") {
      if (text.empty() || text.size() > kMaxIdLength) return error = "Invalid <after/>", false;
      q.after = text;
    } else if (c->name() == "index") {
      return error = "Paging by <index/> is not supported", false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_datetime(std::string_view t) {
  int year, month, day, hour, minute, second;
  if (!digits(t, 0, 4, year) || t.size() < 19 || t[4] != '-' || !digits(t, 5, 2, month) || t[7] != '-' ||
      !digits(t, 8, 2, day) || t[10] != 'T' || !digits(t, 11, 2, hour) || t[13] != ':' ||
      !digits(t, 14, 2, minute) || t[16] != ':' || !digits(t, 17, 2, second))
    return std::nullopt;
  if (!days_valid(year, month, day) || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t at = 19;
  if (at < t.size() && t[at] == '.') {
    std::size_t first = ++at;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') ++at;
    if (at == first) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (at < t.size() && t[at] == 'Z') {
    ++at;
  } else if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
    int oh, om;
    if (!digits(t, at + 1, 2, oh) || at + 3 >= t.size() || t[at + 3] != ':' || !digits(t, at + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset = (t[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return std::nullopt;  // XEP-0082 requires the zone
  }
  if (at != t.size()) return std::nullopt;
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
}

std::string format_datetime(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

bool parse_query(const xml::Element& query, Query& out, std::string& error) {
  out = Query{};
  out.queryid = query.attribute_or("queryid");
  if (out.queryid.size() > kMaxIdLength) return error = "queryid too long", false;
  if (query.attribute("node") != nullptr) return error = "This archive has no nodes", false;
  for (const xml::Element* c : query.children()) {
    if (c->is(kDataNs, "x")) {
      if (!apply_form(*c, out, error)) return false;
    } else if (c->is(kRsmNs, "set")) {
      if (!apply_set(*c, out, error)) return false;
    } else if (c->is(kMamNs, "flip-page")) {
      out.flip = true;
    }
  }
  if (out.start && out.end && *out.start > *out.end) return error = "'start' is after 'end'", false;
  if (out.before && out.after) return error = "Both <before/> and <after/>", false;
  if (!out.ids.empty() && (out.with || out.start || out.end || out.before_id || out.after_id))
    return error = "'ids' cannot be combined with other filters", false;
  return true;
}

xml::Element query_form() {
  xml::Element form(kDataNs, "x", {{"type", "form"}});
  form.add_child(field("FORM_TYPE", "hidden", kMamNs));
  form.add_child(field("with", "jid-single"));
  form.add_child(field("start", "text-single"));
  form.add_child(field("end", "text-single"));
  form.add_child(field("before-id", "text-single"));
  form.add_child(field("after-id", "text-single"));
  form.add_child(field("ids", "text-multi"));
  return form;
}

}  // namespace xmppd::router::mam
