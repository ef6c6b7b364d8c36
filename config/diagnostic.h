#ifndef XMPPD_CONFIG_DIAGNOSTIC_H
#define XMPPD_CONFIG_DIAGNOSTIC_H

#include <string>
#include <vector>

namespace xmppd::config {

// One finding about a configuration file. Errors make the whole load fail;
// warnings are reported and the file is still used.
struct Diagnostic {
  enum class Severity { kWarning, kError };

  Severity severity = Severity::kError;
  std::string file;
  int line = 0;  // 0 when the finding is about the file as a whole
  std::string message;

  // "file:line: message" for errors, "file:line: warning: message" for warnings.
  std::string str() const;
};

bool has_error(const std::vector<Diagnostic>& diags);

}  // namespace xmppd::config

#endif  // XMPPD_CONFIG_DIAGNOSTIC_H
