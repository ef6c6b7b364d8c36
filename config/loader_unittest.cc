// Include, sections and host names, through the public loading functions
// with real files in a temporary directory.

#include "config/loader.h"

#include <gtest/gtest.h>

#include "config/settings.h"
#include "config/test_util.h"

namespace xmppd::config {
namespace {

using testing::errors;
using testing::load_path;
using testing::load_text;
using testing::Loaded;
using testing::TempDir;
using testing::warnings;
using Strings = std::vector<std::string>;

TEST(Include, RelativeToTheIncludingFile) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"sub/a.cfg\"\n");
  dir.write("sub/a.cfg", "s2s_timeout = 30\nInclude \"b.cfg\"\n");
  dir.write("sub/b.cfg", "pidfile = \"/run/xmppd.pid\"\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings) << (l.messages.empty() ? "" : l.messages[0]);
  EXPECT_EQ(l.messages, Strings{});
  EXPECT_EQ(l.settings->global.s2s_timeout, 30);
  EXPECT_EQ(l.settings->pidfile, "/run/xmppd.pid");
}

TEST(Include, AbsolutePathAndCallForm) {
  TempDir dir;
  std::string other = dir.write("elsewhere/x.cfg", "s2s_timeout = 31\n");
  std::string main = dir.write("main.cfg", "Include(\"" + other + "\")\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->global.s2s_timeout, 31);
}

TEST(Include, GlobIncludesMatchesInOrder) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"conf.d/*.cfg.lua\"\n");
  dir.write("conf.d/20-b.cfg.lua", "VirtualHost \"b.example\"\n");
  dir.write("conf.d/10-a.cfg.lua", "VirtualHost \"a.example\"\n");
  dir.write("conf.d/README", "this is not read\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  ASSERT_EQ(l.settings->hosts.size(), 2u);
  EXPECT_EQ(l.settings->hosts[0].name, "a.example");
  EXPECT_EQ(l.settings->hosts[1].name, "b.example");
  EXPECT_EQ(l.settings->hosts[0].file, (dir.path() / "conf.d/10-a.cfg.lua").string());
  EXPECT_EQ(l.settings->hosts[0].line, 1);
}

TEST(Include, GlobWithoutMatchesIsFine) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"conf.d/*.cfg.lua\"\ns2s_timeout = 5\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{});
}

TEST(Include, MissingPlainFileIsAnError) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "s2s_timeout = 5\nInclude \"missing.cfg\"\n");
  Loaded l = load_path(main);
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(l.messages,
            Strings{main + ":2: cannot read included file '" +
                    (dir.path() / "missing.cfg").string() + "': No such file or directory"});
}

TEST(Include, DirectoryIsAnError) {
  TempDir dir;
  dir.write("d/x", "");
  std::string main = dir.write("main.cfg", "Include \"d\"\n");
  Loaded l = load_path(main);
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(l.messages, Strings{main + ":1: cannot read included file '" +
                                (dir.path() / "d").string() + "': is a directory"});
}

TEST(Include, NestingLimitNamesTheChain) {
  TempDir dir;
  // main.cfg -> f1 -> ... -> f17: the 17th level is one too many.
  std::string main = dir.write("main.cfg", "Include \"f1.cfg\"\n");
  std::string chain = main;
  for (int i = 1; i <= kMaxIncludeDepth + 1; ++i) {
    std::string text =
        i <= kMaxIncludeDepth ? "Include \"f" + std::to_string(i + 1) + ".cfg\"\n" : "";
    std::string path = dir.write("f" + std::to_string(i) + ".cfg", text);
    chain += " -> " + path;
  }
  Loaded l = load_path(main);
  EXPECT_FALSE(l.settings);
  std::string f16 = (dir.path() / "f16.cfg").string();
  EXPECT_EQ(l.messages, Strings{f16 + ":1: Include nesting deeper than 16 levels: " + chain});
}

TEST(Include, SixteenLevelsAreAllowed) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"f1.cfg\"\n");
  for (int i = 1; i <= kMaxIncludeDepth; ++i) {
    std::string text = i < kMaxIncludeDepth ? "Include \"f" + std::to_string(i + 1) + ".cfg\"\n"
                                            : "s2s_timeout = 16\n";
    dir.write("f" + std::to_string(i) + ".cfg", text);
  }
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->global.s2s_timeout, 16);
}

TEST(Include, LoopIsReported) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"b.cfg\"\n");
  std::string b = dir.write("b.cfg", "\nInclude \"main.cfg\"\n");
  Loaded l = load_path(main);
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(l.messages, Strings{b + ":2: Include loop: " + main + " -> " + b + " -> " + main});
}

TEST(Include, GlobMatchingTheIncludingFileIsALoop) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"*.cfg\"\n");
  Loaded l = load_path(main);
  EXPECT_FALSE(l.settings);
  ASSERT_EQ(l.messages.size(), 1u);
  EXPECT_NE(l.messages[0].find("Include loop: "), std::string::npos);
}

