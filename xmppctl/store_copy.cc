// xmppctl store copy [-F] sqlite-to-sql|sql-to-sqlite: the router's store copied from the
// embedded SQLite file (DATA_PATH/router/user.sqlite) into the PostgreSQL database of the
// configuration's `sql` table, or back, so that an administrator moves between the backends
// without losing data (Prosody's prosody-migrator does this for Prosody). xmppd must be stopped.
//
// Trust and privileges: xmppctl runs as root. It reads the configuration, connects to
// PostgreSQL (libpq, the password from the configuration; an administrator's tool talking to
// the administrator's database, not a process that parses the network), and then drops to the
// router's user, chrooted to the router's directory, as the router itself runs: the SQLite
// file is opened (never through a symbolic link), created and written with the router's uid
// and a 0600 mode, and a crafted file can do no more to xmppctl than to the router.
//
// The copy (copy_tables.cc) is one transaction of the target: all or nothing. A target that
// holds data is refused unless -F, which replaces it.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "config/loader.h"
#include "daemon/privsep_setup.h"
#include "sandbox/sandbox.h"
#include "xmppctl/control_client.h"
#include "xmppctl/store_copy.h"
#include "xmppctl/table.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {
namespace {

constexpr char kStoreFile[] = "user.sqlite";  // in DATA_PATH/router, as router/router.cc opens it

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: xmppctl store copy [-F] sqlite-to-sql|sql-to-sqlite\n");
  std::exit(kExitUsage);
}

std::string where(const config::OptionEvent& event) { return event.file + ":" + std::to_string(event.value.line); }

// The global `sql` table of the configuration, as Prosody writes it:
//   sql = { driver = "PostgreSQL"; database = "xmppd"; host = "localhost"; port = 5432;
//           username = "xmppd"; password = "..." }
// Read from the file's options as loaded (the last global assignment wins, as in Prosody):
// the configuration library reads `sql` past until the storage options land there
// (config::Settings::sql), which should then be used instead, with its checks and defaults.
copy::SqlSettings sql_settings(const Context& context) {
  std::optional<config::OptionEvent> found;
  for (auto& event : config::load_events_from_file(context.config_file))
    if (auto* option = std::get_if<config::OptionEvent>(&event); option && option->host.empty() && option->key == "sql")
      found = std::move(*option);
  if (!found)
    fail(kExitUsage, context.config_file + ": no sql = { driver = \"PostgreSQL\"; database = ...; ... }: "
                     "store copy needs the database to copy to or from");
  if (!found->value.is_table()) fail(kExitUsage, where(*found) + ": sql: expects a table");
  copy::SqlSettings sql;
  std::string driver;
  const std::pair<std::string_view, std::string*> fields[] = {{"driver", &driver},     {"database", &sql.database},
                                                               {"host", &sql.host},       {"port", &sql.port},
                                                               {"username", &sql.username}, {"password", &sql.password}};
  for (const config::TableEntry& entry : found->value.as_table().entries) {
    if (!entry.key) fail(kExitUsage, where(*found) + ": sql: expects key = value entries");
    for (const auto& [key, field] : fields) {
      if (*entry.key != key) continue;
      const config::Value& v = entry.value;
      if (v.is_string())
        *field = v.as_string();
      else if (v.is_integer())
        *field = std::to_string(v.as_integer());
      else
        fail(kExitUsage, found->file + ":" + std::to_string(v.line) + ": sql: " + *entry.key + ": expects a string");
    }
  }
  if (driver != "PostgreSQL")
    fail(kExitUsage, where(*found) + ": sql: driver is \"" + driver +
                         "\": store copy copies between the embedded SQLite store and driver = \"PostgreSQL\"");
  return sql;
}

// From here on the process is the router's user in the router's directory (or, when xmppd
// runs unprivileged, stays that user and only changes directory).
void become_router(const parent::RolePrivsep& roles) {
  sandbox::Privsep privsep{roles.router.switch_user() && geteuid() == 0, roles.router.uid(), roles.router.gid(),
                           roles.router.directory()};
  std::string error;
  if (!sandbox::drop_privileges(privsep, error)) fail(kExitFailed, error);
  umask(077);  // the store holds users' messages: 0600, in a 0700 directory
}

void report(const Context& context, const std::vector<copy::Copied>& copied, const std::string& from,
            const std::string& to) {
  Table table({{"table", "TABLE"}, {"rows", "ROWS", true}});
  std::int64_t rows = 0;
  for (const copy::Copied& c : copied) {
    table.add({c.table, std::to_string(c.rows)});
    rows += c.rows;
  }
  table.output(context.json);
  if (!context.json)
    std::printf("copied %zu tables, %lld rows, from %s to %s\n", copied.size(), static_cast<long long>(rows),
                printable(from).c_str(), printable(to).c_str());
}

}  // namespace

int store_copy(Context& context) {
  std::size_t at = 0;
  bool force = false;
  if (at < context.args.size() && context.args[at] == "-F") {
    force = true;
    ++at;
  }
  if (at + 1 != context.args.size()) usage();
  const std::string& direction = context.args[at];
  if (direction != "sqlite-to-sql" && direction != "sql-to-sqlite") usage();
  const bool to_sql = direction == "sqlite-to-sql";
  const config::Settings& settings = context.settings;

  if (server_running(context))
    fail(kExitFailed, "xmppd is running (" + settings.data_path + "/control.sock answers): stop xmppd first");
  const copy::SqlSettings sql = sql_settings(context);
  parent::RolePrivsep roles;
  std::string error;
  if (!parent::prepare_privsep(settings, roles, error)) fail(kExitFailed, error);

  std::unique_ptr<copy::CopyEnd> database = copy::connect_postgres(sql, error);
  if (!database) fail(kExitFailed, error);
  become_router(roles);
  const std::string path = settings.data_path + "/router/" + kStoreFile;
  std::unique_ptr<copy::CopyEnd> file = copy::open_sqlite(kStoreFile, path, !to_sql, error);
  if (!file) fail(kExitFailed, error);

  copy::CopyEnd& from = to_sql ? *file : *database;
  copy::CopyEnd& to = to_sql ? *database : *file;
  std::vector<copy::Copied> copied;
  if (!copy::copy_tables(from, to, force, copied, error)) fail(kExitFailed, error + "; " + to.describe() + " unchanged");
  report(context, copied, from.describe(), to.describe());
  return kExitOk;
}

}  // namespace xmppd::ctl
