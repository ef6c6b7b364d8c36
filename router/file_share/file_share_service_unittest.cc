// The file sharing service (file_share_service.h) against a real SQLite user store: its disco,
// a slot whose token the HTTP process would accept, who may upload (Prosody's access rule over
// two VirtualHosts), the refusals (name, size, type), both quotas with their 4 KiB minimum
// charge and daily slot count, and the sweep that keeps the table to the quotas' windows.
#include "router/file_share/file_share_service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "common/upload_slot.h"
#include "xml/fragment.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kUploadNs = "urn:xmpp:http:upload:0";
constexpr std::string_view kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";

// The parts of the router the service uses: the store, and where its answers go.
class TestServer final : public Server {
 public:
  explicit TestServer(UserStore& store) : store_(store) {}
  std::vector<xml::Element> sent;

  bool is_local(std::string_view) const override { return false; }
  // Two VirtualHosts: example.org (the component's parent) and second.example.
  const HostConfig* host(std::string_view name) const override {
    for (const HostConfig& h : hosts_)
      if (h.name == name) return &h;
    return nullptr;
  }
  void send(const xml::Element& stanza) override { sent.push_back(stanza); }
  void bounce(const xml::Element&, std::string_view, std::string_view, std::string_view) override {}
  void request(xml::Element, Reply) override {}
  void to_user(const xml::Element&, const xmpp::Jid&) override {}
  void user_removed(const std::string&) override {}
  LocalSessions& sessions() override { std::abort(); }
  UserStore& store() override { return store_; }
  ItemStore& items() override { std::abort(); }
  ArchiveStore* archive() override { return nullptr; }
  AuthLink& auth() override { std::abort(); }
  const UserQuotas& quotas() const override { return quotas_; }
  Im& im() override { std::abort(); }
  void from_component(xml::Element stanza) override { sent.push_back(std::move(stanza)); }

 private:
  UserStore& store_;
  UserQuotas quotas_;
  std::vector<HostConfig> hosts_ = [] {
    std::vector<HostConfig> hosts(2);
    hosts[0].name = "example.org";
    hosts[1].name = "second.example";
    return hosts;
  }();
};

class FileShareServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/file_share_service_unittest.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    std::string error;
    store_ = UserStore::open(dir_ + "/user.sqlite", error);
    ASSERT_NE(store_, nullptr) << error;
    server_.emplace(*store_);
    options_.set_domain("upload.example.org");
    options_.set_parent_host("example.org");
    options_.set_size_limit(1000);
    options_.set_expires_after(3600);
    options_.set_daily_quota(1 << 20);
    options_.set_global_quota(0);
    options_.add_allowed_file_types("image/*");
    options_.add_allowed_file_types("application/octet-stream");
    options_.set_base_url("https://upload.example.org:5281/");
    service_.emplace(*server_, options_, "key");
  }
  void TearDown() override {
    service_.reset();
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The answer to `payload` from `from`.
  xml::Element ask(std::string_view from, std::string_view payload) {
    std::string text = "<iq type='get' id='q' from='" + std::string(from) + "' to='upload.example.org'>" +
                       std::string(payload) + "</iq>";
    auto iq = xml::parse_fragment(text, "jabber:client", 1 << 16);
    EXPECT_TRUE(iq);
    server_->sent.clear();
    service_->receive(*iq, *xmpp::Jid::parse(from), *xmpp::Jid::parse("upload.example.org"));
    EXPECT_EQ(server_->sent.size(), 1u);
    return server_->sent.empty() ? xml::Element("jabber:client", "none") : server_->sent.back();
  }
  xml::Element request(std::string_view from, std::string_view name, std::string_view size,
                       std::string_view type = "image/png") {
    return ask(from, "<request xmlns='urn:xmpp:http:upload:0' filename='" + std::string(name) + "' size='" +
                         std::string(size) + "' content-type='" + std::string(type) + "'/>");
  }
  static std::string condition(const xml::Element& reply) {
    const xml::Element* error = reply.child("jabber:client", "error");
    if (error == nullptr) return "none";
    for (const xml::Element* c : error->children())
      if (c->ns() == kStanzasNs && c->name() != "text") return c->name();
    return "?";
  }

  std::string dir_;
  std::unique_ptr<UserStore> store_;
  std::optional<TestServer> server_;
  ipc::FileShareService options_;
  std::optional<FileShareService> service_;
};

