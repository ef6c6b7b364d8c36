#include "daemon/process_status.h"

#include <fstream>
#include <sstream>
#include <string>

namespace xmppd::parent {
namespace {

// "  1234 kB" after the field's name: bytes, or 0 if it does not read as that.
std::uint64_t kilobytes(std::string_view rest) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
  std::size_t digits = 0;
  for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && digits < 15; ++i, ++digits)
    value = value * 10 + static_cast<std::uint64_t>(rest[i] - '0');
  return rest.substr(i).starts_with(" kB") ? value * 1024 : 0;
}

}  // namespace

ProcessMemory parse_process_status(std::string_view text) {
  ProcessMemory memory;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (line.starts_with("VmRSS:")) memory.resident_bytes = kilobytes(line.substr(6));
    if (line.starts_with("VmSize:")) memory.address_space_bytes = kilobytes(line.substr(7));
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return memory;
}

ProcessMemory process_memory(pid_t pid) {
  if (pid <= 0) return {};
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  if (!file) return {};
  std::ostringstream text;
  text << file.rdbuf();
  return parse_process_status(text.str());
}

}  // namespace xmppd::parent
