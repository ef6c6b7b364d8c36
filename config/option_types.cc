#include "config/option_types.h"

#include <algorithm>
#include <filesystem>

namespace xmppd::config {
namespace {

constexpr std::int64_t kMaxPort = 65535;

class Converter {
 public:
  Converter(const OptionSpec& spec, const ConvertContext& ctx) : spec_(spec), ctx_(ctx) {}

  std::optional<Value> run(const Value& raw);

 private:
  void report(Diagnostic::Severity severity, int line, std::string message) const {
    ctx_.diags->push_back({severity, ctx_.file, line, std::move(message)});
  }
  std::nullopt_t error(std::string message, int line = 0) const {
    report(Diagnostic::Severity::kError, line ? line : ctx_.line, std::move(message));
    return std::nullopt;
  }
  void warning(std::string message, int line = 0) const {
    report(Diagnostic::Severity::kWarning, line ? line : ctx_.line, std::move(message));
  }
  std::nullopt_t wrong_type(std::string_view expected, const Value& got) const {
    return error(std::string(spec_.name) + " expects " + std::string(expected) + ", got " +
                 std::string(type_name(got)));
  }

  std::optional<Value> string_list(const Value& raw, std::string_view expected);
  std::optional<Value> port_list(const Value& raw);
  std::optional<Value> tls_table(const Value& raw);
  bool tls_entry(const TableEntry& entry, Table& out);
  std::optional<Value> module_list(const Value& raw);

