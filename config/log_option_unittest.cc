// The `log` option in each form Prosody documents, and every form xmppd refuses, with the
// line of the entry at fault.

#include "config/log_option.h"

#include <gtest/gtest.h>

#include "config/settings.h"
#include "config/test_util.h"

namespace xmppd::config {
namespace {

using testing::errors;
using testing::load_text;
using testing::Loaded;
using Strings = std::vector<std::string>;
using To = LogSink::To;

const std::string kFile = "/etc/xmppd/xmppd.conf";
// syslog(3) priorities as the sinks hold them.
constexpr unsigned kError = 1u << 3, kWarning = 1u << 4, kNotice = 1u << 5, kInfo = 1u << 6, kDebug = 1u << 7;
constexpr unsigned kAll = kError | kWarning | kNotice | kInfo | kDebug;
constexpr unsigned kInfoAndUp = kError | kWarning | kNotice | kInfo;

std::vector<LogSink> sinks_of(const std::string& text) {
  Loaded l = load_text(text);
  EXPECT_TRUE(l.settings) << text << "\n" << (l.messages.empty() ? "" : l.messages[0]);
  EXPECT_EQ(l.messages, Strings{}) << text;
  return l.settings ? l.settings->log : std::vector<LogSink>{};
}

std::string only_error(const std::string& text) {
  Loaded l = load_text(text);
  EXPECT_FALSE(l.settings) << text;
  Strings e = errors(l);
  return e.size() == 1 ? e[0] : "(" + std::to_string(e.size()) + " errors)";
}

LogSink file(const std::string& name, unsigned levels) { return {To::kFile, name, levels, ""}; }
LogSink syslog_sink(unsigned levels, std::string facility = "") { return {To::kSyslog, "", levels, facility}; }

TEST(LogOption, DefaultIsXmppdsOwnLogging) {
  Loaded l = load_text("");
  ASSERT_TRUE(l.settings);
  EXPECT_TRUE(l.settings->log.empty());
  EXPECT_EQ(l.settings->syslog_facility, "daemon");
  EXPECT_TRUE(sinks_of("log = {}").empty());
}

TEST(LogOption, AFileNameTakesInfoAndUp) {
  EXPECT_EQ(sinks_of("log = \"/var/log/xmppd/xmppd.log\""), std::vector{file("/var/log/xmppd/xmppd.log", kInfoAndUp)});
}

TEST(LogOption, StarSinksTakeEveryLevel) {
  EXPECT_EQ(sinks_of("log = \"*syslog\""), std::vector{syslog_sink(kAll)});
  EXPECT_EQ(sinks_of("log = \"*console\""), (std::vector<LogSink>{{To::kConsole, "", kAll, ""}}));
}

TEST(LogOption, ATableOfLevelsAsProsodysDocumentationWritesIt) {
  EXPECT_EQ(sinks_of("log = {\n"
                     "  info = \"/var/log/xmppd/xmppd.log\";\n"
                     "  error = \"/var/log/xmppd/xmppd.err\";\n"
                     "  \"*syslog\";\n"
                     "}\n"),
            (std::vector{file("/var/log/xmppd/xmppd.log", kInfoAndUp), file("/var/log/xmppd/xmppd.err", kError),
                         syslog_sink(kAll)}));
  EXPECT_EQ(sinks_of("log = { warn = \"*syslog\", debug = \"*console\" }"),
            (std::vector<LogSink>{syslog_sink(kError | kWarning), {To::kConsole, "", kAll, ""}}));
}

TEST(LogOption, AdvancedSinkRules) {
  EXPECT_EQ(
      sinks_of("log = {\n"
               "  { levels = { min = \"info\" }, to = \"file\", filename = \"/var/log/a.log\", timestamps = true };\n"
               "  { levels = { min = \"debug\", max = \"info\" }, to = \"file\", filename = \"/var/log/b.log\" };\n"
               "  { levels = { \"error\", \"warn\" }, to = \"syslog\", syslog_facility = \"local3\" };\n"
               "  { levels = \"warn\", to = \"console\" };\n"
               "  { to = \"file\", filename = \"/var/log/all.log\" };\n"
               "}\n"),
      (std::vector<LogSink>{file("/var/log/a.log", kInfoAndUp),
                            file("/var/log/b.log", kDebug | kInfo | kNotice),
                            syslog_sink(kError | kWarning, "local3"),
                            {To::kConsole, "", kWarning, ""},
                            file("/var/log/all.log", kAll)}));
}

TEST(LogOption, SyslogFacility) {
  Loaded l = load_text("syslog_facility = \"local0\"");
  ASSERT_TRUE(l.settings);
  EXPECT_EQ(l.settings->syslog_facility, "local0");
  EXPECT_EQ(
      only_error("syslog_facility = \"loca10\""),
      kFile + ":1: syslog_facility must be a syslog(3) facility such as \"daemon\" or \"local0\", got \"loca10\"");
}

TEST(LogOption, RefusedFormsNameTheirLine) {
  EXPECT_EQ(only_error("log = 5"),
            kFile + ":1: log expects a file name, \"*syslog\" or a table of sinks, got an integer");
  EXPECT_EQ(only_error("log = \"xmppd.log\""), kFile + ":1: log expects an absolute file name, got \"xmppd.log\"");
  EXPECT_EQ(only_error("log = \"*ringbuffer\""),
            kFile +
                ":1: log names the sink \"*ringbuffer\", which xmppd does not have (\"*syslog\", \"*console\" or "
                "a file)");
  EXPECT_EQ(only_error("log = {\n  info = \"/var/log/a.log\";\n  warning = \"/var/log/b.log\";\n}"),
            kFile + ":3: log names the level \"warning\", which Prosody does not have (debug, info, warn or error)");
  EXPECT_EQ(only_error("log = {\n  \"/var/log/a.log\";\n}"),
            kFile +
                ":2: log has the file \"/var/log/a.log\" in its list part, without a level: write info = "
                "\"/var/log/a.log\" or { to = \"file\", filename = \"/var/log/a.log\" }");
  EXPECT_EQ(only_error("log = {\n  { to = \"json\", filename = \"/var/log/x.json\" };\n}"),
            kFile + ":2: log has a filename in a sink to = \"json\"; only files have one");
  EXPECT_EQ(only_error("log = {\n  { to = \"ringbuffer\", size = 1024 };\n}"),
            kFile +
                ":2: log has a sink with the key size, which xmppd does not read (to, filename, levels, "
                "syslog_facility, timestamps)");
  EXPECT_EQ(only_error("log = {\n  { to = \"ringbuffer\" };\n}"),
            kFile + ":2: log has a sink to = \"ringbuffer\", which xmppd does not have (file, syslog or console)");
  EXPECT_EQ(only_error("log = {\n  { levels = { min = \"info\" } };\n}"),
            kFile + ":2: log has a sink without to = \"file\", \"syslog\" or \"console\"");
  EXPECT_EQ(only_error("log = {\n  { to = \"file\" };\n}"),
            kFile + ":2: log has a sink to = \"file\" without a filename");
  EXPECT_EQ(only_error("log = {\n  { to = \"file\",\n    filename = \"log/x.log\" };\n}"),
            kFile + ":3: log expects an absolute file name, got \"log/x.log\"");
  EXPECT_EQ(only_error("log = {\n  { to = \"syslog\",\n    levels = { min = \"error\", max = \"debug\" } };\n}"),
            kFile + ":3: log has levels whose min is above their max");
  EXPECT_EQ(only_error("log = {\n  { to = \"syslog\", levels = { min = \"verbose\" } };\n}"),
            kFile + ":2: log names the level \"verbose\", which Prosody does not have (debug, info, warn or error)");
  EXPECT_EQ(only_error("log = {\n  { to = \"syslog\", syslog_facility = \"daemons\" };\n}"),
            kFile +
                ":2: log has a sink whose syslog_facility must be a syslog(3) facility such as \"daemon\" or "
                "\"local0\", got \"daemons\"");
  EXPECT_EQ(only_error("log = { info = true }"),
            kFile + ":1: log expects a file name or \"*syslog\" for info, got a boolean");
}

}  // namespace
}  // namespace xmppd::config
