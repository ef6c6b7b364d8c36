// xmppd.conf(5) must document exactly the schema's options, with their
// types, scopes and defaults, and its examples must load.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "config/options.h"
#include "config/test_util.h"

namespace xmppd::config {
namespace {

using Lines = std::vector<std::string>;

Lines read_page() {
  const char* path = std::getenv("XMPPD_CONF_MAN");
  EXPECT_NE(path, nullptr) << "XMPPD_CONF_MAN must name man/xmppd.conf.5";
  Lines lines;
  if (!path) return lines;
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Entry {
  std::string type;
  Lines body;
};

// ".It Ic name Ar type" and the lines up to the next item or list end.
std::map<std::string, Entry> option_entries(const Lines& page) {
  std::map<std::string, Entry> entries;
  Entry* current = nullptr;
  for (const std::string& line : page) {
    std::istringstream words(line);
    std::string it, ic, name, ar, type;
    words >> it >> ic >> name >> ar >> type;
    if (it == ".It" && ic == "Ic" && ar == "Ar") {
      EXPECT_EQ(entries.count(name), 0u) << name << " is documented twice";
      current = &entries[name];
      current->type = type;
    } else if (it == ".It" || it == ".El") {
      current = nullptr;
    } else if (current) {
      current->body.push_back(line);
    }
  }
  return entries;
}

bool contains(const Lines& lines, const std::string& wanted) {
  return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

std::string mdoc_quoted(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '"' ? std::string("\\(dq") : std::string(1, c);
  return out;
}

TEST(ManPage, DocumentsEveryOptionOfTheSchemaAndNoOther) {
  std::map<std::string, Entry> entries = option_entries(read_page());
  for (const OptionSpec& spec : option_specs()) {
    std::string name(spec.name);
    auto it = entries.find(name);
    if (it == entries.end()) {
      ADD_FAILURE() << name << " is not in the man page";
      continue;
    }
    const Entry& e = it->second;
    EXPECT_EQ(e.type, type_name(spec.type)) << name;
    bool global_only = spec.scope == OptionScope::kGlobal;
    EXPECT_EQ(contains(e.body, "Global only."), global_only) << name;
    // A component's options (MUC, component_secret) are read in the global section too.
    bool per_section = contains(e.body, "Global or per VirtualHost.") || contains(e.body, "Global or per Component.");
    EXPECT_EQ(per_section, !global_only) << name;
    if (spec.default_value.empty()) {
      EXPECT_TRUE(contains(e.body, "Default: the value of")) << name;
    } else {
      EXPECT_TRUE(contains(e.body, ".Ql " + mdoc_quoted(spec.default_value)))
          << name << ": expected .Ql " << mdoc_quoted(spec.default_value);
    }
    entries.erase(it);
  }
  for (const auto& [name, entry] : entries) ADD_FAILURE() << name << " is not in the schema";
}

TEST(ManPage, NamesIgnoredOptions) {
  Lines page = read_page();
  for (const IgnoredOption& o : ignored_options())
    EXPECT_TRUE(contains(page, ".Ic " + std::string(o.name) + " ,") ||
                contains(page, ".Ic " + std::string(o.name)))
        << o.name;
}

// ".It Ic a , b" under MODULES: each name to its subsection and the lines up to the next item.
struct ModuleEntry {
  std::string subsection;
  Lines body;
};
std::map<std::string, ModuleEntry> module_entries(const Lines& page) {
  std::map<std::string, ModuleEntry> entries;
  bool in_modules = false;
  std::string subsection;
  std::vector<ModuleEntry*> current;
  for (const std::string& line : page) {
    if (line.rfind(".Sh ", 0) == 0) in_modules = line == ".Sh MODULES";
    if (!in_modules) continue;
    if (line.rfind(".Ss ", 0) == 0) subsection = line.substr(4);
    if (line.rfind(".It Ic ", 0) == 0) {
      current.clear();
      std::istringstream words(line.substr(7));
      for (std::string name; words >> name;) {
        if (name == ",") continue;
        EXPECT_EQ(entries.count(name), 0u) << name << " is listed twice under MODULES";
        current.push_back(&entries[name]);
        current.back()->subsection = subsection;
      }
    } else if (line.rfind(".It", 0) == 0 || line == ".El") {
      current.clear();
    } else {
      for (ModuleEntry* e : current) e->body.push_back(line);
    }
  }
  return entries;
}

// Every module xmppd provides, does without or lacks with a reason has its entry, in the right
// subsection, and says whether it is on by default as default_modules() does; no other is listed.
TEST(ManPage, ModulesSection) {
  std::map<std::string, ModuleEntry> entries = module_entries(read_page());
  auto check = [&](std::string_view name, std::string_view subsection) {
    auto it = entries.find(std::string(name));
    if (it == entries.end()) {
      ADD_FAILURE() << name << " is not listed under MODULES";
      return;
    }
    EXPECT_EQ(it->second.subsection, subsection) << name;
    bool on = default_modules().count(std::string(name)) > 0;
    EXPECT_EQ(contains(it->second.body, "On by default."), on) << name;
    bool off = subsection == "Provided modules" && !on;
    EXPECT_EQ(std::any_of(it->second.body.begin(), it->second.body.end(),
                          [](const std::string& l) { return l.rfind("Off by default", 0) == 0; }),
              off)
        << name;
    entries.erase(it);
  };
  for (const std::string& m : known_modules()) check(m, "Provided modules");
  for (const ModuleNote& n : builtin_modules()) check(n.name, "Done without a module");
  for (const ModuleNote& n : missing_modules()) check(n.name, "Not provided");
  for (const auto& [name, entry] : entries) ADD_FAILURE() << name << " is listed under MODULES but unknown";
}

// The literal displays under EXAMPLES: those marked "-- refused" must fail,
// the others must load without a single message.
TEST(ManPage, ExamplesLoad) {
  Lines page = read_page();
  bool in_examples = false, in_display = false;
  std::vector<std::string> blocks;
  for (const std::string& line : page) {
    if (line.rfind(".Sh ", 0) == 0) in_examples = line == ".Sh EXAMPLES";
    if (!in_examples) continue;
    if (line.rfind(".Bd -literal", 0) == 0) {
      in_display = true;
      blocks.emplace_back();
    } else if (line == ".Ed") {
      in_display = false;
    } else if (in_display) {
      blocks.back() += line + "\n";
    }
  }
  ASSERT_GE(blocks.size(), 3u);
  for (const std::string& block : blocks) {
    testing::Loaded l = testing::load_text(block);
    if (block.find("-- refused") != std::string::npos) {
      EXPECT_FALSE(l.settings) << block;
    } else {
      EXPECT_TRUE(l.settings) << block;
      EXPECT_EQ(l.messages, Lines{}) << block;
    }
  }
}

}  // namespace
}  // namespace xmppd::config