TEST(Include, SectionIsInheritedAndRestored) {
  TempDir dir;
  std::string main = dir.write("main.cfg",
                               "VirtualHost \"a.example\"\n"
                               "Include \"x.cfg\"\n"
                               "s2s_timeout = 10\n");
  dir.write("x.cfg",
            "admins = { \"root@a.example\" }\n"  // still in a.example
            "VirtualHost \"b.example\"\n"
            "allow_registration = true\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  const HostSettings* a = l.settings->find_host("a.example");
  const HostSettings* b = l.settings->find_host("b.example");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->s2s_timeout, 10);
  EXPECT_EQ(a->admins, Strings{"root@a.example"});
  EXPECT_FALSE(a->allow_registration);
  EXPECT_TRUE(b->allow_registration);
  EXPECT_EQ(b->s2s_timeout, 90);
  EXPECT_EQ(l.settings->global.s2s_timeout, 90);
}

TEST(Include, GlobalSectionIsRestoredToo) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Include \"x.cfg\"\ns2s_timeout = 11\n");
  dir.write("x.cfg", "VirtualHost \"b.example\"\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->global.s2s_timeout, 11);
  EXPECT_EQ(l.settings->find_host("b.example")->s2s_timeout, 11);
}

TEST(Include, MessagesFollowFileOrder) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "one = 1\nInclude \"x.cfg\"\nfour = 4\nfive = y\n");
  std::string x = dir.write("x.cfg", "two = 2\nthree = @\n");
  Loaded l = load_path(main);
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(
      l.messages,
      (Strings{main + ":1: warning: unknown option 'one'", x + ":1: warning: unknown option 'two'",
               x + ":2: unexpected character '@'", main + ":3: warning: unknown option 'four'",
               main + ":4: variables are not supported: write the value "
                      "itself instead of 'y'"}));
}

TEST(Include, InsideAComponentIsSkipped) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "Component \"c.example\" \"proxy65\"\nInclude \"x.cfg\"\n");
  dir.write("x.cfg", "s2s_timeout = \"not checked\"\n");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->global.s2s_timeout, 90);
}

TEST(LoadFile, MissingMainFile) {
  TempDir dir;
  std::string path = (dir.path() / "nope.cfg").string();
  Loaded l = load_path(path);
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(l.messages,
            Strings{path + ": cannot read configuration file: No such file or directory"});
}

TEST(LoadFile, SourceFileIsAbsolute) {
  TempDir dir;
  std::string main = dir.write("main.cfg", "");
  Loaded l = load_path(main);
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->source_file, main);
  Loaded relative = load_text("", "relative.cfg");
  ASSERT_TRUE(relative.settings);
  EXPECT_TRUE(std::filesystem::path(relative.settings->source_file).is_absolute());
}

