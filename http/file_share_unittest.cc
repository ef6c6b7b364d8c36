// The pure parts of file sharing's HTTP side: the one Range served, Content-Disposition and
// Bearer values, and the store in a temporary directory (write, read back, refuse a second
// upload, sweep what expired or was left half-written), and the handler serving many slow
// downloads at once over loopback without holding more than its budget.
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/file_share.h"
#include "http/file_share_headers.h"
#include "http/file_share_store.h"

namespace xmppd::http {
namespace {

TEST(FileShareRange, OneRangeIsServed) {
  ByteRange r;
  EXPECT_EQ(parse_range(nullptr, 100, r), RangeAnswer::kWhole);
  ASSERT_EQ(parse_range("bytes=0-9", 100, r), RangeAnswer::kPartial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 9u);
  ASSERT_EQ(parse_range("bytes=90-", 100, r), RangeAnswer::kPartial);
  EXPECT_EQ(r.length(), 10u);
  ASSERT_EQ(parse_range("bytes=50-1000", 100, r), RangeAnswer::kPartial);
  EXPECT_EQ(r.last, 99u);
  ASSERT_EQ(parse_range("bytes=-5", 100, r), RangeAnswer::kPartial);
  EXPECT_EQ(r.first, 95u);
  ASSERT_EQ(parse_range("bytes=-500", 100, r), RangeAnswer::kPartial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(parse_range("bytes=100-", 100, r), RangeAnswer::kUnsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100, r), RangeAnswer::kUnsatisfiable);
  for (const char* ignored : {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=+1-2",
                              "bytes=99999999999999999999999-"})
    EXPECT_EQ(parse_range(ignored, 100, r), RangeAnswer::kWhole) << ignored;
}

TEST(FileShareHeaders, DispositionAndBearer) {
  EXPECT_EQ(content_disposition("a b.png", true), "inline; filename*=UTF-8''a%20b.png");
  EXPECT_EQ(content_disposition("\";x.html", false), "attachment; filename*=UTF-8''%22%3Bx.html");
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer  abc "), "abc");
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token(nullptr));
}

class FileShareStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/file_share_unittest.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = std::string(dir) + "/file_share";
  }
  void TearDown() override { std::filesystem::remove_all(std::filesystem::path(dir_).parent_path()); }
  static UploadSlot slot(std::uint64_t size) {
    return UploadSlot{new_upload_slot_id(), "upload.example", "a@example", "n.txt", size, "text/plain", 1000};
  }
  bool put(FileShareStore& store, const UploadSlot& s, std::int64_t expires, std::string_view bytes) {
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, bytes.data(), bytes.size());
    std::string error;
    bool ok = store.put(s, expires, body, error);
    evbuffer_free(body);
    return ok;
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir_), {}));
  }
  std::string dir_;
};

TEST_F(FileShareStoreTest, StoredFileReadsBack) {
  FileShareStore store(dir_);
  std::string error;
  ASSERT_TRUE(store.ready(error)) << error;
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const UploadSlot s = slot(5);
  EXPECT_FALSE(store.exists(s.id));
  ASSERT_TRUE(put(store, s, 2000, "hello"));
  EXPECT_TRUE(store.exists(s.id));
  EXPECT_EQ(store.bytes(), 5u);
  std::optional<StoredFile> f = store.open(s.id, 1500);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->slot, s);
  EXPECT_EQ(f->expires, 2000);
  char buf[16] = {};
  EXPECT_EQ(read(f->fd.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf), "hello");
  EXPECT_FALSE(put(store, s, 2000, "again")) << "a second upload to the same slot";
  EXPECT_EQ(entries(), 2u) << "the file and its metadata, nothing else";
  EXPECT_FALSE(store.open(new_upload_slot_id(), 1500));
  EXPECT_FALSE(store.open("../../etc/passwd", 1500));
}

TEST_F(FileShareStoreTest, ExpiredAndBrokenFilesAreSwept) {
  FileShareStore store(dir_);
  std::string error;
  ASSERT_TRUE(store.ready(error)) << error;
  const UploadSlot old = slot(3), kept = slot(4), forever = slot(1);
  ASSERT_TRUE(put(store, old, 1000, "old"));
  ASSERT_TRUE(put(store, kept, 5000, "kept"));
  ASSERT_TRUE(put(store, forever, 0, "f"));
  std::ofstream(dir_ + "/" + new_upload_slot_id() + ".part") << "half";
  std::ofstream(dir_ + "/" + new_upload_slot_id() + ".meta") << "0\ngarbage";
  EXPECT_EQ(store.sweep(2000), 1u);
  EXPECT_FALSE(store.exists(old.id));
  EXPECT_TRUE(store.exists(kept.id));
  EXPECT_EQ(entries(), 4u);
  EXPECT_EQ(store.files(), 2u);
  EXPECT_EQ(store.bytes(), 5u);
  EXPECT_FALSE(store.open(kept.id, 6000)) << "expired when read, even before a sweep";
  EXPECT_FALSE(store.exists(kept.id));
  EXPECT_TRUE(store.open(forever.id, 1LL << 40));
}

