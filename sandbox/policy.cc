#include "sandbox/policy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <vector>

namespace xmppd::sandbox {
namespace {

using Set = std::vector<Allow>;

void add(Policy& policy, const Set& set) { policy.allow.insert(policy.allow.end(), set.begin(), set.end()); }

// Memory, time, randomness and ending: what any C++ process running malloc, libevent and
// OpenSSL's DRBG needs. No mapping may be made executable after start-up.
const Set kProcessBasics = {
    {"exit", {}},
    {"exit_group", {}},
    {"rt_sigreturn", {}},
    {"brk", {}},
    {"mmap", {{2, PROT_EXEC, 0}}},
    {"mprotect", {{2, PROT_EXEC, 0}}},
    {"munmap", {}},
    {"mremap", {}},
    {"madvise", {}},
    {"futex", {}},
    {"clock_gettime", {}},  // normally the vDSO; a syscall under valgrind
    {"gettimeofday", {}},
    {"getpid", {}},         // OpenSSL's fork detection
    {"getrandom", {}},
    {"sysinfo", {}},        // glibc's qsort sizes its buffer by physical memory (OpenSSL sorts ciphers)
    {"close", {}},
    {"read", {}},
    // The role's own memory for xmppctl status: /proc/self/statm, opened before the sandbox
    // (runtime/self_memory.h), is read again at offset 0; and SQLite's reads.
    {"pread64", {}},
    {"getrusage", {{0, ~0ull, 0}}},  // RUSAGE_SELF only: the process's CPU time for /metrics
    {"write", {}},          // sockets, and log lines to descriptor 2
};

// libevent's epoll backend; the epoll instance itself is created before the sandbox.
const Set kEventLoop = {
    {"epoll_wait", {}},
    {"epoll_pwait", {}},
    {"epoll_ctl", {}},
};

// IPC records and the descriptors they carry: only flag changes and duplication
// (a record queued on a full socket keeps its own copy of its descriptors).
const Set kIpc = {
    {"recvmsg", {}},
    {"sendmsg", {}},
    {"fcntl", {{1, ~0ull, F_GETFL}}},
    {"fcntl", {{1, ~0ull, F_SETFL}}},
    {"fcntl", {{1, ~0ull, F_GETFD}}},
    {"fcntl", {{1, ~0ull, F_SETFD}}},
    {"fcntl", {{1, ~0ull, F_DUPFD_CLOEXEC}}},
};

// Network processes: connections arrive on sockets the parent bound, and a handshake waits
// in poll(2) for the tls helper's signature.
const Set kNetwork = {
    {"accept4", {}},
    {"shutdown", {}},  // ending a stream: our side first, then the peer's
    {"poll", {}},
    {"ppoll", {}},
    // Acknowledging a finished TLS handshake at once (stream/transport.cc), and nothing else.
    {"setsockopt", {{1, ~0ull, IPPROTO_TCP}, {2, ~0ull, TCP_QUICKACK}}},
};

// SQLite in the role's own directory (the chroot confines which files): opening and
// locking the database and its write-ahead log, reading, writing, syncing.
const Set kSqlite = {
    {"openat", {}},
    {"newfstatat", {}},
    {"fstat", {}},
    {"lseek", {}},
    {"pwrite64", {}},  // pread64 is every role's (kProcessBasics)
    {"fsync", {}},
    {"fdatasync", {}},
    {"ftruncate", {}},
    {"unlink", {}},
    {"fcntl", {{1, ~0ull, F_SETLK}}},
    {"fcntl", {{1, ~0ull, F_GETLK}}},
    {"geteuid", {}},  // SQLite asks before it would change a new file's owner
};

// DNS (libunbound) and, with federation, outbound connections: IPv4 and IPv6 sockets only,
// which cannot reach anything a plain client of the network could not.
const Set kOutbound = {
    {"socket", {{0, ~0ull, AF_INET}}},
    {"socket", {{0, ~0ull, AF_INET6}}},
    {"connect", {}},
    {"bind", {}},  // libunbound picks a random source port
    {"sendto", {}},
    {"recvfrom", {}},
    {"writev", {}},  // libunbound's DNS over TCP (an answer too long for UDP): length, then query
    {"getsockname", {}},
    {"getsockopt", {}},
    {"setsockopt", {}},
};

// libpq's connection to the PostgreSQL server (the storage process): a TCP client, no other
// kind of socket, no option but those libpq sets on every connection. Names were resolved
// before the chroot, so no DNS traffic either.
const Set kPostgresClient = {
    {"socket", {{0, ~0ull, AF_INET}, {1, 0xf, SOCK_STREAM}}},  // SOCK_CLOEXEC/NONBLOCK may be ORed in
    {"socket", {{0, ~0ull, AF_INET6}, {1, 0xf, SOCK_STREAM}}},
    {"connect", {}},
    {"poll", {}},    // libpq waits for the server in poll(2)
    {"ppoll", {}},
    {"sendto", {}},  // send(2) and recv(2) are these on x86-64
    {"recvfrom", {}},
    {"getsockname", {}},
    {"getpeername", {}},
    {"getsockopt", {{1, ~0ull, SOL_SOCKET}, {2, ~0ull, SO_ERROR}}},  // the outcome of a connect
    {"setsockopt", {{1, ~0ull, IPPROTO_TCP}, {2, ~0ull, TCP_NODELAY}}},
    {"setsockopt", {{1, ~0ull, SOL_SOCKET}, {2, ~0ull, SO_KEEPALIVE}}},
    // keepalives_idle/_interval/_count and tcp_user_timeout of the conninfo (storage/connection_settings.h)
    {"setsockopt", {{1, ~0ull, IPPROTO_TCP}, {2, ~0ull, TCP_KEEPIDLE}}},
    {"setsockopt", {{1, ~0ull, IPPROTO_TCP}, {2, ~0ull, TCP_KEEPINTVL}}},
    {"setsockopt", {{1, ~0ull, IPPROTO_TCP}, {2, ~0ull, TCP_KEEPCNT}}},
    {"setsockopt", {{1, ~0ull, IPPROTO_TCP}, {2, ~0ull, TCP_USER_TIMEOUT}}},
    {"shutdown", {}},
};

// The HTTP process: evhttp's buffers move bytes with readv/writev (a download's file is mapped
// and written with writev, not sendfile(2), which libevent uses only on a bufferevent's own
// plain output buffer), and the upload store below its chroot (the chroot confines which files) is
// read, written, renamed into place, listed (the expiry sweep) and removed.
const Set kHttpServer = {
    {"ioctl", {{1, ~0ull, FIONREAD}}},  // evbuffer_read sizes its read by what the socket holds
    {"getpeername", {}},                // the address a connection is counted under
    {"readv", {}},                      // evbuffer_read into several chains
    {"writev", {}},                     // evbuffer_write of several chains
    {"sendfile", {}},                   // a download (evbuffer_add_file)
    {"openat", {}},                     // the store's files and directories
    {"newfstatat", {}},                 // their sizes and kinds (the expiry sweep)
    {"fstat", {}},                      // the size of a file being sent
    {"lseek", {}},                      // evbuffer_add_file's offset into the file
    // An upload reaches the disk before it is renamed into place (no pwrite64 or ftruncate:
    // files are written once, in order, and never changed in place).
    {"fsync", {}},
    {"fdatasync", {}},
    {"getdents64", {}},  // listing the store (the expiry sweep)
    {"mkdirat", {}},     // the store's directory
    {"renameat", {}},    // a finished upload into place
    {"unlinkat", {}},    // an expired or failed upload
    // A WebSocket client's stream to the router (http/websocket.cc): a local pair, nothing else.
    {"socketpair", {{0, ~0ull, AF_UNIX}}},
};

const Refuse kNoThreads = {"clone3", ENOSYS};

Policy base_policy(const char* name) {
  Policy policy{name, {}, {kNoThreads}};
  add(policy, kProcessBasics);
  add(policy, kEventLoop);
  add(policy, kIpc);
  return policy;
}

}  // namespace

Policy policy_for(Role role) {
  switch (role) {
    case Role::kRouter: {
      Policy policy = base_policy("router");
      add(policy, kNetwork);
      add(policy, kSqlite);  // user data in DATA_PATH/router
      return policy;
    }
    case Role::kS2s: {
      Policy policy = base_policy("s2s");
      add(policy, kNetwork);
      add(policy, kOutbound);
      return policy;
    }
    case Role::kTls:
      // Keys are loaded before the sandbox; afterwards only framed requests and answers.
      return base_policy("tls");
    case Role::kAuth: {
      Policy policy = base_policy("auth");
      add(policy, kSqlite);
      return policy;
    }
    case Role::kStorage: {
      // No file at all: chrooted to an empty directory, it holds only its connection.
      Policy policy = base_policy("storage");
      add(policy, kPostgresClient);
      return policy;
    }
    case Role::kHttp: {
      Policy policy = base_policy("http");
      add(policy, kNetwork);
      add(policy, kHttpServer);
      return policy;
    }
  }
  return base_policy("?");
}

}  // namespace xmppd::sandbox
