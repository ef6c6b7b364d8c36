// JID preparation (xmpp/jid.h) on any bytes: a JID that parses gives a full() that parses
// to the same parts and the same full(); preparing a prepared part changes nothing; bare()
// parses too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "xmpp/jid.h"

namespace {

using xmppd::xmpp::Jid;

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "invariant broken: %s\n[%.*s]\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

template <typename Prepare>
void check_idempotent(Prepare prepare, std::string_view text, const char* what) {
  auto once = prepare(text);
  if (!once) return;
  auto twice = prepare(*once);
  if (!twice || *twice != *once) fail(what, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_idempotent(xmppd::xmpp::prepare_localpart, text, "prepare_localpart is not idempotent");
  check_idempotent(xmppd::xmpp::prepare_domainpart, text, "prepare_domainpart is not idempotent");
  check_idempotent(xmppd::xmpp::prepare_resourcepart, text, "prepare_resourcepart is not idempotent");

  auto jid = Jid::parse(text);
  if (!jid) return 0;
  if (jid->domain().empty()) fail("a JID without a domain", text);
  std::string full = jid->full();
  auto again = Jid::parse(full);
  if (!again) fail("full() does not parse", full);
  if (again->local() != jid->local() || again->domain() != jid->domain() || again->resource() != jid->resource())
    fail("full() parses to other parts", full);
  if (again->full() != full) fail("full() is not stable", full);
  auto bare = Jid::parse(jid->bare());
  if (!bare || bare->has_resource() || bare->local() != jid->local() || bare->domain() != jid->domain())
    fail("bare() does not parse to the bare JID", jid->bare());
  // Each part prepared on its own gives what parsing the whole gave.
  if (jid->has_local() && xmppd::xmpp::prepare_localpart(jid->local()) != jid->local())
    fail("the localpart is not prepared", full);
  if (xmppd::xmpp::prepare_domainpart(jid->domain()) != jid->domain()) fail("the domainpart is not prepared", full);
  if (jid->has_resource() && xmppd::xmpp::prepare_resourcepart(jid->resource()) != jid->resource())
    fail("the resourcepart is not prepared", full);
  return 0;
}
