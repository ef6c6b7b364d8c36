#ifndef XMPPD_CONFIG_TEST_UTIL_H
#define XMPPD_CONFIG_TEST_UTIL_H

// Helpers shared by the config unit tests.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/settings.h"

namespace xmppd::config::testing {

// A fresh directory under the system temporary directory, removed with
// everything in it when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes text to path()/relative, creating directories; returns the full path.
  std::string write(const std::string& relative, std::string_view text) const;

 private:
  std::filesystem::path path_;
};

// The result of one load, with its diagnostics as "file:line: message" strings.
struct Loaded {
  std::optional<Settings> settings;
  std::vector<Diagnostic> diags;
  std::vector<std::string> messages;
};

// Loads text as the file /etc/xmppd/xmppd.conf (which need not exist).
Loaded load_text(std::string_view text, const std::string& name = "/etc/xmppd/xmppd.conf");
Loaded load_path(const std::string& path);

// Only the errors (or only the warnings) as strings.
std::vector<std::string> errors(const Loaded& loaded);
std::vector<std::string> warnings(const Loaded& loaded);

}  // namespace xmppd::config::testing

#endif  // XMPPD_CONFIG_TEST_UTIL_H
