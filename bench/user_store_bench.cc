// How many offline messages per second the router's user store keeps, committing once per
// stanza (as the router did before batching) or once per loop turn of N stanzas; then what one
// store call costs for a user who has 4 MiB waiting already (the quota's default), refused by
// the quota or kept: the check a sender can make the router do for every message it sends.
// Usage: user_store_bench DIRECTORY [STANZAS]; DIRECTORY should be on the disk the data_path
// uses (a tmpfs makes fsync free and the comparison meaningless).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "router/user_store.h"

using xmppd::router::UserStore;

namespace {

std::string store_path(const std::string& dir) { return dir + "/user_store_bench.sqlite"; }

void remove_store(const std::string& dir) {
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((store_path(dir) + suffix).c_str());
}

// A new, empty store in `dir`, replacing the previous run's.
std::unique_ptr<UserStore> fresh_store(const std::string& dir) {
  remove_store(dir);
  std::string error;
  auto store = UserStore::open(store_path(dir), error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  return store;
}

double stanzas_per_second(const std::string& dir, int stanzas, int per_commit) {
  auto store = fresh_store(dir);
  const std::string stanza =
      "<message xmlns='jabber:client' from='bob@example.org/desk' to='alice@example.org' type='chat'>"
      "<body>" +
      std::string(300, 'x') + "</body><delay xmlns='urn:xmpp:delay' stamp='2026-12-04T22:00:00Z'/></message>";
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < stanzas; ++i) {
    // Ten recipients, as a loop turn carries stanzas for several users.
    const std::string bare = "user" + std::to_string(i % 10) + "@example.org";
    if (store->store_offline(bare, stanza, 0, {1000000, 1u << 30}) != UserStore::Outcome::kStored) std::exit(1);
    if ((i + 1) % per_commit == 0 && !store->commit()) std::exit(1);
  }
  store->commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  store.reset();
  remove_store(dir);
  return stanzas / seconds;
}

// Microseconds per store_offline call for a user with 4 MiB (512 messages of 8 KiB) waiting,
// each call its own loop turn: refused by the default quota, or (a larger quota) kept.
double microseconds_per_call_at_4mib(const std::string& dir, int calls, bool refused) {
  auto store = fresh_store(dir);
  const std::string bare = "victim@example.org";
  const std::string big(8 << 10, 'j');
  for (int i = 0; i < 512; ++i)
    if (store->store_offline(bare, big, 0, {1000, 4u << 20}) != UserStore::Outcome::kStored) std::exit(1);
  if (!store->commit()) std::exit(1);
  const UserStore::OfflineQuota quota{refused ? 500u : 1000000u, refused ? 4u << 20 : 1u << 30};
  const UserStore::Outcome expected = refused ? UserStore::Outcome::kOverQuota : UserStore::Outcome::kStored;
  const std::string stanza(450, 'x');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    if (store->store_offline(bare, stanza, 0, quota) != expected) std::exit(1);
    if (!store->commit()) std::exit(1);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  store.reset();
  remove_store(dir);
  return seconds * 1e6 / calls;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY [STANZAS]\n", argv[0]);
    return 2;
  }
  const int stanzas = argc > 2 ? std::atoi(argv[2]) : 2000;
  for (int per_commit : {1, 4, 16, 64, 256})
    std::printf("commit every %3d stanzas: %8.0f stanzas/s\n", per_commit,
                stanzas_per_second(argv[1], stanzas, per_commit));
  std::printf("4 MiB waiting, refused by the quota: %8.1f us per call\n",
              microseconds_per_call_at_4mib(argv[1], stanzas, true));
  std::printf("4 MiB waiting, kept (own commit):    %8.1f us per call\n",
              microseconds_per_call_at_4mib(argv[1], stanzas / 4, false));
  return 0;
}
