// The router's end of the stanza link, over a real socketpair with the worker's end of
// proto/stanza_link.h on the other side: what the router sends, and which stanzas from the
// worker reach the router (exactly the checked ones; a bad stanza costs only itself).
#include "router/s2s_link.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "proto/frame.h"
#include "xml/element_test_util.h"
#include "xmpp/stanza.h"

namespace xmppd::router {
namespace {

using WorkerEnd = ipc::StanzaLink<ipc::S2sToRouter, ipc::RouterToS2s>;
using xml::testing::attr;

// Freed last: every event of the links below belongs to it.
struct Base {
  struct event_base* base = event_base_new();
  ~Base() { event_base_free(base); }
};

struct Fixture : Base {
  std::set<std::string, std::less<>> local{"chat.test", "guest.test"};
  std::vector<xml::Element> routed;
  std::vector<std::string> violations;
  std::vector<ipc::RemoteStanza> at_worker;
  int caught_up = 0;
  S2sLink link{base, [this](std::string_view d) { return local.count(d) > 0; },
               [this](xml::Element e, const xmpp::Jid& to) {
                 EXPECT_EQ(to.full(), *e.attribute("to"));
                 routed.push_back(std::move(e));
               },
               [this](std::string_view why) { violations.emplace_back(why); }, [this] { ++caught_up; }};
  UniqueFd worker_fd;
  std::unique_ptr<WorkerEnd> worker;

