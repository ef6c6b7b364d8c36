// The router's RemoteDatabase and the storage process's StorageService, over a real
// SOCK_SEQPACKET pair, with a real SQLite database behind the service (the PostgreSQL one is
// the integration test's, tests/integration/postgres_test.py): requests and answers, the
// boundary checks, the timeout and the late answer, the closed link, the reconnect interval.
#include "storage/storage_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "proto/channel.h"
#include "proto/frame.h"
#include "store/remote_database.h"
#include "store/sqlite_database.h"
#include "storage/connection_settings.h"
#include "store/wire_values.h"

namespace xmppd::storage {
namespace {

using namespace std::chrono_literals;
using store::Statement;

class TempDir {
 public:
  TempDir() {
    char dir[] = "/tmp/storage_service_unittest.XXXXXX";
    path_ = mkdtemp(dir) != nullptr ? dir : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

StorageService::Connect sqlite_in(const std::string& dir) {
  return [dir](std::string& error) -> std::unique_ptr<store::Database> {
    return store::SqliteDatabase::open(dir + "/store.sqlite", error);
  };
}

// The storage process's loop, reduced to its IPC: one request in, its answers out; a
// violation ends it, as it drops the link. `delay` holds the first answer back.
class ServiceThread {
 public:
  ServiceThread(StorageService& service, UniqueFd end, std::chrono::milliseconds delay = 0ms)
      : thread_([this, &service, fd = std::move(end), delay]() mutable { serve(service, std::move(fd), delay); }) {}
  ~ServiceThread() { thread_.join(); }
  std::string violation() const { return violation_; }

 private:
  void serve(StorageService& service, UniqueFd fd, std::chrono::milliseconds delay) {
    std::vector<std::uint8_t> buffer(store::kStorageRecordBytes + 1);
    for (;;) {
      std::vector<UniqueFd> fds;
      std::size_t length = 0;
      if (ipc::recv_record(fd.get(), buffer, 0, length, fds) != ipc::RecvStatus::kRecord) return;
      ipc::RouterToStorage envelope;
      std::vector<ipc::StorageAnswer> answers;
      std::string why;
      if (!ipc::decode_envelope(envelope, std::span(buffer.data(), length), why) ||
          !service.handle(envelope.request(), answers, why)) {
        violation_ = why;
        service.router_gone();
        return;
      }
      std::this_thread::sleep_for(std::exchange(delay, 0ms));
      for (const ipc::StorageAnswer& answer : answers) {
        ipc::StorageToRouter out;
        *out.mutable_answer() = answer;
        const std::string bytes = out.SerializeAsString();
        if (ipc::send_record(fd.get(), std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                             {}) != ipc::SendStatus::kSent)
          return;
      }
    }
  }

  std::string violation_;
  std::thread thread_;
};

struct Link {
  Link() { EXPECT_TRUE(ipc::make_seqpacket_pair(store::kStorageRecordBytes, router, storage)); }
  UniqueFd router, storage;
};

TEST(RemoteDatabase, WithoutALinkItIsUnavailable) {
  store::RemoteDatabase db;
  EXPECT_FALSE(db.run(Statement::kBegin, {}));
  EXPECT_TRUE(db.unavailable());
  EXPECT_EQ(db.dialect(), store::Dialect::kPostgres);
}

TEST(RemoteDatabase, StatementsRunThroughTheService) {
  TempDir dir;
  StorageService service(sqlite_in(dir.path()));
  Link link;
  store::RemoteDatabase db;
  db.attach(std::move(link.router));
  {
    ServiceThread thread(service, std::move(link.storage));
    EXPECT_TRUE(db.run(Statement::kBegin, {})) << db.error();
    EXPECT_TRUE(db.run(Statement::kSavepoint, {})) << db.error();
    EXPECT_TRUE(db.run(Statement::kRelease, {})) << db.error();
    EXPECT_TRUE(db.run(Statement::kCommit, {})) << db.error();
    // Refused by the database, not out of reach: the answer says which.
    EXPECT_FALSE(db.run(Statement::kCommit, {}));
    EXPECT_FALSE(db.unavailable());
    EXPECT_NE(db.error().find("no transaction"), std::string::npos) << db.error();
    db.attach(UniqueFd());  // the router's end closes: the service's loop ends
  }
  EXPECT_TRUE(service.connected());
}

TEST(RemoteDatabase, AWrongParameterCountIsAViolation) {
  TempDir dir;
  StorageService service(sqlite_in(dir.path()));
  Link link;
  store::RemoteDatabase db;
  db.attach(std::move(link.router));
  std::string violation;
  {
    ServiceThread thread(service, std::move(link.storage));
    const store::Value one[] = {std::int64_t{1}};
    EXPECT_FALSE(db.run(Statement::kBegin, one));
    EXPECT_TRUE(db.unavailable());  // the service dropped the link
    EXPECT_FALSE(db.run(Statement::kBegin, {}));
    violation = thread.violation();
  }
  EXPECT_EQ(violation, "batch.begin takes 0 parameters, got 1");
}

TEST(StorageService, RequestsOutsideTheContractAreViolations) {
  TempDir dir;
  StorageService service(sqlite_in(dir.path()));
  std::vector<ipc::StorageAnswer> answers;
  std::string why;
  ipc::StorageRequest request;
  request.set_serial(1);
  request.set_statement(static_cast<std::uint32_t>(Statement::kCount));
  EXPECT_FALSE(service.handle(request, answers, why));
  EXPECT_EQ(why, "statement " + std::to_string(static_cast<int>(Statement::kCount)) + " is not in the catalog");
  request.set_statement(0xffffffffu);
  EXPECT_FALSE(service.handle(request, answers, why));
  request.set_statement(static_cast<std::uint32_t>(Statement::kBegin));
  request.add_params();  // no value set
  EXPECT_FALSE(service.handle(request, answers, why));
  request.clear_params();
  request.set_batch(true);  // a batch without rows
  EXPECT_FALSE(service.handle(request, answers, why));
  request.add_rows();
  EXPECT_TRUE(service.handle(request, answers, why)) << why;
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].ok()) << answers[0].error();
  EXPECT_EQ(answers[0].serial(), 1u);
}

TEST(RemoteDatabase, ATimeoutIsUnavailableAndTheLateAnswerIsDropped) {
  TempDir dir;
  StorageService service(sqlite_in(dir.path()));
  Link link;
  store::RemoteDatabase db(100ms);
  db.attach(std::move(link.router));
  {
    ServiceThread thread(service, std::move(link.storage), 300ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(db.run(Statement::kBegin, {}));
    EXPECT_TRUE(db.unavailable());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 250ms);
    // Its answer has not come: the next request fails at once rather than wait again.
    EXPECT_FALSE(db.run(Statement::kRollback, {}));
    EXPECT_NE(db.error().find("earlier request"), std::string::npos) << db.error();
    std::this_thread::sleep_for(400ms);
    // The late answer (BEGIN's) is read and dropped; this request gets its own.
    EXPECT_TRUE(db.run(Statement::kRollback, {})) << db.error();
    EXPECT_FALSE(db.unavailable());
    db.attach(UniqueFd());
  }
}

TEST(RemoteDatabase, AClosedLinkIsUnavailable) {
  Link link;
  store::RemoteDatabase db;
  db.attach(std::move(link.router));
  link.storage.reset();
  EXPECT_FALSE(db.run(Statement::kBegin, {}));
  EXPECT_TRUE(db.unavailable());
  EXPECT_FALSE(db.attached());
}

TEST(StorageService, ReconnectsAtMostOnceASecond) {
  TempDir dir;
  int attempts = 0;
  bool server_up = false;
  auto now = std::chrono::steady_clock::now();
  StorageService service(
      [&](std::string& error) -> std::unique_ptr<store::Database> {
        ++attempts;
        if (!server_up) {
          error = "connection refused";
          return nullptr;
        }
        return store::SqliteDatabase::open(dir.path() + "/store.sqlite", error);
      },
      [&] { return now; });
  ipc::StorageRequest begin;
  begin.set_serial(1);
  begin.set_statement(static_cast<std::uint32_t>(Statement::kBegin));
  std::vector<ipc::StorageAnswer> answers;
  std::string why;
  ASSERT_TRUE(service.handle(begin, answers, why));
  EXPECT_FALSE(answers[0].ok());
  EXPECT_TRUE(answers[0].unavailable());
  EXPECT_EQ(answers[0].error(), "connection refused");
  EXPECT_EQ(attempts, 1);
  server_up = true;
  now += 500ms;  // too soon: answered at once, without a try
  ASSERT_TRUE(service.handle(begin, answers, why));
  EXPECT_TRUE(answers[0].unavailable());
  EXPECT_EQ(attempts, 1);
  now += 600ms;
  ASSERT_TRUE(service.handle(begin, answers, why));
  EXPECT_TRUE(answers[0].ok()) << answers[0].error();
  EXPECT_EQ(attempts, 2);
  // The router goes with the transaction open: it is rolled back, so a new one can begin.
  service.router_gone();
  ASSERT_TRUE(service.handle(begin, answers, why));
  EXPECT_TRUE(answers[0].ok()) << answers[0].error();
}

// A connection of the PostgreSQL dialect whose statements succeed until told to fail as lost.
class FakeDb final : public store::Database {
 public:
  bool lose_next = false;
  std::vector<Statement> ran;
  bool run(Statement id, std::span<const store::Value>, std::vector<store::Row>* = nullptr) override {
    ran.push_back(id);
    unavailable_ = std::exchange(lose_next, false);
    error_ = unavailable_ ? "lost" : "";
    return !unavailable_;
  }
  bool run_batch(Statement, std::span<const store::Row>) override { return true; }
  store::Dialect dialect() const override { return store::Dialect::kPostgres; }
  const std::string& error() const override { return error_; }
  bool unavailable() const override { return unavailable_; }

