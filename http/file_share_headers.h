// What the file sharing handler (http/file_share.cc) reads from and writes into headers: the
// one Range it serves (RFC 9110 §14), the Content-Disposition of a shared file (RFC 6266,
// filename* by RFC 8187), the Bearer token of a PUT (RFC 6750). Pure functions, so that a
// unit test and a fuzz target (fuzz/http_range_fuzzer.cc) drive them alone.
//
// Trust: every header value is the client's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xmppd::http {

struct ByteRange {
  std::uint64_t first = 0, last = 0;  // inclusive, last < size
  std::uint64_t length() const { return last - first + 1; }
};

enum class RangeAnswer { kWhole, kPartial, kUnsatisfiable };
// A Range header against a file of `size` bytes: kPartial with `range` for one satisfiable
// "bytes=" range; kUnsatisfiable (416) when it is well-formed but starts past the end (or
// the file is empty); kWhole for no header, another unit, several ranges or a malformed one
// (which RFC 9110 lets a server ignore).
RangeAnswer parse_range(const char* header, std::uint64_t size, ByteRange& range);

// "inline; filename*=UTF-8''…" or "attachment; …", the name percent-encoded.
std::string content_disposition(std::string_view filename, bool inline_);

// The token of "Authorization: Bearer TOKEN" (the scheme case-insensitive), or nullopt.
std::optional<std::string_view> bearer_token(const char* header);

}  // namespace xmppd::http
