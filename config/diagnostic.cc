#include "config/diagnostic.h"

#include <algorithm>

namespace xmppd::config {

std::string Diagnostic::str() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (severity == Severity::kWarning) out += "warning: ";
  out += message;
  return out;
}

bool has_error(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::kError;
  });
}

}  // namespace xmppd::config
