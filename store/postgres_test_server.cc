#include "store/postgres_test_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace xmppd::store {

std::string PostgresTestServer::bindir() {
  const char* env = std::getenv("XMPPD_PG_BINDIR");
  return env != nullptr && *env != '\0' ? env : "/usr/lib/postgresql/15/bin";
}

bool PostgresTestServer::available() { return access((bindir() + "/initdb").c_str(), X_OK) == 0; }

bool PostgresTestServer::tool(const std::string& name, const std::vector<std::string>& args) {
  const std::string path = bindir() + "/" + name;
  std::vector<std::string> all{path};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = dir_ + "/tools.log";
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    if (geteuid() == 0) {
      const passwd* nobody = getpwnam("nobody");
      if (nobody == nullptr || setgroups(0, nullptr) != 0 || setgid(nobody->pw_gid) != 0 ||
          setuid(nobody->pw_uid) != 0)
        _exit(126);
    }
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::unique_ptr<PostgresTestServer> PostgresTestServer::start(std::string& error) {
  char dir[] = "/tmp/xmppd-pgtest.XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    error = "mkdtemp failed";
    return nullptr;
  }
  std::unique_ptr<PostgresTestServer> server(new PostgresTestServer(dir));
  if (geteuid() == 0) {
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr || chown(dir, nobody->pw_uid, nobody->pw_gid) != 0) {
      error = std::string(dir) + ": cannot give it to nobody";
      return nullptr;
    }
  }
  const std::string data = server->dir_ + "/data";
  // trust: only this directory's socket reaches the server. No fsync: a test's data need not
  // survive a power cut, and the tests are quicker.
  const bool ok =
      server->tool("initdb", {"-D", data, "-U", "xmppd", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"}) &&
      server->restart();
  if (!ok) {
    std::ifstream log(server->dir_ + "/tools.log");
    std::ostringstream text;
    text << log.rdbuf();
    error = "cannot start PostgreSQL in " + server->dir_ + ":\n" + text.str();
    return nullptr;
  }
  return server;
}

bool PostgresTestServer::restart() {
  return tool("pg_ctl", {"start", "-w", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-o",
                         "-c listen_addresses='' -c unix_socket_directories='" + dir_ +
                             "' -c fsync=off -c full_page_writes=off -c synchronous_commit=off"});
}

bool PostgresTestServer::stop() { return tool("pg_ctl", {"stop", "-w", "-m", "immediate", "-D", dir_ + "/data"}); }

PostgresTestServer::~PostgresTestServer() {
  if (std::filesystem::exists(dir_ + "/data/postmaster.pid")) stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string PostgresTestServer::conninfo(const std::string& database) const {
  return "host=" + dir_ + " user=xmppd dbname=" + database;
}

std::string PostgresTestServer::fresh_database(std::string& error) {
  const std::string name = "t" + std::to_string(++databases_);
  PGconn* connection = PQconnectdb(conninfo("postgres").c_str());
  bool ok = PQstatus(connection) == CONNECTION_OK;
  if (ok) {
    PGresult* result = PQexec(connection, ("CREATE DATABASE " + name).c_str());
    ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
  }
  if (!ok) error = PQerrorMessage(connection);
  PQfinish(connection);
  return ok ? conninfo(name) : std::string();
}

}  // namespace xmppd::store
