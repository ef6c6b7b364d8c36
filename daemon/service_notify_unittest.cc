// What the parent tells the service manager, and when (service_notify.h): the messages are read
// from a real AF_UNIX datagram socket named by $NOTIFY_SOCKET, the protocol systemd itself serves.
// The states are the process's own, so one test walks the whole life of a service.
#include "daemon/service_notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "build_config.h"
#include "common/unique_fd.h"

namespace xmppd::parent::service_notify {
namespace {

class FakeManager {
 public:
  FakeManager() {
    char dir[] = "/tmp/xmppd-notify-XXXXXX";
    if (mkdtemp(dir) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    dir_ = dir;
    path_ = dir_ + "/notify";
    socket_.reset(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (bind(socket_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      ADD_FAILURE() << "bind " << path_ << ": " << std::strerror(errno);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~FakeManager() {
    unsetenv("NOTIFY_SOCKET");
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  // The next datagram, or "" when none is waiting (sd_notify sends before it returns).
  std::string next() {
    char buffer[512];
    ssize_t n = recv(socket_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    return n <= 0 ? std::string() : std::string(buffer, static_cast<size_t>(n));
  }

 private:
  std::string dir_, path_;
  UniqueFd socket_;
};

TEST(ServiceNotify, ReadyOnlyAfterStartAndNeverAfterStopping) {
#if !XMPPD_HAVE_SYSTEMD
  GTEST_SKIP() << "built without libsystemd: nothing is sent";
#endif
  FakeManager manager;
  {
    // A SIGHUP before every child is ready: no RELOADING=1, and above all no READY=1.
    ReloadScope early;
  }
  EXPECT_EQ(manager.next(), "");

  ready();
  EXPECT_EQ(manager.next().rfind("READY=1\n", 0), 0u);
  ready();  // a restarted child answering Ready again
  EXPECT_EQ(manager.next(), "");

  {
    ReloadScope reload;
    EXPECT_EQ(manager.next().rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u);
    EXPECT_EQ(manager.next(), "");
  }
  EXPECT_EQ(manager.next(), "READY=1");

  stopping();
  EXPECT_EQ(manager.next(), "STOPPING=1");
  {
    ReloadScope late;  // a SIGHUP while the children are ending
  }
  ready();
  EXPECT_EQ(manager.next(), "");
}

}  // namespace
}  // namespace xmppd::parent::service_notify