TEST(Sections, OptionsBeforeTheFirstSectionAreGlobal) {
  Loaded l = load_text(
      "s2s_timeout = 20\n"
      "VirtualHost \"a.example\"\n"
      "  s2s_timeout = 30\n"
      "Host \"b.example\"\n"
      "  allow_registration = true\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->global.s2s_timeout, 20);
  EXPECT_EQ(l.settings->find_host("a.example")->s2s_timeout, 30);
  EXPECT_EQ(l.settings->find_host("b.example")->s2s_timeout, 20);
  EXPECT_TRUE(l.settings->find_host("b.example")->allow_registration);
}

TEST(Sections, ReopenedHostMergesAndLaterValueWins) {
  Loaded l = load_text(
      "VirtualHost \"a.example\"\n"
      "  s2s_timeout = 30\n"
      "  admins = { \"x@a.example\" }\n"
      "VirtualHost \"b.example\"\n"
      "VirtualHost \"A.Example\"\n"
      "  s2s_timeout = 40\n");
  ASSERT_TRUE(l.settings);
  ASSERT_EQ(l.settings->hosts.size(), 2u);
  const HostSettings& a = l.settings->hosts[0];
  EXPECT_EQ(a.name, "a.example");
  EXPECT_EQ(a.line, 1);
  EXPECT_EQ(a.s2s_timeout, 40);
  EXPECT_EQ(a.admins, Strings{"x@a.example"});
}

TEST(Sections, HostNamesAreLowercasedAndFoundCaseInsensitively) {
  Loaded l = load_text("VirtualHost(\"XMPP.Example.COM\")\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->hosts[0].name, "xmpp.example.com");
  EXPECT_EQ(l.settings->find_host("Xmpp.example.com"), &l.settings->hosts[0]);
  EXPECT_EQ(l.settings->find_host("other.example"), nullptr);
}

TEST(Sections, InvalidHostNames) {
  auto message = [](const std::string& name) {
    Loaded l = load_text("VirtualHost \"" + name + "\"\ns2s_timeout = 1\n");
    EXPECT_FALSE(l.settings);
    return l.messages.empty() ? std::string() : l.messages[0];
  };
  const std::string p = "/etc/xmppd/xmppd.conf:1: invalid host name ";
  EXPECT_EQ(message("bad_host.example"), p + "'bad_host.example': character '_' is not allowed");
  EXPECT_EQ(message(""), p + "'': empty name");
  EXPECT_EQ(message("a..b"), p + "'a..b': empty label");
  EXPECT_EQ(message("example.com."), p + "'example.com.': empty label");
  EXPECT_EQ(message("-a.example"), p + "'-a.example': label starts or ends with '-'");
  EXPECT_EQ(message("*"), p + "'*': character '*' is not allowed");
  EXPECT_EQ(message(std::string(64, 'a') + ".example"),
            p + "'" + std::string(64, 'a') + ".example': label longer than 63 characters");
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "example";
  EXPECT_EQ(message(long_name), p + "'" + long_name + "': longer than 253 characters");
  EXPECT_EQ(message("b\xc3\xbc"
                    "cher.example"),
            p + "'b\xc3\xbc"
                "cher.example': non-ASCII character (write the name in its xn-- form)");
}

TEST(Sections, OptionsOfAnInvalidHostAreNotReportedTwice) {
  Loaded l = load_text("VirtualHost \"bad_host\"\npidfile = \"/x\"\n");
  EXPECT_EQ(errors(l).size(), 1u);
}

TEST(Sections, ComponentsOfOtherModulesAreWarnedAboutAndSkipped) {
  Loaded l = load_text(
      "Component \"proxy.example.com\" \"proxy65\"\n"
      "  s2s_timeout = \"not an integer, but not checked\"\n"
      "  pidfile = \"/not/global\"\n"
      "Component \"conference.example.com\" \"muc\"\n"
      "  s2s_timeout = 30\n"
      "Component \"gateway.example.com\"\n"
      "  component_secret = \"s3cret\"\n"
      "VirtualHost \"example.com\"\n"
      "  s2s_timeout = 12\n");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.messages, Strings{"/etc/xmppd/xmppd.conf:1: warning: component module 'proxy65' is not "
                                "provided by xmppd; section ignored"});
  EXPECT_EQ(l.settings->pidfile, "");
  ASSERT_EQ(l.settings->hosts.size(), 1u);
  EXPECT_EQ(l.settings->hosts[0].s2s_timeout, 12);
  ASSERT_EQ(l.settings->components.size(), 2u);
  EXPECT_EQ(l.settings->components[0].name, "conference.example.com");
  EXPECT_EQ(l.settings->components[0].component_module, "muc");
  EXPECT_EQ(l.settings->components[0].s2s_timeout, 30);
  EXPECT_EQ(l.settings->components[1].component_module, "");
  EXPECT_EQ(l.settings->components[1].component_secret, "s3cret");
  EXPECT_EQ(l.settings->components[1].s2s_timeout, 90);
}

TEST(Sections, AnExternalComponentNeedsASecret) {
  Loaded l = load_text("Component \"gateway.example.com\"\n  s2s_timeout = 30\n");
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(errors(l), Strings{"/etc/xmppd/xmppd.conf:1: external Component 'gateway.example.com' has no "
                               "component_secret"});
}

TEST(Sections, ADomainIsAHostOrAComponent) {
  Loaded l = load_text("VirtualHost \"example.com\"\nComponent \"example.com\" \"muc\"\n");
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(errors(l), Strings{"/etc/xmppd/xmppd.conf:2: 'example.com' is both a VirtualHost and a "
                               "Component (/etc/xmppd/xmppd.conf:1)"});
}

TEST(Sections, ComponentContentsAreStillCheckedForSyntax) {
  Loaded l = load_text("Component \"c.example\" \"proxy65\"\n  x = y\n");
  EXPECT_FALSE(l.settings);
  EXPECT_EQ(errors(l), Strings{"/etc/xmppd/xmppd.conf:2: variables are not supported: write the "
                               "value itself instead of 'y'"});
}

TEST(Events, OrderAndScopes) {
  std::vector<Event> events = load_events_from_string(
      "a = 1\nVirtualHost \"h.example\"\nb = 2\nComponent \"c.example\" \"x\"\nc = 3\n"
      "Component \"m.example\" \"muc\"\nd = 4\n",
      "t.cfg");
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(std::get<OptionEvent>(events[0]).host, "");
  EXPECT_EQ(std::get<HostEvent>(events[1]).name, "h.example");
  EXPECT_FALSE(std::get<HostEvent>(events[1]).component);
  EXPECT_EQ(std::get<OptionEvent>(events[2]).host, "h.example");
  EXPECT_EQ(std::get<OptionEvent>(events[2]).line, 3);
  EXPECT_EQ(std::get<Diagnostic>(events[3]).severity, Diagnostic::Severity::kWarning);
  EXPECT_TRUE(std::get<HostEvent>(events[4]).component);
  EXPECT_EQ(std::get<HostEvent>(events[4]).component_module, "muc");
  EXPECT_EQ(std::get<OptionEvent>(events[5]).host, "m.example");
}

}  // namespace
}  // namespace xmppd::config
