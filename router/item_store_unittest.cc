// The modules' item store on a real SQLite file and a real PostgreSQL server of the test's
// own, the same cases on each: items ordered by when they were last written, each limit
// refused with nothing written, a node trimmed to its newest items, writes kept together,
// and an account's removal taking its items and nothing else.
#include "router/item_store.h"

#include <gtest/gtest.h>

#include <string>

#include "store/test_database.h"

namespace xmppd::router {
namespace {

using Outcome = ItemStore::Outcome;
using Key = ItemStore::Key;
using Limits = ItemStore::Limits;
using store::Backend;

class ItemStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip, error;
    db_ = store::TestDatabase::create(GetParam(), skip, error);
    if (!skip.empty()) GTEST_SKIP() << skip;
    ASSERT_NE(db_, nullptr) << error;
    if (GetParam() == Backend::kSqlite) {
      users_ = UserStore::open(db_->path(), error);
    } else if (std::unique_ptr<store::Database> connection = db_->connect(error)) {
      users_ = std::make_unique<UserStore>(std::move(connection), "test");
    }
    ASSERT_NE(users_, nullptr) << error;
    items_ = ItemStore::open(*users_, error);
    ASSERT_TRUE(items_.has_value()) << error;
  }
  void TearDown() override {
    items_.reset();
    users_.reset();
  }
  std::vector<std::string> ids(std::string_view node, std::size_t max = 0) {
    std::vector<std::string> out;
    for (const auto& item : items_->items("a@x", "pep", node, max)) out.push_back(item.id);
    return out;
  }

  std::unique_ptr<store::TestDatabase> db_;
  std::unique_ptr<UserStore> users_;
  std::optional<ItemStore> items_;
};

TEST_P(ItemStoreTest, ItemsComeOldestFirstAndARewrittenOneBecomesTheNewest) {
  for (const char* id : {"1", "2", "3"}) ASSERT_EQ(items_->put(Key{"a@x", "pep", "n", id}, id, {}), Outcome::kStored);
  ASSERT_EQ(items_->put(Key{"a@x", "pep", "n", "1"}, "one again", {}), Outcome::kStored);
  EXPECT_EQ(ids("n"), (std::vector<std::string>{"2", "3", "1"}));
  EXPECT_EQ(ids("n", 2), (std::vector<std::string>{"3", "1"}));
  EXPECT_EQ(items_->get(Key{"a@x", "pep", "n", "1"}), "one again");
  EXPECT_EQ(items_->get(Key{"a@x", "pep", "n", "4"}), std::nullopt);
  EXPECT_EQ(items_->count("a@x", "pep", "n"), 3u);
}

TEST_P(ItemStoreTest, ANodePastItsItemsDropsTheOldestOrRefusesTheWrite) {
  const Limits trim{.max_items = 2, .drop_oldest = true};
  for (const char* id : {"1", "2", "3"})
    ASSERT_EQ(items_->put(Key{"a@x", "pep", "n", id}, "v", trim), Outcome::kStored);
  EXPECT_EQ(ids("n"), (std::vector<std::string>{"2", "3"}));
  const Limits strict{.max_items = 2};
  EXPECT_EQ(items_->put(Key{"a@x", "pep", "n", "4"}, "v", strict), Outcome::kOverQuota);
  EXPECT_EQ(ids("n"), (std::vector<std::string>{"2", "3"}));  // nothing written
  // Rewriting an item that is there does not add one.
  EXPECT_EQ(items_->put(Key{"a@x", "pep", "n", "2"}, "w", strict), Outcome::kStored);
}

TEST_P(ItemStoreTest, NodesAndBytesAreCountedPerUserAndStore) {
  const Limits two_nodes{.max_nodes = 2};
  ASSERT_EQ(items_->put(Key{"a@x", "pep", "n1", "1"}, "v", two_nodes), Outcome::kStored);
  ASSERT_EQ(items_->put(Key{"a@x", "pep", "n2", "1"}, "v", two_nodes), Outcome::kStored);
  EXPECT_EQ(items_->put(Key{"a@x", "pep", "n3", "1"}, "v", two_nodes), Outcome::kOverQuota);
  EXPECT_EQ(items_->put(Key{"a@x", "pep", "n2", "2"}, "v", two_nodes), Outcome::kStored);  // a node that exists
  EXPECT_EQ(items_->put(Key{"b@x", "pep", "n3", "1"}, "v", two_nodes), Outcome::kStored);  // another user
  EXPECT_EQ(items_->nodes("a@x", "pep"), (std::vector<std::string>{"n1", "n2"}));

  const Limits ten_bytes{.max_bytes = 10};
  ASSERT_EQ(items_->put(Key{"a@x", "private", "", "k"}, "12345678", ten_bytes), Outcome::kStored);
  EXPECT_EQ(items_->put(Key{"a@x", "private", "", "l"}, "123", ten_bytes), Outcome::kOverQuota);
  // A value replaced counts once: 8 bytes become 10.
  EXPECT_EQ(items_->put(Key{"a@x", "private", "", "k"}, "1234567890", ten_bytes), Outcome::kStored);
  EXPECT_EQ(items_->get(Key{"a@x", "private", "", "l"}), std::nullopt);
}