  Fixture() {
    UniqueFd router_fd;
    EXPECT_TRUE(ipc::make_seqpacket_pair(WorkerEnd::kMaxRecord, router_fd, worker_fd));
    link.link(std::move(router_fd));
    worker = std::make_unique<WorkerEnd>(
        base, std::move(worker_fd), "router", [this](const ipc::RemoteStanza& s) { at_worker.push_back(s); },
        [](ipc::CloseReason, std::string_view) {});
  }
  void run_briefly() {
    timeval tv{0, 50 * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
  }
  // One stanza from the worker, as it would pass one from a remote server.
  std::size_t from_worker(std::string_view from_domain, std::string_view to_domain, std::string_view xml) {
    routed.clear();
    EXPECT_TRUE(worker->send(from_domain, to_domain, xml));
    run_briefly();
    return routed.size();
  }
};

constexpr std::string_view kMessage =
    "<message from='Juliet@Remote.Example/balcony' to='romeo@chat.test' type='chat'><body>hi</body></message>";

TEST(S2sLink, CheckedStanzaReachesTheRouterWithPreparedAddresses) {
  Fixture f;
  ASSERT_EQ(f.from_worker("remote.example", "chat.test", kMessage), 1u);
  const xml::Element& m = f.routed.front();
  EXPECT_TRUE(m.is(xmpp::kClientNs, "message"));
  EXPECT_EQ(attr(m, "from"), "juliet@remote.example/balcony");
  EXPECT_EQ(attr(m, "to"), "romeo@chat.test");
  EXPECT_NE(m.child(xmpp::kClientNs, "body"), nullptr);
  EXPECT_TRUE(f.violations.empty());
}

TEST(S2sLink, EachStanzaKindPasses) {
  Fixture f;
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<presence from='a@remote.example' to='b@chat.test'/>"), 1u);
  EXPECT_EQ(
      f.from_worker("remote.example", "chat.test",
                    "<iq from='remote.example' to='chat.test' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"),
      1u);
}

TEST(S2sLink, DomainsMustBeRemoteToLocal) {
  Fixture f;
  // From a domain this server serves: a forgery of a local user.
  EXPECT_EQ(f.from_worker("chat.test", "guest.test",
                          "<message from='alice@chat.test' to='bob@guest.test'><body>x</body></message>"),
            0u);
  // For a domain this server does not serve.
  EXPECT_EQ(f.from_worker("remote.example", "other.example", "<message from='a@remote.example' to='b@other.example'/>"),
            0u);
}

TEST(S2sLink, AddressesMustMatchTheDomains) {
  Fixture f;
  // 'from' at another remote domain than the one the stanza came from.
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<message from='a@evil.example' to='b@chat.test'/>"), 0u);
  // 'to' at another local domain than the one it was sent to.
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<message from='a@remote.example' to='b@guest.test'/>"), 0u);
  // Missing or malformed addresses.
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<message to='b@chat.test'/>"), 0u);
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<message from='a@remote.example'/>"), 0u);
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<message from='a@@remote.example' to='b@chat.test'/>"), 0u);
  // The domains as given must be the prepared ones.
  EXPECT_EQ(f.from_worker("Remote.Example", "chat.test", "<message from='a@remote.example' to='b@chat.test'/>"), 0u);
}

TEST(S2sLink, OnlyOneStanzaInTheClientNamespace) {
  Fixture f;
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<message from='a@remote.example' to='b@chat.test'>"), 0u);
  EXPECT_EQ(f.from_worker("remote.example", "chat.test",
                          "<message from='a@remote.example' to='b@chat.test'/><message from='a@remote.example' "
                          "to='b@chat.test'/>"),
            0u);
  EXPECT_EQ(f.from_worker("remote.example", "chat.test",
                          "<message xmlns='jabber:server' from='a@remote.example' to='b@chat.test'/>"),
            0u);
  EXPECT_EQ(f.from_worker("remote.example", "chat.test",
                          "<db:result xmlns:db='jabber:server:dialback' "
                          "from='remote.example' to='chat.test'>key</db:result>"),
            0u);
  EXPECT_EQ(f.from_worker("remote.example", "chat.test", "<stanza from='a@remote.example' to='b@chat.test'/>"), 0u);
}

TEST(S2sLink, ABadStanzaCostsOnlyItself) {
  Fixture f;
  ASSERT_TRUE(f.worker->send("chat.test", "chat.test", "<message from='a@chat.test' to='b@chat.test'/>"));
  ASSERT_TRUE(f.worker->send("remote.example", "chat.test", "not xml"));
  ASSERT_TRUE(f.worker->send("remote.example", "chat.test", kMessage));
  f.run_briefly();
  ASSERT_EQ(f.routed.size(), 1u);
  EXPECT_EQ(attr(f.routed.front(), "to"), "romeo@chat.test");
  EXPECT_TRUE(f.violations.empty());
}

TEST(S2sLink, UndecodableRecordIsAViolation) {
  Fixture f;
  UniqueFd router_fd, raw;
  ASSERT_TRUE(ipc::make_seqpacket_pair(WorkerEnd::kMaxRecord, router_fd, raw));
  f.link.link(std::move(router_fd));  // a fresh link replaces the first
  std::string garbage("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
  ASSERT_EQ(
      ipc::send_record(raw.get(), std::span(reinterpret_cast<const std::uint8_t*>(garbage.data()), garbage.size()), {}),
      ipc::SendStatus::kSent);
  f.run_briefly();
  ASSERT_EQ(f.violations.size(), 1u);
  EXPECT_TRUE(f.routed.empty());
}

TEST(S2sLink, SentStanzaKeepsItsNamespaceImplicit) {
  Fixture f;
  xml::Element m(std::string(xmpp::kClientNs), "message");
  m.set_attribute("from", "romeo@chat.test/orchard");
  m.set_attribute("to", "juliet@remote.example");
  xml::Element body(std::string(xmpp::kClientNs), "body");
  body.add_text("hello");
  m.add_child(std::move(body));
  ASSERT_TRUE(f.link.send("chat.test", "remote.example", m));
  f.run_briefly();
  ASSERT_EQ(f.at_worker.size(), 1u);
  EXPECT_EQ(f.at_worker[0].from_domain(), "chat.test");
  EXPECT_EQ(f.at_worker[0].to_domain(), "remote.example");
  EXPECT_EQ(f.at_worker[0].xml(),
            "<message from='romeo@chat.test/orchard' to='juliet@remote.example'><body>hello</body></message>");
}

// A worker that reads slower than stanzas come: the link says it is behind well before it
// refuses, and says once when it has caught up, so that the router can hold its senders
// back instead of bouncing their stanzas.
TEST(S2sLink, CongestionIsReportedBeforeRefusalAndItsEndOnce) {
  Fixture f;
  xml::Element m(std::string(xmpp::kClientNs), "message");
  m.set_attribute("from", "romeo@chat.test/orchard");
  m.set_attribute("to", "juliet@remote.example");
  xml::Element body(std::string(xmpp::kClientNs), "body");
  body.add_text(std::string(70 << 10, 'x'));  // one record each
  m.add_child(std::move(body));
  int sent = 0;
  while (!f.link.congested() && sent < 1000) {
    ASSERT_TRUE(f.link.send("chat.test", "remote.example", m)) << sent;
    ++sent;
  }
  ASSERT_TRUE(f.link.congested());
  EXPECT_LT(sent, 1000);
  // Behind, but what was already read can still go: send() takes more before refusing.
  ASSERT_TRUE(f.link.send("chat.test", "remote.example", m));
  ++sent;
  int more = 0;
  while (f.link.send("chat.test", "remote.example", m) && more < 1000) ++more;
  sent += more;
  EXPECT_GT(more, 8);
  EXPECT_LT(more, 1000);
  EXPECT_EQ(f.caught_up, 0);
  for (int i = 0; i < 50 && f.at_worker.size() < static_cast<std::size_t>(sent); ++i) f.run_briefly();
  EXPECT_EQ(f.at_worker.size(), static_cast<std::size_t>(sent));
  EXPECT_EQ(f.caught_up, 1);
  EXPECT_FALSE(f.link.congested());
}

TEST(S2sLink, SendFailsWithoutAWorker) {
  {
    Base base;
    S2sLink unlinked(
        base.base, [](std::string_view) { return false; }, [](xml::Element, const xmpp::Jid&) {},
        [](std::string_view) {}, [] {});
    xml::Element m(std::string(xmpp::kClientNs), "message");
    EXPECT_FALSE(unlinked.send("chat.test", "remote.example", m));
  }
  // The worker went away: the link is closed, and sending says so.
  Fixture f;
  f.worker.reset();
  f.run_briefly();
  xml::Element m(std::string(xmpp::kClientNs), "message");
  EXPECT_FALSE(f.link.send("chat.test", "remote.example", m));
  EXPECT_TRUE(f.violations.empty());
}

}  // namespace
}  // namespace xmppd::router
