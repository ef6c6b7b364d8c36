// What a child does at its address-space limit (runtime/child.h): it says so on its log pipe
// and exits with kExitOutOfMemory, instead of aborting into a syscall its filter refuses.
#include "runtime/child.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "build_config.h"

namespace xmppd::runtime {
namespace {

TEST(OutOfMemory, TheChildSaysSoAndExits) {
  // The sanitizers reserve terabytes of shadow memory: no address-space limit can hold them.
  if (XMPPD_SANITIZED) GTEST_SKIP() << "RLIMIT_AS and the sanitizers do not mix";
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    rlimit as{256 << 20, 256 << 20};
    if (setrlimit(RLIMIT_AS, &as) != 0) _exit(2);
    install_out_of_memory_exit();
    std::vector<std::vector<char>> hog;
    for (;;) hog.emplace_back(64 << 20, 'x');
  }
  close(pipe_fds[1]);
  std::string said;
  char buffer[256];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) said.append(buffer, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), kExitOutOfMemory);
  EXPECT_EQ(said, "<3>out of memory: the address space limit (child_memory_limit) is reached; exiting\n");
}

}  // namespace
}  // namespace xmppd::runtime
