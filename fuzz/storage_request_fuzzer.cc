// What the storage process does with a record from the router (storage/storage_service.h):
// the router parses client streams and may be compromised, so every record is hostile.
// A real SQLite database stands behind the service (the PostgreSQL one needs a server).
//
// Input: one RouterToStorage record. Invariants: a record that does not decode, or a
// request outside the contract, is refused with an explanation; any other request gets
// answers that all carry its serial, every page but the last marked `more`.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "proto/channel.h"
#include "router_storage.pb.h"
#include "storage/storage_service.h"
#include "store/sqlite_database.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

xmppd::storage::StorageService& service() {
  static xmppd::storage::StorageService* instance = [] {
    static char dir[] = "/tmp/storage_request_fuzzer.XXXXXX";
    check(mkdtemp(dir) != nullptr, "no temporary directory");
    const std::string path = std::string(dir) + "/store.sqlite";
    return new xmppd::storage::StorageService(
        [path](std::string& error) -> std::unique_ptr<xmppd::store::Database> {
          return xmppd::store::SqliteDatabase::open(path, error);
        });
  }();
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  google::protobuf::SetLogHandler(nullptr);
  xmppd::ipc::RouterToStorage envelope;
  std::string why;
  if (!xmppd::ipc::decode_envelope(envelope, std::span(data, size), why)) {
    check(!why.empty(), "a record refused without an explanation");
    return 0;
  }
  std::vector<xmppd::ipc::StorageAnswer> answers;
  if (!service().handle(envelope.request(), answers, why)) {
    check(!why.empty(), "a request refused without an explanation");
    service().router_gone();  // as the process does when it drops the link
    return 0;
  }
  check(!answers.empty(), "a request without an answer");
  for (std::size_t i = 0; i < answers.size(); ++i) {
    check(answers[i].serial() == envelope.request().serial(), "an answer with another serial");
    check(answers[i].more() == (i + 1 < answers.size()), "pages marked wrongly");
  }
  return 0;
}
