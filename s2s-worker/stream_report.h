// xmppctl show s2s and close s2s on the s2s worker's side: stream_report.cc defines the
// members of InboundStream, OutboundStream and Federation that report a stream and close
// the streams of a domain; certificate_report.h has the TLS part of a report.
#pragma once

#include <cstddef>

namespace xmppd::s2s {

// A report must fit one record to the parent (runtime/child.h: 64 KiB) with room to spare;
// streams past it are left out and the answer says so.
inline constexpr std::size_t kMaxReportBytes = 56 << 10;

}  // namespace xmppd::s2s
