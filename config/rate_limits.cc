#include "config/rate_limits.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include "config/settings.h"

namespace xmppd::config {
namespace {

// What Prosody assumes for an entry without a rate, and for one without a burst.
constexpr double kDefaultRate = 3000;
constexpr double kDefaultBurst = 2;

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Digits as a number; nullopt past what a double holds (std::stod would throw there).
std::optional<double> number(std::string_view digits) {
  double out = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  if (error != std::errc() || end != digits.data() + digits.size() || !std::isfinite(out)) return std::nullopt;
  return out;
}

// A rate split as Prosody's mod_limits matches it, "^(%d+) ?([^/]+)/s$": the digits and the
// unit (one space before the unit is dropped; a second one is part of the unit).
struct RateParts {
  std::string_view digits, unit;
};

std::optional<RateParts> split_rate(std::string_view text) {
  if (text.size() < 3 || text.substr(text.size() - 2) != "/s") return std::nullopt;
  text.remove_suffix(2);
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  std::string_view unit = text.substr(digits);
  if (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (unit.empty() || unit.find('/') != std::string_view::npos) return std::nullopt;
  return RateParts{text.substr(0, digits), unit};
}

// The units spelled as the documentation spells them: a letter alone or with "b", in any case.
// Prosody reads only the first letter of any other ("10kbit/s" is 10 kilobytes, not bits), so
// such a unit is taken as Prosody takes it, with a warning.
bool usual_unit(std::string_view unit) {
  return unit.size() == 1 || (unit.size() == 2 && std::tolower(static_cast<unsigned char>(unit[1])) == 'b');
}

ByteRate* entry_for(Settings& settings, std::string_view kind) {
  if (kind == "c2s") return &settings.limits_c2s;
  if (kind == "s2sin") return &settings.limits_s2sin;
  if (kind == "s2sout") return &settings.limits_s2sout;
  return nullptr;
}

const Value* field(const Table& table, std::string_view name) {
  for (const TableEntry& e : table.entries)
    if (e.key && *e.key == name) return &e.value;
  return nullptr;
}

std::optional<Problem> check_entry(const std::string& kind, const Value& v) {
  if (!v.is_table()) return Problem{false, "expects a table such as { rate = \"10kb/s\" } for " + kind};
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.key) return Problem{false, "expects named settings (rate, burst) for " + kind};
    if (*e.key == "rate") {
      if (!e.value.is_string() || !parse_rate(e.value.as_string()))
        return Problem{false, "has a rate for " + kind +
                                  " that is not like \"10kb/s\": digits, an optional space, a unit whose first "
                                  "letter is b, k, m, g or t (bytes, or 10^3, 10^6, 10^9, 10^12 bytes), and /s"};
    } else if (*e.key == "burst") {
      if (!parse_burst(e.value))
        return Problem{false, "has a burst for " + kind + " that is not seconds, such as \"2s\" or 2"};
    } else {
      return Problem{false, "has an unknown setting '" + *e.key + "' for " + kind + " (rate, burst)"};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_rate(std::string_view text) {
  const auto parts = split_rate(text);
  if (!parts) return std::nullopt;
  int exponent;
  // Only the first letter, as in Prosody: "kb", "KB", "k" and "kbx" are all 10^3 bytes.
  switch (std::tolower(static_cast<unsigned char>(parts->unit.front()))) {
    case 'b': exponent = 0; break;
    case 'k': exponent = 3; break;
    case 'm': exponent = 6; break;
    case 'g': exponent = 9; break;
    case 't': exponent = 12; break;
    default: return std::nullopt;
  }
  const auto quantity = number(parts->digits);
  if (!quantity) return std::nullopt;
  const double rate = *quantity * std::pow(10.0, exponent);
  if (!std::isfinite(rate)) return std::nullopt;
  return rate;
}

std::optional<double> parse_burst(const Value& value) {
  if (value.is_integer() && value.as_integer() >= 0) return static_cast<double>(value.as_integer());
  if (value.is_float() && std::get<double>(value.data) >= 0) return std::get<double>(value.data);
  if (!value.is_string()) return std::nullopt;
  std::string_view text = value.as_string();
  if (text.empty() || text.back() != 's') return std::nullopt;
  text.remove_suffix(1);
  if (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!all_digits(text)) return std::nullopt;
  return number(text);
}

std::optional<Problem> check_limits(const Value& v) {
  if (!v.is_table()) return Problem{false, "expects a table such as { c2s = { rate = \"10kb/s\" } }"};
  for (const TableEntry& e : v.as_table().entries) {
    if (!e.key) return Problem{false, "expects connection types (c2s, s2sin, s2sout) as names"};
    if (auto problem = check_entry(*e.key, e.value)) return problem;
  }
  for (const TableEntry& e : v.as_table().entries) {
    Settings probe;
    if (!entry_for(probe, *e.key))
      return Problem{true, "names '" + *e.key + "', which is not a connection type (c2s, s2sin, s2sout): ignored"};
    const Value* rate = field(e.value.as_table(), "rate");
    if (!rate) return Problem{true, "gives " + *e.key + " no rate: Prosody's default of 3000 bytes per second applies"};
    const std::string_view unit = split_rate(rate->as_string())->unit;  // checked above
    if (!usual_unit(unit))
      return Problem{true, "has a rate for " + *e.key + " in '" + std::string(unit) +
                               "', of which only the first letter counts, as in Prosody: it is read as '" +
                               std::string(1, unit.front()) + "' (b, k, m, g or t: bytes, or 10^3, 10^6, 10^9, "
                               "10^12 bytes)"};
  }
  return std::nullopt;
}

std::optional<Problem> connection_count(const Value& v) {
  constexpr std::int64_t kMax = 1000000;
  if (v.as_integer() >= 0 && v.as_integer() <= kMax) return std::nullopt;
  return Problem{false, "must be from 0 (no limit) to 1000000, got " + std::to_string(v.as_integer())};
}

void store_unlimited_jids(const Value& v, Settings& settings, HostSettings&) {
  settings.unlimited_jids.clear();
  for (const TableEntry& e : v.as_table().entries) {
    std::string jid = e.value.as_string();
    for (char& c : jid) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    settings.unlimited_jids.push_back(std::move(jid));
  }
}

void store_limits(const Value& v, Settings& settings, HostSettings&) {
  settings.limits_c2s = settings.limits_s2sin = settings.limits_s2sout = ByteRate{};
  for (const TableEntry& e : v.as_table().entries) {
    ByteRate* out = entry_for(settings, *e.key);
    if (out == nullptr) continue;
    const Value* rate = field(e.value.as_table(), "rate");
    const Value* burst = field(e.value.as_table(), "burst");
    out->bytes_per_second = rate != nullptr ? parse_rate(rate->as_string()).value_or(kDefaultRate) : kDefaultRate;
    out->burst_seconds = burst != nullptr ? parse_burst(*burst).value_or(kDefaultBurst) : kDefaultBurst;
  }
}

}  // namespace xmppd::config
