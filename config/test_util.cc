#include "config/test_util.h"

#include <fstream>
#include <random>

namespace xmppd::config::testing {
namespace {

std::vector<std::string> strings(const std::vector<Diagnostic>& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags) out.push_back(d.str());
  return out;
}

std::vector<std::string> only(const Loaded& loaded, Diagnostic::Severity severity) {
  std::vector<std::string> out;
  for (const Diagnostic& d : loaded.diags)
    if (d.severity == severity) out.push_back(d.str());
  return out;
}

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  for (;;) {
    path_ = std::filesystem::temp_directory_path() / ("xmppd-config-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& relative, std::string_view text) const {
  std::filesystem::path p = path_ / relative;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

Loaded load_text(std::string_view text, const std::string& name) {
  Loaded l;
  l.settings = load_string(text, name, l.diags);
  l.messages = strings(l.diags);
  return l;
}

Loaded load_path(const std::string& path) {
  Loaded l;
  l.settings = load_file(path, l.diags);
  l.messages = strings(l.diags);
  return l;
}

std::vector<std::string> errors(const Loaded& loaded) {
  return only(loaded, Diagnostic::Severity::kError);
}

std::vector<std::string> warnings(const Loaded& loaded) {
  return only(loaded, Diagnostic::Severity::kWarning);
}

}  // namespace xmppd::config::testing
