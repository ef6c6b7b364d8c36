// xmppd-storage: the storage process.
//
// Holds:      the PostgreSQL password and the one connection to the server (libpq), made and
//             made again by this process alone.
// Talks to:   the parent (control) and the router (proto/router_storage.proto: catalog
//             statements by number, their parameters, and the rows they answer).
// Runs as:    storage_user, chrooted to DATA_PATH/storage, an empty root-owned directory.
// Syscalls:   sandbox/policy.cc, role "storage": IPC, the event loop, a TCP client (libpq).
//
// Why a process of its own rather than a connection the parent opens and hands to the router:
// libpq cannot adopt a socket someone else connected, the server asks for the password again
// at every reconnect (a server restart, a network blip), and the router parses client streams:
// it must hold neither the password nor a socket it could send any SQL on. Here the router can
// run the catalog's statements and nothing else (storage/storage_service.h).
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "common/event_ptr.h"
#include "common/log.h"
#include "router_storage.pb.h"
#include "runtime/child.h"
#include "storage/connection_settings.h"
#include "storage/schema_setup.h"
#include "storage/storage_service.h"
#include "store/postgres_database.h"
#include "store/wire_values.h"

namespace xmppd::storage {
namespace {

constexpr ipc::Limits kFromRouter{store::kStorageRecordBytes, 0};
constexpr ipc::Limits kToRouter{store::kStorageRecordBytes, 0};
using RouterChannel = ipc::TypedChannel<ipc::RouterToStorage>;

}  // namespace

class StorageProcess final : public runtime::ChildRole {
 public:
  sandbox::Role role() const override { return sandbox::Role::kStorage; }
  ipc::Role wire_role() const override { return ipc::ROLE_STORAGE; }
  bool links_to(ipc::Role peer) const override { return peer == ipc::ROLE_ROUTER; }

  bool prepare(runtime::ChildRuntime& runtime, const ipc::Configure& configure, std::string& error) override {
    const ipc::StorageSettings& settings = configure.storage();
    // Without them libpq would look for ~/.pgpass and the user's name in /etc/passwd, which
    // the chroot does not have.
    if (settings.username().empty() || settings.password().empty()) {
      error = "sql: PostgreSQL needs a username and a password (xmppd.conf(5), sql)";
      return false;
    }
    std::string address;
    if (!resolve_host(settings, address, error)) return false;
    if (!is_loopback(address))
      log::warning("sql: host %s (%s) is not a loopback address, and the connection has no TLS: the password "
                   "and every stored message cross the network in cleartext (xmppd.conf(5), sql)",
                   settings.host().c_str(), address.c_str());
    // libpq's SCRAM uses OpenSSL's digests: OpenSSL reads its configuration now, while files
    // can be opened.
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1 || EVP_get_digestbyname("SHA256") == nullptr) {
      error = "cannot initialise OpenSSL";
      return false;
    }
    conninfo_ = conninfo(settings, address);
    manage_tables_ = settings.manage_tables();
    service_ = std::make_unique<StorageService>([this](std::string& why) { return connect(why); });
    // The first connection is made from the loop, under the sandbox, as every later one is.
    first_connect_.reset(evtimer_new(
        runtime.base(), [](evutil_socket_t, short, void* self) { static_cast<StorageProcess*>(self)->connect_now(); },
        this));
    const timeval now{0, 0};
    evtimer_add(first_connect_.get(), &now);
    log::info("PostgreSQL at %s (%s) port %u, database %s, user %s", settings.host().c_str(), address.c_str(),
              settings.port(), settings.database().c_str(), settings.username().c_str());
    return true;
  }

  void reconfigure(const ipc::Configure&) override {}  // sql takes effect at restart (xmppd.conf(5))

  void add_peer_link(ipc::Role peer, UniqueFd fd) override {
    service_->router_gone();
    router_ = std::make_unique<RouterChannel>(runtime_->base(), std::move(fd), kFromRouter, kToRouter, "router");
    router_->on(ipc::RouterToStorage::kRequest, 0,
                [this, peer](const ipc::RouterToStorage& m, auto&) { request(peer, m.request()); });
    router_->start([this, peer](ipc::CloseReason reason, std::string_view detail) {
      if (reason == ipc::CloseReason::kViolation) runtime_->report_peer_violation(peer, detail);
      service_->router_gone();
    });
  }

 private:
  std::unique_ptr<store::Database> connect(std::string& error) {
    std::unique_ptr<store::PostgresDatabase> db = store::PostgresDatabase::connect(conninfo_, error);
    if (db == nullptr) return nullptr;
    if (manage_tables_ && !apply_schema(*db, error)) return nullptr;
    // Every catalog text prepared now: one that does not fit the schema fails here, at start.
    if (!db->prepare_all()) {
      error = db->error();
      return nullptr;
    }
    return db;
  }

  void connect_now() { service_->ensure_connected(); }

  void request(ipc::Role peer, const ipc::StorageRequest& request) {
    std::vector<ipc::StorageAnswer> answers;
    std::string why;
    if (!service_->handle(request, answers, why)) {
      // The router broke the contract: the parent restarts it; its transaction goes.
      runtime_->report_peer_violation(peer, why);
      router_.reset();
      service_->router_gone();
      return;
    }
    for (ipc::StorageAnswer& answer : answers) {
      ipc::StorageToRouter envelope;
      *envelope.mutable_answer() = std::move(answer);
      if (!router_->send(envelope)) return;
    }
  }

  std::string conninfo_;  // with the password: never logged
  bool manage_tables_ = true;
  std::unique_ptr<StorageService> service_;
  std::unique_ptr<RouterChannel> router_;
  EventPtr first_connect_;
};

}  // namespace xmppd::storage

int main() {
  xmppd::storage::StorageProcess process;
  return xmppd::runtime::ChildRuntime(process).run();
}
