#include "config/host_name.h"

namespace xmppd::config {
namespace {

constexpr std::size_t kMaxName = 253;  // RFC 1035 §2.3.4, without the final dot
constexpr std::size_t kMaxLabel = 63;

bool label_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

std::optional<std::string> check_label(std::string_view label) {
  if (label.empty()) return "empty label";
  if (label.size() > kMaxLabel) return "label longer than 63 characters";
  if (label.front() == '-' || label.back() == '-') return "label starts or ends with '-'";
  for (char c : label) {
    if (static_cast<unsigned char>(c) >= 0x80)
      return "non-ASCII character (write the name in its xn-- form)";
    if (!label_char(c)) return std::string("character '") + c + "' is not allowed";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> normalize_host_name(std::string_view name, std::string* why) {
  std::string lower;
  for (char c : name) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  std::optional<std::string> problem;
  if (lower.empty())
    problem = "empty name";
  else if (lower.size() > kMaxName)
    problem = "longer than 253 characters";
  for (std::size_t start = 0; !problem && start <= lower.size();) {
    std::size_t dot = lower.find('.', start);
    if (dot == std::string::npos) dot = lower.size();
    problem = check_label(std::string_view(lower).substr(start, dot - start));
    start = dot + 1;
  }
  if (problem) {
    if (why) *why = *problem;
    return std::nullopt;
  }
  return lower;
}

}  // namespace xmppd::config
