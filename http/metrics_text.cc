#include "http/metrics_text.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <vector>

namespace xmppd::http {
namespace {

bool name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon)) return false;
  return true;
}

// HELP text: backslash and newline escaped in both formats; a double quote too in
// OpenMetrics, whose grammar has no bare one there (the Prometheus text format would show
// the backslash).
std::string escape_help(std::string_view text, MetricsFormat format) {
  if (format == MetricsFormat::kOpenMetrics) return escape_label_value(text);
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

const char* type_name(ipc::MetricSample::Type type) {
  return type == ipc::MetricSample::TYPE_COUNTER ? "counter" : "gauge";
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Family {
  ipc::MetricSample::Type type;
  std::string help, unit;
  std::vector<std::string> lines;  // `{labels} value`
  std::set<std::string> label_sets;
};

// `{a="x",b="y"}`, or nothing without labels; false when a label name is bad or repeated.
bool render_labels(const ipc::MetricSample& sample, std::string& out) {
  std::set<std::string_view> names;
  for (const ipc::MetricLabel& label : sample.labels()) {
    if (!valid_label_name(label.name()) || !names.insert(label.name()).second) return false;
    out += out.empty() ? "{" : ",";
    out += label.name() + "=\"" + escape_label_value(label.value()) + "\"";
  }
  if (!out.empty()) out += "}";
  return true;
}

bool acceptable(const ipc::MetricSample& sample) {
  if (!valid_metric_name(sample.family())) return false;
  if (sample.type() == ipc::MetricSample::TYPE_COUNTER)
    return !ends_with(sample.family(), "_total") && sample.value() >= 0;  // false for NaN too
  return sample.type() == ipc::MetricSample::TYPE_GAUGE;
}

void render_family(const std::string& name, const Family& family, MetricsFormat format, std::string& out) {
  const bool counter = family.type == ipc::MetricSample::TYPE_COUNTER;
  const std::string sample_name = counter ? name + "_total" : name;
  if (format == MetricsFormat::kOpenMetrics) {
    out += "# TYPE " + name + " " + type_name(family.type) + "\n";
    // OpenMetrics: a family with a unit is named with it as its suffix.
    if (!family.unit.empty() && valid_label_name(family.unit) && ends_with(name, "_" + family.unit))
      out += "# UNIT " + name + " " + family.unit + "\n";
    out += "# HELP " + name + " " + escape_help(family.help, format) + "\n";
  } else {
    out += "# HELP " + sample_name + " " + escape_help(family.help, format) + "\n";
    out += "# TYPE " + sample_name + " " + type_name(family.type) + "\n";
  }
  for (const std::string& line : family.lines) out += sample_name + line + "\n";
}

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

bool valid_label_name(std::string_view name) { return valid_name(name, false) && !name.starts_with("__"); }

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buffer, end);
}

MetricsText render_metrics(const ipc::Metrics& metrics, MetricsFormat format) {
  MetricsText text;
  std::vector<std::string> order;  // families in the order they first came: stable output
  std::map<std::string, Family> families;
  for (const ipc::MetricSample& sample : metrics.samples()) {
    std::string labels;
    if (!acceptable(sample) || !render_labels(sample, labels)) {
      ++text.dropped;
      continue;
    }
    auto [it, fresh] =
        families.try_emplace(sample.family(), Family{sample.type(), sample.help(), sample.unit(), {}, {}});
    Family& family = it->second;
    if (!fresh && (family.type != sample.type() || family.help != sample.help() || family.unit != sample.unit())) {
      ++text.dropped;
      continue;
    }
    // Two samples alike would be one series twice.
    if (!family.label_sets.insert(labels).second) {
      ++text.dropped;
      continue;
    }
    if (fresh) order.push_back(sample.family());
    family.lines.push_back(labels + " " + format_metric_value(sample.value()));
  }
  // A gauge named like another family's counter samples would read as that family's.
  for (const std::string& name : order) {
    const Family& family = families.at(name);
    if (family.type == ipc::MetricSample::TYPE_GAUGE && ends_with(name, "_total") &&
        families.contains(name.substr(0, name.size() - 6))) {
      text.dropped += family.lines.size();
      continue;
    }
    render_family(name, family, format, text.body);
  }
  if (format == MetricsFormat::kOpenMetrics) text.body += "# EOF\n";
  return text;
}

MetricsFormat choose_metrics_format(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos ? MetricsFormat::kOpenMetrics
                                                                               : MetricsFormat::kPrometheusText;
}

const char* metrics_content_type(MetricsFormat format) {
  return format == MetricsFormat::kOpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                               : "text/plain; version=0.0.4; charset=utf-8";
}

}  // namespace xmppd::http
