// xmppctl: the administrator's tool for a running xmppd (xmppctl(8)). It reads the
// configuration (for DATA_PATH and the VirtualHosts) and runs one verb from the table below;
// verbs that need the server ask it through DATA_PATH/control.sock. Nothing here parses
// network bytes: answers the server passes on are printed through table.h.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "build_config.h"
#include "xmppctl/xmppctl.h"

namespace xmppd::ctl {
namespace {

struct Verb {
  std::string_view words;  // "adduser", or two words: "show c2s"
  std::string_view arguments;
  int (*run)(Context&);
  // The configuration file is what the verb is about (reload): errors in it are the verb's
  // answer, exit 1, rather than a usage error.
  bool judges_configuration = false;
  // The verb runs on a file with errors and reports them itself (check: as findings, exit 2).
  bool reports_configuration = false;
};

// Kept in step with xmppctl(8): tests/xmppctl_manual_test.py compares the two.
constexpr Verb kVerbs[] = {
    {"adduser", "user@host", adduser},
    {"passwd", "user@host", passwd},
    {"deluser", "user@host", deluser},
    {"check", "[section]", check, false, true},
    {"cert import", "directory ...", cert_import},
    {"users", "host", users},
    {"status", "", status},
    {"show c2s", "[host]", show_c2s},
    {"show components", "", show_components},
    {"show muc", "[service]", show_muc},
    {"kick", "jid [reason]", kick},
    {"reload", "", reload, true},
    {"show s2s", "[remote]", show_s2s},
    {"close s2s", "remote", close_s2s},
    {"import prosody", "[-F] data_dir [host ...]", import_prosody},
    {"store copy", "[-F] sqlite-to-sql|sql-to-sqlite", store_copy},
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: xmppctl [-j] [-f file] command [argument ...]\ncommands:\n");
  for (const Verb& verb : kVerbs)
    std::fprintf(stderr, "  %.*s%s%.*s\n", static_cast<int>(verb.words.size()), verb.words.data(),
                 verb.arguments.empty() ? "" : " ", static_cast<int>(verb.arguments.size()), verb.arguments.data());
  std::exit(kExitUsage);
}

// The verb whose words start argv; `used` is how many words it took.
const Verb* find_verb(int argc, char** argv, int& used) {
  for (const Verb& verb : kVerbs) {
    std::string_view rest = verb.words;
    int n = 0;
    while (!rest.empty() && n < argc) {
      std::size_t space = rest.find(' ');
      std::string_view word = rest.substr(0, space);
      if (word != argv[n]) break;
      ++n;
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
    if (rest.empty() && n > 0) {
      used = n;
      return &verb;
    }
  }
  return nullptr;
}

}  // namespace

void fail(int code, const std::string& message) {
  std::fprintf(stderr, "xmppctl: %s\n", message.c_str());
  std::exit(code);
}

}  // namespace xmppd::ctl

int main(int argc, char** argv) {
  using namespace xmppd;
  // The hidden role of check dns's lookup child (check_dns.cc), not in the usage.
  if (argc == 3 && std::string_view(argv[1]) == "-R" && std::string_view(argv[2]) == "dns-check")
    return ctl::dns_check_child();
  // The hidden roles of import prosody's children (import_child.cc).
  if (argc == 3 && std::string_view(argv[1]) == "-R" &&
      (std::string_view(argv[2]) == "import-accounts" || std::string_view(argv[2]) == "import-data"))
    return ctl::import_child(argv[2]);
  ctl::Context context;
  context.config_file = std::string(XMPPD_SYSCONFDIR) + "/xmppd.conf";
  int ch;
  // "+": options end at the verb, whose own options (import prosody -F) are its own.
  while ((ch = getopt(argc, argv, "+f:hj")) != -1) {
    switch (ch) {
      case 'f': context.config_file = optarg; break;
      case 'j': context.json = true; break;
      default: ctl::usage();
    }
  }
  int used = 0;
  const ctl::Verb* verb = ctl::find_verb(argc - optind, argv + optind, used);
  if (verb == nullptr) {
    if (optind < argc) std::fprintf(stderr, "xmppctl: %s: no such command\n", argv[optind]);
    ctl::usage();
  }
  for (int i = optind + used; i < argc; ++i) context.args.emplace_back(argv[i]);

  std::vector<config::Diagnostic> diags;
  auto settings = config::load_file(context.config_file, diags);
  for (const auto& d : diags)
    if (d.severity == config::Diagnostic::Severity::kError) std::fprintf(stderr, "%s\n", d.str().c_str());
  if (!settings && verb->judges_configuration)
    ctl::fail(ctl::kExitFailed, "not reloaded: the server would refuse this file too; the configuration in force stays");
  context.diagnostics = std::move(diags);
  if (!settings && verb->reports_configuration) return verb->run(context);
  if (!settings) return ctl::kExitUsage;
  context.settings = std::move(*settings);
  context.settings_loaded = true;
  return verb->run(context);
}