  const OptionSpec& spec_;
  const ConvertContext& ctx_;
};

std::optional<Value> Converter::run(const Value& raw) {
  switch (spec_.type) {
    case OptionType::kBool:
      return raw.is_bool() ? std::optional<Value>(raw) : wrong_type("true or false", raw);
    case OptionType::kInteger:
      return raw.is_integer() ? std::optional<Value>(raw) : wrong_type("an integer", raw);
    case OptionType::kString:
      return raw.is_string() ? std::optional<Value>(raw) : wrong_type("a string", raw);
    case OptionType::kPath: {
      if (!raw.is_string()) return wrong_type("a path in quotes", raw);
      Value v = raw;
      v.data = resolve_path(ctx_.base_dir, raw.as_string());
      return v;
    }
    case OptionType::kStringList:
      return string_list(raw, "a list of strings, such as { \"a\", \"b\" }");
    case OptionType::kPortList: return port_list(raw);
    case OptionType::kTls: return tls_table(raw);
    case OptionType::kModuleList: return module_list(raw);
    case OptionType::kTable: return raw.is_table() ? std::optional<Value>(raw) : wrong_type("a table", raw);
    case OptionType::kNumber:
      return raw.is_integer() || raw.is_float() ? std::optional<Value>(raw) : wrong_type("a number", raw);
    case OptionType::kScalar:
      return raw.is_string() || raw.is_integer() || raw.is_bool() ? std::optional<Value>(raw)
                                                                  : wrong_type("a string, number or boolean", raw);
    case OptionType::kLog:
      return raw.is_string() || raw.is_table() ? std::optional<Value>(raw)
                                               : wrong_type("a file name, \"*syslog\" or a table of sinks", raw);
    case OptionType::kBackend:
      return raw.is_string() || raw.is_table() ? std::optional<Value>(raw)
                                               : wrong_type("\"internal\", \"sql\" or a table of them by store", raw);
  }
  return std::nullopt;
}

std::optional<Value> Converter::string_list(const Value& raw, std::string_view expected) {
  if (!raw.is_table()) return wrong_type(expected, raw);
  const Table& t = raw.as_table();
  for (std::size_t i = 0; i < t.entries.size(); ++i) {
    const TableEntry& e = t.entries[i];
    if (e.key)
      return error(std::string(spec_.name) + " expects " + std::string(expected) +
                       ", got the named entry '" + *e.key + "'",
                   e.value.line);
    if (!e.value.is_string())
      return error(std::string(spec_.name) + " expects " + std::string(expected) + ", got " +
                       std::string(type_name(e.value)) + " as entry " + std::to_string(i + 1),
                   e.value.line);
  }
  return raw;
}

// Prosody takes c2s_ports = 5222 for { 5222 }; so does xmppd.
std::optional<Value> Converter::port_list(const Value& raw) {
  constexpr std::string_view kExpected = "a port number or a list of port numbers";
  Value list = raw;
  if (raw.is_integer()) list.data = Table{{TableEntry{std::nullopt, raw}}};
  if (!list.is_table()) return wrong_type(kExpected, raw);
  for (const TableEntry& e : list.as_table().entries) {
    if (e.key || !e.value.is_integer())
      return error(
          std::string(spec_.name) + " expects " + std::string(kExpected) + ", got " +
              (e.key ? "the named entry '" + *e.key + "'" : std::string(type_name(e.value))) +
              " in the list",
          e.value.line);
    std::int64_t port = e.value.as_integer();
    if (port < 1 || port > kMaxPort)
      return error(std::string(spec_.name) + " expects port numbers from 1 to 65535, got " +
                       std::to_string(port),
                   e.value.line);
  }
  return list;
}

std::optional<Value> Converter::tls_table(const Value& raw) {
  if (!raw.is_table())
    return wrong_type("a table such as { certificate = \"...\", key = \"...\" }", raw);
  Value out = raw;
  Table& kept = out.data.emplace<Table>();
  bool ok = true;
  for (const TableEntry& e : raw.as_table().entries) ok = tls_entry(e, kept) && ok;
  if (!ok) return std::nullopt;
  return out;
}

bool Converter::tls_entry(const TableEntry& e, Table& out) {
  std::string name(spec_.name);
  if (!e.key) {
    error(name + " expects named settings such as key = \"...\", got an entry without a name",
          e.value.line);
    return false;
  }
  const std::vector<std::string_view>& keys = tls_keys();
  if (std::find(keys.begin(), keys.end(), *e.key) == keys.end()) {
    warning("unknown key '" + *e.key + "' in " + name + " (ignored)", e.value.line);
    return true;
  }
  if (!e.value.is_string()) {
    error(name + "." + *e.key + " expects a string, got " + std::string(type_name(e.value)),
          e.value.line);
    return false;
  }
  TableEntry kept = e;
  const std::string& s = e.value.as_string();
  if (*e.key == "protocol") {
    const std::vector<std::string_view>& allowed = tls_protocols();
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      error(name +
                ".protocol must be one of \"tlsv1_2\", \"tlsv1_2+\", \"tlsv1_3\", "
                "\"tlsv1_3+\", got \"" +
                s + "\"",
            e.value.line);
      return false;
    }
  } else if (*e.key == "certificate" || *e.key == "key" || *e.key == "cafile" ||
             *e.key == "capath") {
    kept.value.data = resolve_path(ctx_.base_dir, s);
  }
  out.entries.push_back(std::move(kept));
  return true;
}

// Prosody configurations list many modules xmppd does not have; naming them
// is not a mistake worth refusing to start over. Those whose work xmppd does
// itself (posix, admin_shell) are not worth a warning either.
std::optional<Value> Converter::module_list(const Value& raw) {
  std::optional<Value> list = string_list(raw, "a list of module names, such as { \"ping\" }");
  if (!list) return std::nullopt;
  for (const TableEntry& e : list->as_table().entries) {
    const std::string& name = e.value.as_string();
    if (known_modules().count(name) || find_module_note(builtin_modules(), name)) continue;
    std::string message = "module '" + name + "' is not provided by xmppd";
    if (const ModuleNote* missing = find_module_note(missing_modules(), name))
      message += ": " + std::string(missing->why);
    warning(std::move(message), e.value.line);
  }
  return list;
}

}  // namespace

std::string resolve_path(const std::string& base_dir, const std::string& path) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::optional<Value> convert_option(const OptionSpec& spec, const Value& raw,
                                    const ConvertContext& ctx) {
  std::optional<Value> v = Converter(spec, ctx).run(raw);
  if (!v || !spec.validate) return v;
  std::optional<Problem> problem = spec.validate(*v);
  if (!problem) return v;
  auto severity = problem->warning ? Diagnostic::Severity::kWarning : Diagnostic::Severity::kError;
  ctx.diags->push_back({severity, ctx.file, problem->line ? problem->line : ctx.line,
                        std::string(spec.name) + " " + problem->message});
  if (!problem->warning) return std::nullopt;
  return v;
}

}  // namespace xmppd::config