TEST_F(FileShareServiceTest, DiscoSaysWhatAndHowLarge) {
  xml::Element info = ask("juliet@example.org/a", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
  std::string text;
  info.serialize(text);
  EXPECT_NE(text.find("category='store'"), std::string::npos) << text;
  EXPECT_NE(text.find("urn:xmpp:http:upload:0"), std::string::npos) << text;
  EXPECT_NE(text.find("<value>1000</value>"), std::string::npos) << text;
}

// The whole answer, to the byte: what clients (and caps hashes) have seen so far.
TEST_F(FileShareServiceTest, DiscoInfoIsExactly) {
  std::string text;
  ask("juliet@example.org/a", "<query xmlns='http://jabber.org/protocol/disco#info'/>").serialize(text);
  EXPECT_EQ(text,
            "<iq xmlns='jabber:client' type='result' id='q' from='upload.example.org' to='juliet@example.org/a'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'>"
            "<identity category='store' type='file' name='HTTP File Upload'/>"
            "<feature var='http://jabber.org/protocol/disco#info'/>"
            "<feature var='http://jabber.org/protocol/disco#items'/>"
            "<feature var='urn:xmpp:http:upload:0'/>"
            "<x xmlns='jabber:x:data' type='result'>"
            "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>"
            "<field var='max-file-size'><value>1000</value></field></x></query></iq>");
}

TEST_F(FileShareServiceTest, SlotCarriesATokenForItsUrl) {
  const auto before = static_cast<std::int64_t>(std::time(nullptr));
  xml::Element reply = request("juliet@example.org/a", "a b.png", "999");
  ASSERT_EQ(reply.attribute_or("type"), "result");
  const xml::Element* slot = reply.child(kUploadNs, "slot");
  ASSERT_NE(slot, nullptr);
  const xml::Element* put = slot->child(kUploadNs, "put");
  const xml::Element* header = put->child(kUploadNs, "header");
  const std::string token = header->text().substr(std::string_view("Bearer ").size());
  VerifiedSlot v = verify_upload_slot(token, "key");
  ASSERT_TRUE(v.slot);
  EXPECT_EQ(put->attribute_or("url"), "https://upload.example.org:5281/file_share/" + v.slot->id + "/a%20b.png");
  EXPECT_EQ(slot->child(kUploadNs, "get")->attribute_or("url"), put->attribute_or("url"));
  EXPECT_EQ(v.slot->uploader, "juliet@example.org");
  EXPECT_EQ(v.slot->filename, "a b.png");
  EXPECT_EQ(v.slot->size, 999u);
  EXPECT_GE(v.slot->expires, before + kUploadSlotSeconds);
  EXPECT_LE(v.slot->expires, before + kUploadSlotSeconds + 2);
}

// As Prosody: no list, the users of any VirtualHost; a list, only who it names.
TEST_F(FileShareServiceTest, AccessIsProsodys) {
  EXPECT_EQ(condition(request("juliet@example.org/a", "a.png", "10")), "none");
  EXPECT_EQ(condition(request("bob@second.example/a", "a.png", "10")), "none") << "another VirtualHost";
  EXPECT_EQ(condition(request("guest@elsewhere.net/x", "g.png", "10")), "forbidden");
  options_.add_access("guest@elsewhere.net");
  options_.add_access("second.example");
  service_->configure(options_, "key");
  EXPECT_EQ(condition(request("juliet@example.org/a", "a.png", "10")), "forbidden") << "the parent host is not added";
  EXPECT_EQ(condition(request("guest@elsewhere.net/x", "g.png", "10")), "none");
  EXPECT_EQ(condition(request("bob@second.example/a", "a.png", "10")), "none");
  EXPECT_EQ(condition(request("eve@elsewhere.net/x", "g.png", "10")), "forbidden");
}

TEST_F(FileShareServiceTest, RefusalsNameTheirCondition) {
  EXPECT_EQ(condition(request("romeo@elsewhere.net/a", "a.png", "10")), "forbidden");
  EXPECT_EQ(condition(request("example.org", "a.png", "10")), "forbidden");
  EXPECT_EQ(condition(request("juliet@example.org/a", "a.png", "1001")), "not-acceptable");
  EXPECT_EQ(condition(request("juliet@example.org/a", "a.html", "10", "text/html")), "not-acceptable");
  EXPECT_EQ(condition(request("juliet@example.org/a", "a.png", "10", "text/html; charset=utf-8")), "not-acceptable");
  xml::Element with_parameters = request("juliet@example.org/a", "a.png", "10", "Image/PNG; charset=x");
  ASSERT_EQ(condition(with_parameters), "none") << "parameters are dropped before the checks";
  std::string token = with_parameters.child(kUploadNs, "slot")->child(kUploadNs, "put")->child(kUploadNs, "header")->text();
  EXPECT_EQ(verify_upload_slot(token.substr(7), "key").slot->content_type, "image/png");
  xml::Element long_name = request("juliet@example.org/a", std::string(256, 'a'), "10");
  EXPECT_EQ(condition(long_name), "bad-request");
  EXPECT_EQ(long_name.child("jabber:client", "error")->child(kStanzasNs, "text")->text(), "File name too long");
  EXPECT_EQ(condition(ask("juliet@example.org/a", "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>")),
            "item-not-found");
  EXPECT_EQ(condition(ask("juliet@example.org/a", "<query xmlns='http://jabber.org/protocol/disco#items' node='x'/>")),
            "item-not-found");
  for (std::string_view size : {"0", "-1", "01", "1e3", "", "99999999999999999999"})
    EXPECT_EQ(condition(request("juliet@example.org/a", "a.png", size)), "bad-request") << size;
  for (std::string_view name : {"", ".", "..", "a/b", "a\\b"})
    EXPECT_EQ(condition(request("juliet@example.org/a", name, "10")), "bad-request") << name;
  EXPECT_EQ(condition(ask("juliet@example.org/a", "<other xmlns='x'/>")), "service-unavailable");
}

// Each slot is charged at least 4 KiB: three 10-byte slots pass a 10 KiB daily quota otherwise.
TEST_F(FileShareServiceTest, DailyAndGlobalQuotas) {
  options_.set_daily_quota(10240);
  service_->configure(options_, "key");
  EXPECT_EQ(condition(request("juliet@example.org/a", "1.png", "10")), "none");
  EXPECT_EQ(condition(request("juliet@example.org/a", "2.png", "1000")), "none");
  EXPECT_EQ(condition(request("juliet@example.org/a", "3.png", "10")), "resource-constraint");
  EXPECT_EQ(condition(request("nurse@example.org/a", "n.png", "1000")), "none") << "the daily quota is per user";

  options_.set_global_quota(4 * 4096);
  service_->configure(options_, "key");
  EXPECT_EQ(condition(request("nurse@example.org/a", "m.png", "10")), "none") << "3 x 4 KiB granted";
  EXPECT_EQ(condition(request("nurse@example.org/a", "m.png", "10")), "resource-constraint");
  options_.set_global_quota(0);
  service_->configure(options_, "key");

  // A day later the daily quota is free again and the rows of the grants are gone.
  store_->commit();
  service_->sweep(static_cast<std::int64_t>(std::time(nullptr)) + 86400 + 3600 + 1);
  store_->commit();
  EXPECT_EQ(condition(request("juliet@example.org/a", "4.png", "1000")), "none");
}

// RFC 6120 8.3.3.6: internal-server-error (the store failing) is of type cancel.
TEST_F(FileShareServiceTest, StoreFailureIsCancel) {
  store_->commit();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/user.sqlite").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "DROP TABLE upload_slot", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  xml::Element reply = request("juliet@example.org/a", "a.png", "10");
  EXPECT_EQ(condition(reply), "internal-server-error");
  EXPECT_EQ(reply.child("jabber:client", "error")->attribute_or("type"), "cancel");
}

TEST_F(FileShareServiceTest, AThousandSlotsADay) {
  options_.set_daily_quota(1ull << 40);
  service_->configure(options_, "key");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(condition(request("juliet@example.org/a", "a.png", "1")), "none") << i;
  xml::Element refused = request("juliet@example.org/a", "a.png", "1");
  EXPECT_EQ(condition(refused), "resource-constraint");
  EXPECT_EQ(refused.child("jabber:client", "error")->child(kStanzasNs, "text")->text(), "Too many uploads today");
}

}  // namespace
}  // namespace xmppd::router
