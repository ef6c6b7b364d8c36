// JID preparation (xmpp/jid.h) on any bytes: a JID that parses gives a full() that parses
// to the same parts and the same full(); preparing a prepared part changes nothing; bare()
// parses too; prepared parts are at most 1023 bytes without controls; and the hand-written
// ASCII path gives what libidn's profiles give.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <stringprep.h>

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

// libidn's own preparation, the reference the ASCII path must agree with.
std::optional<std::string> libidn(std::string_view in, const Stringprep_profile* profile) {
  if (in.size() > 1023 || in.find('\0') != std::string_view::npos) return std::nullopt;
  std::string buffer(in);
  buffer.resize(1024, '\0');
  if (stringprep(buffer.data(), buffer.size(), Stringprep_profile_flags{}, profile) != STRINGPREP_OK)
    return std::nullopt;
  std::string out(buffer.c_str());
  if (out.empty()) return std::nullopt;
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

void check_ascii_agrees(std::string_view text) {
  if (!is_ascii(text)) return;
  if (xmppd::xmpp::prepare_localpart(text) != libidn(text, stringprep_xmpp_nodeprep))
    fail("the ASCII localpart differs from Nodeprep", text);
  if (xmppd::xmpp::prepare_resourcepart(text) != libidn(text, stringprep_xmpp_resourceprep))
    fail("the ASCII resourcepart differs from Resourceprep", text);
  auto domain = xmppd::xmpp::prepare_domainpart(text);
  std::string_view undotted = text;
  if (!undotted.empty() && undotted.back() == '.') undotted.remove_suffix(1);
  if (domain && domain != libidn(undotted, stringprep_nameprep)) fail("the ASCII domainpart differs from Nameprep", text);
}

void check_part(std::string_view part, std::string_view full) {
  if (part.size() > 1023) fail("a prepared part is longer than 1023 bytes", full);
  if (!xmppd::xmpp::valid_text(part)) fail("a prepared part has controls or is not UTF-8", full);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_idempotent(xmppd::xmpp::prepare_localpart, text, "prepare_localpart is not idempotent");
  check_idempotent(xmppd::xmpp::prepare_domainpart, text, "prepare_domainpart is not idempotent");
  check_idempotent(xmppd::xmpp::prepare_resourcepart, text, "prepare_resourcepart is not idempotent");

  check_ascii_agrees(text);

  auto jid = Jid::parse(text);
  if (!jid) return 0;
  check_part(jid->local(), text);
  check_part(jid->domain(), text);
  check_part(jid->resource(), text);
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
