// Small helpers of loadgen's modes (loadgen.cc, muc_run.cc): numbers into stanzas and JSON,
// time and CPU arithmetic. Nothing here touches the network.
#pragma once

#include <sys/resource.h>
#include <sys/time.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

namespace loadgen {

inline void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// The start of a timed message both modes send: `prefix` (up to "id='"), the sequence number,
// and a body that begins with the send time; returns where the body starts.
inline std::size_t begin_message(std::string& out, const std::string& prefix, std::uint64_t seq, std::uint64_t now) {
  out += prefix;
  append_uint(out, seq);
  out += "'><body>";
  std::size_t body_start = out.size();
  append_uint(out, now);
  out += ' ';
  return body_start;
}

// The end of that message: the body padded to the size of `padding` (--body-bytes), closed.
inline void end_message(std::string& out, std::size_t body_start, const std::string& padding) {
  std::size_t body_len = out.size() - body_start;
  if (body_len + 1 < padding.size()) {
    out += ' ';
    out.append(padding, 0, padding.size() - body_len - 1);
  }
  out += "</body></message>";
}

// user + system CPU seconds of this process.
inline double cpu_seconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

inline timeval to_timeval(double seconds) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  return tv;
}

inline double seconds_between(std::uint64_t from_ns, std::uint64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}

}  // namespace loadgen
