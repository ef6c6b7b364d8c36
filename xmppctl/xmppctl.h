// xmppctl: what every verb shares. main.cc reads the command line and the configuration and
// calls one verb from its table; each verb lives in a file of its own (accounts.cc, ...).
// xmppctl runs as the user xmppd runs as (root in production) and talks to the running
// server only through DATA_PATH/control.sock (control_client.h).
#pragma once

#include <string>
#include <vector>

#include "config/settings.h"

namespace xmppd::ctl {

// The exit codes, documented in xmppctl(8).
enum Exit : int {
  kExitOk = 0,
  kExitFailed = 1,       // the server refused or the operation failed; check found problems
  kExitUsage = 2,        // a bad command line or configuration file
  kExitUnreachable = 3,  // the server is not running or did not answer
};

struct Context {
  std::string config_file;
  config::Settings settings;
  bool settings_loaded = false;                  // false: the file has errors (only check runs)
  std::vector<config::Diagnostic> diagnostics;   // what loading the file said
  bool json = false;               // -j: JSON on standard output instead of aligned columns
  std::vector<std::string> args;   // after the verb's own words
};

// Prints "xmppctl: message" on standard error and exits with `code`.
[[noreturn]] void fail(int code, const std::string& message);

// The verbs. Each returns its exit code.
int adduser(Context& context);
int passwd(Context& context);
int deluser(Context& context);
int check(Context& context);        // check.cc
int cert_import(Context& context);  // cert_import.cc
int users(Context& context);     // accounts.cc
int status(Context& context);    // show.cc
int show_c2s(Context& context);
int show_components(Context& context);
int show_muc(Context& context);
int kick(Context& context);      // steer.cc
int reload(Context& context);
int show_s2s(Context& context);   // s2s.cc
int close_s2s(Context& context);

// `xmppctl -R dns-check`: check dns's lookup child (dns_child.cc); its exit code.
int dns_check_child();
// import_prosody.cc: a stopped Prosody's users into a stopped xmppd.
int import_prosody(Context& context);
// store_copy.cc: the router's store between SQLite and PostgreSQL, xmppd stopped.
int store_copy(Context& context);
// import_child.cc: its two children, `xmppctl -R import-accounts` and `-R import-data`.
int import_child(std::string_view role);

}  // namespace xmppd::ctl