// A sweep in bounded batches ends as one sweep would, and counts uploads made meanwhile.
TEST_F(FileShareStoreTest, SweepGoesInBatches) {
  FileShareStore store(dir_);
  std::string error;
  ASSERT_TRUE(store.ready(error)) << error;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(put(store, slot(3), 1000, "old"));
  ASSERT_TRUE(put(store, slot(4), 0, "kept"));
  std::size_t removed = store.sweep(2000, 3);
  EXPECT_LE(removed, 3u);
  EXPECT_TRUE(store.sweeping());
  ASSERT_TRUE(put(store, slot(2), 0, "mw"));
  int calls = 1;
  while (store.sweeping()) {
    removed += store.sweep(2000, 3);
    ASSERT_LT(++calls, 10);
  }
  EXPECT_EQ(calls, 4) << "12 entries, 3 at a time";
  EXPECT_EQ(removed, 5u);
  EXPECT_EQ(store.files(), 2u);
  EXPECT_EQ(store.bytes(), 6u);
  EXPECT_EQ(entries(), 4u);
}

std::uint64_t vm_size_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("VmSize:")) return std::stoull(line.substr(7));
  return 0;
}

// Clients that ask for a large file and read none of it keep what they asked for in the
// process (libevent maps a file segment whole): past the budget they get 503, and the process's
// address space does not grow by their files.
TEST_F(FileShareStoreTest, SlowDownloadsAreBounded) {
  event_base* base = event_base_new();
  ipc::HttpSettings settings;
  FileShareHandler handler(base, dir_, settings);
  std::string error;
  ASSERT_TRUE(handler.start(error)) << error;
  constexpr std::uint64_t kSize = 16 << 20;
  const UploadSlot s = slot(kSize);
  ASSERT_TRUE(put(handler.store(), s, 0, std::string(kSize, 'x')));
  handler.set_serving_budget(2 * kSize);

  evhttp* http = evhttp_new(base);
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
  ASSERT_NE(bound, nullptr);
  sockaddr_in addr{};
  socklen_t addr_len = sizeof addr;
  ASSERT_EQ(getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&addr), &addr_len), 0);
  evhttp_set_gencb(
      http,
      [](evhttp_request* req, void* arg) {
        RequestInfo info;
        info.peer = "test";
        info.path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
        static_cast<FileShareHandler*>(arg)->on_request(req, info);
      },
      &handler);
  auto run = [&] {
    timeval tv{0, 300000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
  };
  run();
  const std::uint64_t before = vm_size_kib();
  constexpr int kClients = 16;
  std::vector<int> clients;
  const std::string request = "GET /file_share/" + s.id + "/n.txt HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < kClients; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    clients.push_back(fd);
  }
  run();
  const std::uint64_t grown_kib = vm_size_kib() - before;
  EXPECT_LT(grown_kib * 1024, 4 * kSize) << "the address space grew by the files being served";
  EXPECT_LE(handler.serving(), 2 * kSize);
  int refused = 0;
  for (int fd : clients) {
    char head[16] = {};
    if (read(fd, head, 12) == 12 && std::string_view(head, 12) == "HTTP/1.1 503") ++refused;
  }
  EXPECT_EQ(refused, kClients - 2);
  for (int fd : clients) close(fd);
  run();
  EXPECT_EQ(handler.serving(), 0u) << "closed connections give their bytes back";

  // A file over the budget: one download at a time.
  handler.set_serving_budget(kSize / 2);
  clients.clear();
  for (int i = 0; i < 2; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    clients.push_back(fd);
    run();
  }
  EXPECT_EQ(handler.serving(), kSize);
  char head[16] = {};
  EXPECT_EQ(read(clients[1], head, 12), 12);
  EXPECT_EQ(std::string_view(head, 12), "HTTP/1.1 503");
  for (int fd : clients) close(fd);
  run();
  evhttp_free(http);
  event_base_free(base);
}

}  // namespace
}  // namespace xmppd::http
