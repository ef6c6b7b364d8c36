// The typed decoding of each IPC channel's records (proto/channel.h): control (parent and
// children), router and s2s worker to the tls helper, router and auth helper, router and s2s
// worker, and the admin socket.
//
// Input: one byte choosing the envelope type, then the record. Invariant: a record that
// decode_envelope accepts re-encodes to bytes that decode again, to the same message (the
// same encoding), with the same message type; a refused record leaves an explanation.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "admin.pb.h"
#include "control.pb.h"
#include "proto/channel.h"
#include "router_auth.pb.h"
#include "router_s2s.pb.h"
#include "tls_signer.pb.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// Maps iterate in no fixed order unless asked to.
std::string encode(const google::protobuf::MessageLite& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    check(message.SerializeToCodedStream(&coded), "an accepted record does not encode");
  }  // the streams give back what they did not use as they go
  return out;
}

template <class Envelope>
void round_trip(std::span<const std::uint8_t> record) {
  Envelope first;
  std::string why;
  if (!xmppd::ipc::decode_envelope(first, record, why)) {
    check(!why.empty(), "refused without an explanation");
    return;
  }
  const std::string encoded = encode(first);
  Envelope second;
  std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  check(xmppd::ipc::decode_envelope(second, bytes, why), "a re-encoded record is refused");
  check(second.msg_case() == first.msg_case(), "the message type changed");
  check(encode(second) == encoded, "the message changed in the round trip");
}

}  // namespace

// protobuf logs each string field that is not UTF-8; at fuzzing speed that is noise.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::span<const std::uint8_t> record(data + 1, size - 1);
  using namespace xmppd::ipc;
  switch (data[0] % 10) {
    case 0: round_trip<ParentToChild>(record); break;
    case 1: round_trip<ChildToParent>(record); break;
    case 2: round_trip<ToTlsHelper>(record); break;
    case 3: round_trip<FromTlsHelper>(record); break;
    case 4: round_trip<RouterToAuth>(record); break;
    case 5: round_trip<AuthToRouter>(record); break;
    case 6: round_trip<RouterToS2s>(record); break;
    case 7: round_trip<S2sToRouter>(record); break;
    case 8: round_trip<AdminRequest>(record); break;
    case 9: round_trip<AdminResponse>(record); break;
  }
  return 0;
}
