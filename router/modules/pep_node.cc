#include "router/modules/pep_node.h"

#include <charconv>
#include <vector>

namespace xmppd::router::pep {
namespace {

constexpr std::string_view kConfigType = "http://jabber.org/protocol/pubsub#node_config";
constexpr std::string_view kOptionsType = "http://jabber.org/protocol/pubsub#publish-options";

bool known_access(std::string_view model) {
  return model == "presence" || model == "open" || model == "roster" || model == "whitelist";
}

std::optional<std::size_t> number(std::string_view text) {
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::optional<bool> boolean(std::string_view text) {
  if (text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  return std::nullopt;
}

xml::Element field(std::string_view var, std::string_view type, std::string_view value) {
  xml::Element f(kDataNs, "field");
  f.set_attribute("var", std::string(var));
  if (!type.empty()) f.set_attribute("type", std::string(type));
  xml::Element v(kDataNs, "value");
  v.add_text(value);
  f.add_child(std::move(v));
  return f;
}

// The fields of a form, var and first value; false for a form that is not one.
bool fields(const xml::Element& form, std::vector<std::pair<std::string, std::string>>& out) {
  if (!form.is(kDataNs, "x")) return false;
  for (const xml::Element* f : form.children()) {
    if (f->name() != "field") continue;
    const xml::Element* v = f->child(kDataNs, "value");
    out.emplace_back(f->attribute_or("var"), v != nullptr ? v->text() : std::string());
  }
  return true;
}

// One field's value applied; false, with `error`, for a value that cannot be.
bool apply(std::string_view var, std::string_view value, std::size_t max, NodeConfig& config, std::string& error) {
  if (var == "pubsub#access_model") {
    if (!known_access(value)) {
      error = "Unsupported access model";
      return false;
    }
    config.access_model = std::string(value);
  } else if (var == "pubsub#max_items") {
    auto n = value == "max" ? std::optional<std::size_t>(max) : number(value);
    if (!n || *n == 0 || *n > max) {
      error = "pubsub#max_items must be between 1 and " + std::to_string(max) + " (or \"max\")";
      return false;
    }
    config.max_items = *n;
  } else if (var == "pubsub#persist_items") {
    auto b = boolean(value);
    if (!b) {
      error = "pubsub#persist_items must be a boolean";
      return false;
    }
    config.persist_items = *b;
  }
  return true;
}

}  // namespace

std::string NodeConfig::serialize() const {
  return access_model + " " + std::to_string(max_items) + " " + (persist_items ? "1" : "0");
}

std::optional<NodeConfig> NodeConfig::parse(std::string_view stored) {
  std::size_t a = stored.find(' ');
  std::size_t b = a == std::string_view::npos ? a : stored.find(' ', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  NodeConfig c;
  c.access_model = std::string(stored.substr(0, a));
  auto n = number(stored.substr(a + 1, b - a - 1));
  auto p = boolean(stored.substr(b + 1));
  if (!known_access(c.access_model) || !n || !p) return std::nullopt;
  c.max_items = *n;
  c.persist_items = *p;
  return c;
}

xml::Element NodeConfig::form(std::size_t max) const {
  xml::Element x(kDataNs, "x");
  x.set_attribute("type", "form");
  x.add_child(field("FORM_TYPE", "hidden", kConfigType));
  xml::Element access = field("pubsub#access_model", "list-single", access_model);
  for (std::string_view option : {"presence", "open", "roster", "whitelist"}) {
    xml::Element o(kDataNs, "option");
    xml::Element v(kDataNs, "value");
    v.add_text(option);
    o.add_child(std::move(v));
    access.add_child(std::move(o));
  }
  x.add_child(std::move(access));
  x.add_child(field("pubsub#max_items", "text-single", max_items == max ? "max" : std::to_string(max_items)));
  x.add_child(field("pubsub#persist_items", "boolean", persist_items ? "1" : "0"));
  return x;
}

bool apply_form(const xml::Element& form, std::size_t max, NodeConfig& config, std::string& error) {
  std::vector<std::pair<std::string, std::string>> values;
  if (!fields(form, values)) {
    error = "Not a data form";
    return false;
  }
  NodeConfig next = config;
  for (const auto& [var, value] : values)
    if (var != "FORM_TYPE" && !apply(var, value, max, next, error)) return false;
  config = next;
  return true;
}

bool satisfies(const xml::Element& form, std::size_t max, const NodeConfig& config, std::string& error) {
  NodeConfig wanted = config;
  if (!apply_form(form, max, wanted, error)) return false;
  (void)kOptionsType;
  return wanted == config;
}

}  // namespace xmppd::router::pep
