// Archive queries as clients write them: XEP-0082 dates, the urn:xmpp:mam:2 form and RSM.
#include "router/modules/mam_query.h"

#include <gtest/gtest.h>

namespace xmppd::router::mam {
namespace {

TEST(MamDates, ParsesXep0082) {
  EXPECT_EQ(parse_datetime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_datetime("2026-12-05T10:33:00Z"), 1796466780);
  EXPECT_EQ(parse_datetime("2026-12-05T10:33:00.123Z"), 1796466780);
  EXPECT_EQ(parse_datetime("2026-12-05T12:33:00+02:00"), 1796466780);
  EXPECT_EQ(parse_datetime("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_EQ(format_datetime(1796466780), "2026-12-05T10:33:00Z");
}

TEST(MamDates, RefusesWhatIsNotOne) {
  for (const char* bad : {"", "yesterday", "2026-12-05", "2026-12-05T10:33:00", "2026-13-05T10:33:00Z",
                          "2023-02-29T00:00:00Z", "2026-12-05T24:00:00Z", "2026-12-05T10:33:00.Z",
                          "2026-12-05T10:33:00Zjunk", "2026-12-05T10:33:00+2:00", "2026-12-05 10:33:00Z"})
    EXPECT_FALSE(parse_datetime(bad)) << bad;
}

xml::Element field(std::string_view var, std::vector<std::string_view> values) {
  xml::Element f(kDataNs, "field", {{"var", std::string(var)}});
  for (std::string_view v : values) f.add_child(xml::Element(kDataNs, "value")).add_text(v);
  return f;
}

xml::Element query(std::vector<xml::Element> fields, std::vector<xml::Element> set = {}) {
  xml::Element q(kMamNs, "query", {{"queryid", "q1"}});
  xml::Element& x = q.add_child(xml::Element(kDataNs, "x", {{"type", "submit"}}));
  x.add_child(field("FORM_TYPE", {kMamNs}));
  for (auto& f : fields) x.add_child(std::move(f));
  if (!set.empty()) {
    xml::Element& s = q.add_child(xml::Element(kRsmNs, "set"));
    for (auto& e : set) s.add_child(std::move(e));
  }
  return q;
}

xml::Element rsm(std::string_view name, std::string_view text) {
  xml::Element e(kRsmNs, std::string(name));
  if (!text.empty()) e.add_text(text);
  return e;
}

TEST(MamQuery, ReadsTheFormAndThePage) {
  Query q;
  std::string error;
  ASSERT_TRUE(parse_query(query({field("with", {"Juliet@Capulet.example/balcony"}),
                                 field("start", {"2026-12-01T00:00:00Z"}), field("end", {"2026-12-05T00:00:00Z"})},
                                {rsm("max", "10"), rsm("before", "")}),
                          q, error))
      << error;
  EXPECT_EQ(q.queryid, "q1");
  EXPECT_EQ(q.with, "juliet@capulet.example");
  EXPECT_EQ(q.start, parse_datetime("2026-12-01T00:00:00Z"));
  EXPECT_EQ(q.max, 10u);
  EXPECT_EQ(q.before, "");
  ASSERT_TRUE(parse_query(query({field("ids", {"a", "b"})}, {rsm("after", "x")}), q, error)) << error;
  EXPECT_EQ(q.ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.after, "x");
}

TEST(MamQuery, RefusesBadFields) {
  Query q;
  std::string error;
  EXPECT_FALSE(parse_query(query({field("start", {"yesterday"})}), q, error));
  EXPECT_FALSE(parse_query(query({field("with", {"@@"})}), q, error));
  EXPECT_FALSE(parse_query(query({field("color", {"blue"})}), q, error));
  EXPECT_FALSE(parse_query(query({field("start", {"2026-12-05T00:00:00Z"}), field("end", {"2026-12-01T00:00:00Z"})}),
                           q, error));
  EXPECT_FALSE(parse_query(query({}, {rsm("max", "-1")}), q, error));
  EXPECT_FALSE(parse_query(query({}, {rsm("max", "lots")}), q, error));
  EXPECT_FALSE(parse_query(query({}, {rsm("index", "3")}), q, error));
  EXPECT_FALSE(parse_query(query({}, {rsm("before", "a"), rsm("after", "b")}), q, error));
  EXPECT_FALSE(parse_query(query({field("ids", {"a"}), field("with", {"a@b"})}), q, error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace xmppd::router::mam