 private:
  std::string error_;
  bool unavailable_ = false;
};

ipc::StorageRequest request_of(Statement id) {
  static std::uint64_t serial = 100;
  ipc::StorageRequest r;
  r.set_serial(++serial);
  r.set_statement(static_cast<std::uint32_t>(id));
  return r;
}

TEST(StorageService, ABeginAfterATransactionLostInATimedOutBatchSucceeds) {
  FakeDb* fake = nullptr;
  auto now = std::chrono::steady_clock::time_point{};
  StorageService service(
      [&](std::string&) {
        auto db = std::make_unique<FakeDb>();
        fake = db.get();
        return db;
      },
      [&] { return now; });
  ASSERT_TRUE(service.ensure_connected());
  std::vector<ipc::StorageAnswer> answers;
  std::string why;
  ASSERT_TRUE(service.handle(request_of(Statement::kBegin), answers, why));
  ASSERT_TRUE(answers.back().ok());
  fake->lose_next = true;  // the statement the router timed out on: its connection was lost
  ASSERT_TRUE(service.handle(request_of(Statement::kSavepoint), answers, why));
  ASSERT_FALSE(answers.back().ok());
  // The router never sent its ROLLBACK; its next batches must not all fail.
  for (int i = 0; i < 3; ++i) {
    now += 10s;
    ASSERT_TRUE(service.handle(request_of(Statement::kBegin), answers, why));
    EXPECT_TRUE(answers.back().ok()) << answers.back().error();
  }
}

TEST(StorageService, ABeginInsideAnOpenTransactionRollsItBackFirst) {
  FakeDb* fake = nullptr;
  StorageService service([&](std::string&) {
    auto db = std::make_unique<FakeDb>();
    fake = db.get();
    return db;
  });
  std::vector<ipc::StorageAnswer> answers;
  std::string why;
  ASSERT_TRUE(service.handle(request_of(Statement::kBegin), answers, why));
  ASSERT_TRUE(service.handle(request_of(Statement::kSavepoint), answers, why));
  // The router abandoned that batch (a late answer): its writes must not be committed with the next.
  ASSERT_TRUE(service.handle(request_of(Statement::kBegin), answers, why));
  EXPECT_TRUE(answers.back().ok());
  const std::vector<Statement> expected = {Statement::kBegin, Statement::kSavepoint, Statement::kRollback,
                                           Statement::kBegin};
  EXPECT_EQ(fake->ran, expected);
}

TEST(RemoteDatabase, TheRollbackOfABatchAbandonedOnATimeoutIsSentWhenTheAnswerComes) {
  TempDir dir;
  StorageService service(sqlite_in(dir.path()));
  Link link;
  store::RemoteDatabase db(100ms);
  db.attach(std::move(link.router));
  {
    ServiceThread thread(service, std::move(link.storage), 300ms);
    EXPECT_FALSE(db.run(Statement::kBegin, {}));  // times out; the BEGIN still runs
    EXPECT_FALSE(db.run(Statement::kRollback, {}));  // as UserStore does: fails unsent
    std::this_thread::sleep_for(400ms);
    // The owed ROLLBACK goes first: this COMMIT finds no transaction, rather than committing
    // the abandoned one.
    EXPECT_FALSE(db.run(Statement::kCommit, {}));
    EXPECT_FALSE(db.unavailable());
    EXPECT_NE(db.error().find("no transaction"), std::string::npos) << db.error();
    // Sent once: the next batch runs normally.
    EXPECT_TRUE(db.run(Statement::kBegin, {})) << db.error();
    EXPECT_TRUE(db.run(Statement::kCommit, {})) << db.error();
    db.attach(UniqueFd());
  }
}

TEST(ConnectionSettings, TheConnectionHasKeepalivesAndATcpUserTimeout) {
  ipc::StorageSettings settings;
  settings.set_host("db.example");
  settings.set_port(5432);
  const std::string info = conninfo(settings, "192.0.2.1");
  EXPECT_NE(info.find("keepalives='1'"), std::string::npos) << info;
  EXPECT_NE(info.find("keepalives_idle='5'"), std::string::npos) << info;
  EXPECT_NE(info.find("tcp_user_timeout='4000'"), std::string::npos) << info;
}

TEST(ConnectionSettings, OnlyLoopbackAddressesAreLoopback) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.3.2.1"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback("192.0.2.1"));
  EXPECT_FALSE(is_loopback("2001:db8::1"));
  EXPECT_FALSE(is_loopback("::ffff:192.0.2.1"));
  EXPECT_FALSE(is_loopback("db.example"));
}

}  // namespace
}  // namespace xmppd::storage
