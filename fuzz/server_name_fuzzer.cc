// The server_name extension of a TLS ClientHello as the router and the s2s worker read it
// before libssl does (tls/server_name.h).
//
// Input: the extension's bytes, as a client sends them. Invariants: a name found is 1 to 255
// octets of printable ASCII without space or uppercase, does not end with a dot, and stands
// (in some case) in the input; written into a well-formed extension of its own it reads back
// the same.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "tls/server_name.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool appears_in(const std::string& name, std::span<const std::uint8_t> input) {
  for (std::size_t at = 0; at + name.size() <= input.size(); ++at) {
    std::size_t i = 0;
    while (i < name.size() && lower(static_cast<char>(input[at + i])) == name[i]) ++i;
    if (i == name.size()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> input(data, size);
  auto name = xmppd::tls::server_name_from_extension(input);
  if (!name) return 0;
  check(!name->empty() && name->size() <= 255, "name length");
  for (char c : *name) check(c > 0x20 && c < 0x7f && !(c >= 'A' && c <= 'Z'), "name octet");
  check(name->back() != '.', "trailing dot");
  check(appears_in(*name, input), "name not in the input");
  std::vector<std::uint8_t> again{static_cast<std::uint8_t>((name->size() + 3) >> 8),
                                  static_cast<std::uint8_t>(name->size() + 3), 0,
                                  static_cast<std::uint8_t>(name->size() >> 8), static_cast<std::uint8_t>(name->size())};
  again.insert(again.end(), name->begin(), name->end());
  check(xmppd::tls::server_name_from_extension(again) == name, "round trip");
  return 0;
}
