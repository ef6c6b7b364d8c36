// The conversion of one Prosody user's records (xmppctl/prosody_user.h), which xmppctl import
// prosody runs on files others could write into (offline messages, subscription requests):
// the input is given as every store at once. Invariants: no crash; the account converter
// refuses with "FILE:LINE: message"; convert_data never refuses, and each warning line names
// the file it came from; every stanza and element kept parses again as the router will.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "xml/fragment.h"
#include "xmppctl/prosody_user.h"

namespace {

using xmppd::ctl::prosody_import::RawFile;
using xmppd::ctl::prosody_import::RawUser;

void check_warnings(const std::string& warnings) {
  std::size_t at = 0;
  while (at < warnings.size()) {
    const std::size_t end = warnings.find('\n', at);
    if (end == std::string::npos) std::abort();  // every warning is a whole line
    if (warnings.compare(at, 2, "s/") != 0) std::abort();
    at = end + 1;
  }
}

void check_parses(const std::string& text, std::string_view ns) {
  if (!xmppd::xml::parse_fragment(text, ns, 1 << 20, nullptr)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (!xmppd::ctl::prosody_import::convert_account(RawFile{"s/accounts", bytes, false}, error) &&
      error.compare(0, 11, "s/accounts:") != 0)
    std::abort();
  RawUser files;
  for (const char* store : {"roster", "vcard", "private", "pep"})
    files[store] = RawFile{std::string("s/") + store, bytes, false};
  files["offline"] = RawFile{"s/offline", bytes, true};
  files["archive"] = RawFile{"s/archive", bytes, true};
  std::string warnings;
  const auto user = xmppd::ctl::prosody_import::convert_data("alice", "chat.test", files, warnings);
  check_warnings(warnings);
  for (const auto& m : user.offline) check_parses(m.stanza, "jabber:client");
  for (const auto& m : user.archive) check_parses(m.stanza, "");
  for (const auto& [ns, name, value] : user.private_elements) check_parses(value, "");
  if (user.vcard) check_parses(*user.vcard, "");
  return 0;
}
