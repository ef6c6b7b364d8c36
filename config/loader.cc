#include "config/loader.h"

#include <glob.h>

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "config/host_name.h"
#include "config/parser.h"

namespace xmppd::config {
namespace {

namespace fs = std::filesystem;

// Where the options that follow a section header go.
struct Section {
  enum class Kind { kGlobal, kHost, kIgnored };
  Kind kind = Kind::kGlobal;
  std::string host;
};

bool has_wildcard(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// stdio rather than iostreams, for an errno to show the admin.
std::optional<std::string> read_file(const std::string& path, std::string* error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    *error = "is a directory";
    return std::nullopt;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int saved = errno;
  std::fclose(f);
  if (failed) {
    *error = std::strerror(saved);
    return std::nullopt;
  }
  return text;
}

class Loader {
 public:
  std::vector<Event> take() { return std::move(events_); }
  void load_main(const std::string& path);
  void load_text(std::string_view text, const std::string& file);

 private:
  void diag(Diagnostic::Severity severity, const std::string& file, int line, std::string message) {
    events_.emplace_back(Diagnostic{severity, file, line, std::move(message)});
  }
  void apply(const Statement& statement, const std::string& file);
  void open_section(const SectionHeader& header, const std::string& file);
  void include(const IncludeDirective& directive, const std::string& file);
  void include_file(const std::string& path, const std::string& from, int line);
  bool include_allowed(const std::string& path, const std::string& from, int line);
  std::string chain_text(const std::string& last) const;

  std::vector<Event> events_;
  Section section_;
  std::vector<std::string> chain_;  // files being read, outermost first
};

void Loader::load_main(const std::string& path) {
  std::string error;
  std::optional<std::string> text = read_file(path, &error);
  if (!text)
    return diag(Diagnostic::Severity::kError, path, 0, "cannot read configuration file: " + error);
  load_text(*text, path);
}

// Parse problems are merged in by line, so that the list stays in file
// order around the contents of included files.
void Loader::load_text(std::string_view text, const std::string& file) {
  chain_.push_back(file);
  std::vector<Diagnostic> parse_diags;
  std::vector<Statement> statements = parse_statements(text, file, parse_diags);
  std::size_t next_diag = 0;
  for (const Statement& s : statements) {
    int line = std::visit([](const auto& st) { return st.line; }, s);
    while (next_diag < parse_diags.size() && parse_diags[next_diag].line <= line)
      events_.emplace_back(parse_diags[next_diag++]);
    apply(s, file);
  }
  while (next_diag < parse_diags.size()) events_.emplace_back(parse_diags[next_diag++]);
  chain_.pop_back();
}

void Loader::apply(const Statement& statement, const std::string& file) {
  if (const auto* a = std::get_if<Assignment>(&statement)) {
    if (section_.kind == Section::Kind::kIgnored) return;
    events_.emplace_back(OptionEvent{section_.host, a->key, a->value, file, a->line});
  } else if (const auto* h = std::get_if<SectionHeader>(&statement)) {
    open_section(*h, file);
  } else {
    include(std::get<IncludeDirective>(statement), file);
  }
}

void Loader::open_section(const SectionHeader& header, const std::string& file) {
  bool component = header.kind == SectionHeader::Kind::kComponent;
  if (component && !header.module.empty() &&
      std::find(std::begin(kComponentModules), std::end(kComponentModules), header.module) ==
          std::end(kComponentModules)) {
    diag(Diagnostic::Severity::kWarning, file, header.line,
         "component module '" + header.module + "' is not provided by xmppd; section ignored");
    section_ = {Section::Kind::kIgnored, ""};
    return;
  }
  std::string why;
  std::optional<std::string> name = normalize_host_name(header.name, &why);
  if (!name) {
    diag(Diagnostic::Severity::kError, file, header.line,
         "invalid host name '" + header.name + "': " + why);
    section_ = {Section::Kind::kIgnored, ""};
    return;
  }
  section_ = {Section::Kind::kHost, *name};
  events_.emplace_back(HostEvent{*name, file, header.line, component, header.module});
}

void Loader::include(const IncludeDirective& directive, const std::string& file) {
  fs::path pattern(directive.pattern);
  if (pattern.is_relative()) pattern = fs::path(file).parent_path() / pattern;
  std::string resolved = pattern.lexically_normal().string();
  if (!has_wildcard(directive.pattern)) return include_file(resolved, file, directive.line);

  glob_t matches{};
  int rc = glob(resolved.c_str(), 0, nullptr, &matches);
  if (rc == 0) {
    for (std::size_t i = 0; i < matches.gl_pathc; ++i)
      include_file(matches.gl_pathv[i], file, directive.line);
  } else if (rc != GLOB_NOMATCH) {
    // A pattern that matches nothing is fine (an empty conf.d); a read error is not.
    diag(Diagnostic::Severity::kError, file, directive.line,
         "cannot expand Include pattern '" + resolved + "'");
  }
  globfree(&matches);
}

void Loader::include_file(const std::string& path, const std::string& from, int line) {
  if (!include_allowed(path, from, line)) return;
  std::string error;
  std::optional<std::string> text = read_file(path, &error);
  if (!text) {
    return diag(Diagnostic::Severity::kError, from, line,
                "cannot read included file '" + path + "': " + error);
  }
  // An included file starts in the section of the Include and cannot change
  // the section of the file that includes it.
  Section saved = section_;
  load_text(*text, path);
  section_ = saved;
}

bool Loader::include_allowed(const std::string& path, const std::string& from, int line) {
  std::error_code ec;
  for (const std::string& open : chain_) {
    if (fs::equivalent(open, path, ec)) {
      diag(Diagnostic::Severity::kError, from, line, "Include loop: " + chain_text(path));
      return false;
    }
  }
  if (chain_.size() > static_cast<std::size_t>(kMaxIncludeDepth)) {
    diag(Diagnostic::Severity::kError, from, line,
         "Include nesting deeper than " + std::to_string(kMaxIncludeDepth) +
             " levels: " + chain_text(path));
    return false;
  }
  return true;
}

std::string Loader::chain_text(const std::string& last) const {
  std::string out;
  for (const std::string& f : chain_) out += f + " -> ";
  return out + last;
}

}  // namespace

std::vector<Event> load_events_from_file(const std::string& path) {
  Loader loader;
  loader.load_main(path);
  return loader.take();
}

std::vector<Event> load_events_from_string(std::string_view text, const std::string& name) {
  Loader loader;
  loader.load_text(text, name);
  return loader.take();
}

}  // namespace xmppd::config
