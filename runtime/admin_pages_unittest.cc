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

}  // namespace
}  // namespace xmppd::runtime
