// Each role's real policy, installed in a forked test process: what is on the list works,
// what is not kills the process with SIGSYS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "sandbox/sandbox.h"

namespace xmppd::sandbox {
namespace {

constexpr Role kRoles[] = {Role::kRouter, Role::kS2s, Role::kTls, Role::kAuth, Role::kStorage, Role::kHttp};

// Runs `body` in a child after installing the role's filter; returns the wait status.
int run_sandboxed(Role role, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string error;
    if (!enter(role, Mode::kEnforce, error)) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }

class RolePolicy : public ::testing::TestWithParam<Role> {
 protected:
  void SetUp() override {
    if (build_mode() != Mode::kEnforce) GTEST_SKIP() << "sandbox built in log mode";
  }
};

TEST_P(RolePolicy, AllowedCallsWork) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  int status = run_sandboxed(GetParam(), [&] {
    void* p = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    std::memset(p, 1, 1 << 20);
    munmap(p, 1 << 20);
    std::string big(1 << 20, 'x');  // malloc
    return write(fds[1], "ok", 2) == 2 ? 0 : 3;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  char buf[2];
  EXPECT_EQ(read(fds[0], buf, 2), 2);
  close(fds[0]);
  close(fds[1]);
}

// libunbound sends a DNS query over TCP (after a truncated UDP answer) with writev: the s2s
// worker and check dns's lookup child, which share the s2s role, must survive it; evhttp's
// buffers write with it in the HTTP process.
TEST_P(RolePolicy, WritevOnlyForTheS2sRoleAndTheHttpProcess) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  int status = run_sandboxed(GetParam(), [&] {
    char text[] = "ok";
    struct iovec iov = {text, 2};
    return writev(fds[1], &iov, 1) == 2 ? 0 : 3;
  });
  close(fds[0]);
  close(fds[1]);
  if (GetParam() == Role::kS2s || GetParam() == Role::kHttp) {
    ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  } else {
    EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
  }
}

TEST_P(RolePolicy, OpeningAFileKills) {
  // The auth helper and the router keep SQLite stores within their chroots, which confine them;
  // the HTTP process keeps the upload store in its own.
  if (GetParam() == Role::kAuth || GetParam() == Role::kRouter || GetParam() == Role::kHttp)
    GTEST_SKIP() << "opens files inside its chroot";
  int status = run_sandboxed(GetParam(), [] { return open("/etc/passwd", O_RDONLY) >= 0 ? 0 : 5; });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

// xmppctl status: every role reads its own memory from /proc/self/statm, opened before the
// sandbox (runtime/self_memory.h), with pread at offset 0.
TEST_P(RolePolicy, PreadOfAnOpenFileWorks) {
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  int status = run_sandboxed(GetParam(), [fd] {
    char buf[128];
    return pread(fd, buf, sizeof buf, 0) > 0 && pread(fd, buf, sizeof buf, 0) > 0 ? 0 : 6;
  });
  close(fd);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_P(RolePolicy, ExecKills) {
  int status = run_sandboxed(GetParam(), [] {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    execv("/bin/true", argv);
    return 6;
  });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

TEST_P(RolePolicy, NewLocalSocketKills) {
  // No role may open a Unix socket (say, to reach syslog or a D-Bus) after start-up.
  int status = run_sandboxed(GetParam(), [] { return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 7; });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

TEST_P(RolePolicy, InternetSocketsOnlyForTheS2sWorker) {
  int status = run_sandboxed(GetParam(), [] { return socket(AF_INET6, SOCK_DGRAM, 0) >= 0 ? 0 : 7; });
  if (GetParam() == Role::kS2s)
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;  // DNS, outbound streams
  else
    EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

// The network roles may acknowledge a finished TLS handshake at once (TCP_QUICKACK); no
// other socket option is theirs unless the role dials out (the s2s worker).
TEST_P(RolePolicy, OnlyTheQuickAckOptionForTheRouter) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int quickack = run_sandboxed(GetParam(), [&] {
    int on = 1;
    setsockopt(sv[0], IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);  // fails on a Unix socket; not killed
    return 0;
  });
  int buffer = run_sandboxed(GetParam(), [&] {
    int size = 1 << 16;
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return 0;
  });
  close(sv[0]);
  close(sv[1]);
  bool network = GetParam() == Role::kRouter || GetParam() == Role::kS2s || GetParam() == Role::kHttp;
  EXPECT_EQ(killed_by_sigsys(quickack), !network) << "status " << quickack;
  EXPECT_EQ(killed_by_sigsys(buffer), GetParam() != Role::kS2s) << "status " << buffer;
}

// The storage process dials PostgreSQL over TCP; the s2s worker dials other servers. No other
// role makes a socket, and the storage process no socket but a TCP one.
TEST_P(RolePolicy, TcpClientSocketsForTheS2sWorkerAndTheStorageProcess) {
  int tcp = run_sandboxed(GetParam(), [] {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 7;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    for (int option : {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT})  // libpq's keepalives
      setsockopt(fd, IPPROTO_TCP, option, &on, sizeof on);
    return 0;
  });
  const bool dials = GetParam() == Role::kS2s || GetParam() == Role::kStorage;
  if (dials)
    EXPECT_TRUE(WIFEXITED(tcp) && WEXITSTATUS(tcp) == 0) << "status " << tcp;
  else
    EXPECT_TRUE(killed_by_sigsys(tcp)) << "status " << tcp;
}

TEST_P(RolePolicy, ExecutableMappingKills) {
  int status = run_sandboxed(GetParam(), [] {
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? 8 : 0;
  });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

TEST_P(RolePolicy, MakingMemoryExecutableKills) {
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  int status = run_sandboxed(GetParam(), [p] { return mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 ? 0 : 9; });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
  munmap(p, 4096);
}

TEST_P(RolePolicy, Clone3FailsWithEnosysSoGlibcFallsBack) {
  int status = run_sandboxed(GetParam(), [] {
    long rc = syscall(SYS_clone3, nullptr, 0);
    return rc == -1 && errno == ENOSYS ? 0 : 10;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

INSTANTIATE_TEST_SUITE_P(AllRoles, RolePolicy, ::testing::ValuesIn(kRoles),
                         [](const auto& info) { return std::string(role_name(info.param)); });

TEST(DropPrivileges, SetsNoNewPrivsAndNotDumpableWithoutRoot) {
  if (geteuid() == 0) GTEST_SKIP() << "covered by the integration test as root";
  pid_t pid = fork();
  if (pid == 0) {
    Privsep p;
    p.directory = "/";
    std::string error;
    if (!drop_privileges(p, error)) _exit(1);
    if (prctl(PR_GET_NO_NEW_PRIVS) != 1) _exit(2);
    if (prctl(PR_GET_DUMPABLE) != 0) _exit(3);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace xmppd::sandbox
