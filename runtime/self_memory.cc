#include "runtime/self_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xmppd::runtime {
namespace {

// One decimal field and the single space or newline after it; nullopt if it is not that.
std::optional<std::uint64_t> field(std::string_view& text) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (i == 16) return std::nullopt;  // no process has 10^16 pages
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  if (i == 0 || i == text.size() || (text[i] != ' ' && text[i] != '\n')) return std::nullopt;
  text.remove_prefix(i + 1);
  return value;
}

}  // namespace

std::optional<MemoryUsage> parse_statm(std::string_view text, std::uint64_t page_size) {
  std::optional<std::uint64_t> size = field(text);
  std::optional<std::uint64_t> resident = size ? field(text) : std::nullopt;
  if (!resident || *resident > *size) return std::nullopt;
  return MemoryUsage{*resident * page_size, *size * page_size};
}

bool SelfMemory::open(std::string& error) {
  fd_ = UniqueFd(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC));
  if (!fd_) {
    error = std::string("/proc/self/statm: ") + std::strerror(errno);
    return false;
  }
  long page = sysconf(_SC_PAGESIZE);
  if (page > 0) page_size_ = static_cast<std::uint64_t>(page);
  return true;
}

std::optional<MemoryUsage> SelfMemory::read() const {
  if (!fd_) return std::nullopt;
  char buffer[256];
  ssize_t n = pread(fd_.get(), buffer, sizeof buffer, 0);
  if (n <= 0) return std::nullopt;
  return parse_statm(std::string_view(buffer, static_cast<std::size_t>(n)), page_size_);
}

}  // namespace xmppd::runtime
