#include "runtime/admin_pages.h"

#include <gtest/gtest.h>

#include <vector>

#include "runtime/child.h"

namespace xmppd::runtime {
namespace {

// Ten thousand sessions, as a busy server has: each page fits one control record, only the
// last ends the answer, and nothing is lost between pages.
TEST(AdminPages, TenThousandSessionsGoInRecordSizedPages) {
  std::vector<ipc::ChildToParent> sent;
  AdminPages pages(
      42, [](ipc::AdminAnswer& a) { a.mutable_c2s(); }, [&sent](const ipc::ChildToParent& m) { sent.push_back(m); });
  for (int i = 0; i < 10000; ++i) {
    ipc::C2sSession& s = *pages.page().mutable_c2s()->add_sessions();
    s.set_jid("user" + std::to_string(i) + "@a-rather-long-host-name.example/resource-" + std::to_string(i));
    s.set_address("2001:db8::1234:5678 54321");
    s.set_tls_version("TLSv1.3");
    s.set_cipher("TLS_AES_256_GCM_SHA384");
    s.set_mechanism("SCRAM-SHA-256-PLUS");
    s.set_stream_management("off");
    s.set_presence("available");
    pages.added(s.ByteSizeLong());
  }
  pages.finish();
  ASSERT_GT(sent.size(), 10u);
  std::size_t total = 0;
  std::string last_jid;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const ipc::AdminAnswer& a = sent[i].admin_answer();
    EXPECT_EQ(a.id(), 42u);
    EXPECT_TRUE(a.has_c2s());
    EXPECT_EQ(a.more(), i + 1 < sent.size()) << i;
    EXPECT_LE(sent[i].ByteSizeLong(), kChildToParent.max_record);
    total += static_cast<std::size_t>(a.c2s().sessions_size());
    if (a.c2s().sessions_size() > 0) last_jid = a.c2s().sessions(a.c2s().sessions_size() - 1).jid();
  }
  EXPECT_EQ(total, 10000u);
  EXPECT_EQ(last_jid.substr(0, 9), "user9999@");
}

TEST(AdminPages, AnEmptyListIsOnePageOfItsKind) {
  std::vector<ipc::ChildToParent> sent;
  AdminPages pages(
      7, [](ipc::AdminAnswer& a) { a.mutable_users(); }, [&sent](const ipc::ChildToParent& m) { sent.push_back(m); });
  pages.finish();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].admin_answer().has_users());
  EXPECT_FALSE(sent[0].admin_answer().more());
}

// A list past kAdminMaxEntries stops there, and its last page says it was cut.
TEST(AdminPages, AListStopsAtItsLimitAndSaysSo) {
  std::vector<ipc::ChildToParent> sent;
  AdminPages pages(
      9, [](ipc::AdminAnswer& a) { a.mutable_users(); }, [&sent](const ipc::ChildToParent& m) { sent.push_back(m); });
  std::size_t added = 0;
  for (std::size_t i = 0; i < kAdminMaxEntries + 10; ++i) {
    if (!pages.room()) break;
    pages.page().mutable_users()->add_usernames("u" + std::to_string(i));
    pages.added(8);
    ++added;
  }
  pages.finish();
  EXPECT_EQ(added, kAdminMaxEntries);
  std::size_t total = 0;
  for (const auto& m : sent) total += static_cast<std::size_t>(m.admin_answer().users().usernames_size());
  EXPECT_EQ(total, kAdminMaxEntries);
  EXPECT_TRUE(sent.back().admin_answer().truncated());
  EXPECT_FALSE(sent.front().admin_answer().truncated());
}

// Exactly as many as the limit: nothing was left out, so nothing is said.
TEST(AdminPages, AListOfExactlyTheLimitIsWhole) {
  std::vector<ipc::ChildToParent> sent;
  AdminPages pages(
      9, [](ipc::AdminAnswer& a) { a.mutable_users(); }, [&sent](const ipc::ChildToParent& m) { sent.push_back(m); });
  for (std::size_t i = 0; i < kAdminMaxEntries; ++i) {
    ASSERT_TRUE(pages.room());
    pages.page().mutable_users()->add_usernames("u");
    pages.added(3);
  }
  pages.finish();
  EXPECT_FALSE(sent.back().admin_answer().truncated());
}

// An entry over kAdminEntryBytes could push its page past one record: left out, list cut.
TEST(AdminPages, AnOversizedEntryIsLeftOut) {
  std::vector<ipc::ChildToParent> sent;
  AdminPages pages(
      5, [](ipc::AdminAnswer& a) { a.mutable_c2s(); }, [&sent](const ipc::ChildToParent& m) { sent.push_back(m); });
  for (std::size_t size : {std::size_t{30}, kAdminEntryBytes + 1, std::size_t{40}}) {
    ipc::C2sSession& s = *pages.page().mutable_c2s()->add_sessions();
    s.set_jid(std::string(size, 'j'));
    pages.added(s.ByteSizeLong());
  }
  pages.finish();
  ASSERT_EQ(sent.size(), 1u);
  const ipc::AdminAnswer& a = sent[0].admin_answer();
  ASSERT_EQ(a.c2s().sessions_size(), 2);
  EXPECT_EQ(a.c2s().sessions(1).jid().size(), 40u);
  EXPECT_TRUE(a.truncated());
  EXPECT_LE(sent[0].ByteSizeLong(), kChildToParent.max_record);
}

}  // namespace
}  // namespace xmppd::runtime
