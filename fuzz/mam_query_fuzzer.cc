// XEP-0313 archive queries as a client writes them (router/modules/mam_query.cc): the
// urn:xmpp:mam:2 form, RSM paging and XEP-0082 dates, all from the network. The input is either
// one element (parsed as a client stream parses it) or a date alone; a query accepted must
// hold only what the module can bind: dates that format back, a start not after its end,
// ids of bounded length, no before and after together.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/xml_invariants.h"
#include "router/modules/mam_query.h"
#include "xml/fragment.h"

using xmppd::fuzz::fail;
namespace mam = xmppd::router::mam;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const bool date_only = input.ConsumeBool();
  const std::string text = input.ConsumeRemainingBytesAsString();
  if (date_only) {
    if (auto when = mam::parse_datetime(text)) {
      // Within the four-digit years the parser reads, a date formats and parses back.
      auto again = mam::parse_datetime(mam::format_datetime(*when));
      if (*when >= 0 && *when < 253402300800 && (!again || *again != *when))
        fail("a date does not survive its own format", text);
    }
    return 0;
  }
  xmppd::xml::FragmentParser parser("jabber:client", xmppd::xml::FragmentParser::Content::kWhole);
  auto element = parser.parse(text, 64 << 10, nullptr);
  if (!element) return 0;
  mam::Query q;
  std::string error;
  if (!mam::parse_query(*element, q, error)) {
    if (error.empty()) fail("a query refused without a reason", text);
    return 0;
  }
  if (q.start && q.end && *q.start > *q.end) fail("start after end accepted", text);
  if (q.before && q.after) fail("before and after accepted together", text);
  for (const std::string& id : q.ids)
    if (id.empty() || id.size() > 256) fail("an id out of bounds accepted", text);
  if (!q.ids.empty() && (q.with || q.start || q.end)) fail("ids combined with filters accepted", text);
  return 0;
}
