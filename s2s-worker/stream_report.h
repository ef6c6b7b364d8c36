// xmppctl show s2s and close s2s on the s2s worker's side: stream_report.cc defines the
// members of InboundStream, OutboundStream and Federation that report a stream and close
// the streams of a domain; certificate_report.h has the TLS part of a report.
#pragma once

#include <cstddef>

#include "s2s-worker/certificate_report.h"

namespace xmppd::s2s {

// A report goes in pages (runtime/admin_pages.h), each entry well within kAdminEntryBytes:
// a stream lists at most this many domain pairs (kMaxReportedString each; an inbound stream
// can claim up to InboundStream::kMaxClaimedDomains).
inline constexpr std::size_t kMaxReportedRoutes = 24;

}  // namespace xmppd::s2s