TEST_P(ItemStoreTest, RemovalsTakeWhatTheyNameAndSurviveACommit) {
  for (const char* node : {"n1", "n2"}) ASSERT_EQ(items_->put(Key{"a@x", "pep", node, "1"}, "v", {}), Outcome::kStored);
  ASSERT_EQ(items_->put(Key{"a@x", "vcard", "", ""}, "<vCard/>", {}), Outcome::kStored);
  ASSERT_EQ(items_->put(Key{"b@x", "pep", "n1", "1"}, "v", {}), Outcome::kStored);
  ASSERT_EQ(items_->remove_node("a@x", "pep", "n1"), Outcome::kStored);
  EXPECT_EQ(items_->nodes("a@x", "pep"), (std::vector<std::string>{"n2"}));
  ASSERT_EQ(users_->remove_user("a@x"), Outcome::kStored);
  ASSERT_TRUE(users_->commit());
  EXPECT_TRUE(items_->nodes("a@x", "pep").empty());
  EXPECT_EQ(items_->get(Key{"a@x", "vcard", "", ""}), std::nullopt);
  EXPECT_EQ(items_->count("b@x", "pep", "n1"), 1u);
}

// Values are serialized XML: text kept as it was written, counted against max_bytes in bytes
// (UTF-8), not in characters, on both backends.
TEST_P(ItemStoreTest, ValuesAreTextCountedInBytes) {
  const std::string text = "<n xmlns='urn:x'>\u00e9t\u00e9 \U0001F600</n>";  // 2 + 2 + 4 bytes of multibyte
  ASSERT_EQ(items_->put(Key{"a@x", "private", "", "k"}, text, {}), Outcome::kStored);
  EXPECT_EQ(items_->get(Key{"a@x", "private", "", "k"}), text);
  const Limits exact{.max_bytes = text.size() + 1};
  EXPECT_EQ(items_->put(Key{"a@x", "private", "", "l"}, "\u00e9", exact), Outcome::kOverQuota);  // 2 bytes
  EXPECT_EQ(items_->put(Key{"a@x", "private", "", "l"}, "e", exact), Outcome::kStored);
}

// A block of several JIDs, or a private set of several elements: the writes stand or fall
// together, with whatever the batch held before left as it was.
TEST_P(ItemStoreTest, WritesKeptAtomicallyStandOrFallTogether) {
  ASSERT_EQ(items_->put(Key{"a@x", "blocklist", "", "before"}, "", {}), Outcome::kStored);
  const Limits three{.max_items = 3};
  auto block = [&](std::initializer_list<const char*> jids) {
    return items_->atomically([&] {
      for (const char* jid : jids)
        if (Outcome o = items_->put(Key{"a@x", "blocklist", "", jid}, "", three); o != Outcome::kStored) return o;
      return Outcome::kStored;
    });
  };
  EXPECT_EQ(block({"1", "2", "3"}), Outcome::kOverQuota);  // the third is one too many
  EXPECT_EQ(items_->count("a@x", "blocklist", ""), 1u);
  EXPECT_EQ(block({"1", "2"}), Outcome::kStored);
  ASSERT_TRUE(users_->commit());
  EXPECT_EQ(items_->count("a@x", "blocklist", ""), 3u);
  // A removal inside is undone too.
  EXPECT_EQ(items_->atomically([&] {
    EXPECT_EQ(items_->remove(Key{"a@x", "blocklist", "", "1"}), Outcome::kStored);
    return Outcome::kOverQuota;
  }),
            Outcome::kOverQuota);
  EXPECT_EQ(items_->get(Key{"a@x", "blocklist", "", "1"}), "");
}

TEST_P(ItemStoreTest, UsersOfAStoreAreThoseWithAnItemInIt) {
  ASSERT_EQ(items_->put(Key{"a@x", "blocklist", "", "j"}, "", {}), Outcome::kStored);
  ASSERT_EQ(items_->put(Key{"a@x", "blocklist", "", "k"}, "", {}), Outcome::kStored);
  ASSERT_EQ(items_->put(Key{"b@x", "private", "ns", "e"}, "<e/>", {}), Outcome::kStored);
  EXPECT_EQ(items_->users("blocklist"), (std::vector<std::string>{"a@x"}));
  ASSERT_EQ(items_->remove_store("a@x", "blocklist"), Outcome::kStored);
  EXPECT_TRUE(items_->users("blocklist").empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ItemStoreTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return store::backend_name(info.param); });

}  // namespace
}  // namespace xmppd::router
