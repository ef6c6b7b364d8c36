// The header values the file sharing handler reads (http/file_share_headers.h), on any bytes:
// a served range always lies inside the file, and a Bearer token is a part of its header.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/file_share_headers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  std::uint64_t file_size = 0;
  for (int i = 0; i < 8; ++i) file_size = file_size << 8 | data[i];
  file_size %= 1ull << 40;
  const std::string header(reinterpret_cast<const char*>(data + 8), size - 8);
  xmppd::http::ByteRange r;
  if (xmppd::http::parse_range(header.c_str(), file_size, r) == xmppd::http::RangeAnswer::kPartial &&
      (r.first > r.last || r.last >= file_size)) {
    std::fprintf(stderr, "range %llu-%llu outside a file of %llu bytes\n", static_cast<unsigned long long>(r.first),
                 static_cast<unsigned long long>(r.last), static_cast<unsigned long long>(file_size));
    std::abort();
  }
  if (auto token = xmppd::http::bearer_token(header.c_str());
      token && (token->empty() || header.find(*token) == std::string::npos))
    std::abort();
  return 0;
}
