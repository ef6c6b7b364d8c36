// What the settings unit tests (http_settings_unittest.cc, router_settings_unittest.cc) share:
// a configuration loaded from text as the parent reads a file, and a repeated protobuf field
// as a vector to compare. Test code only; it trusts the text it is given.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "config/settings.h"

namespace xmppd::parent::settings_test {

using Strings = std::vector<std::string>;

// A configuration that must load; a diagnostic fails the test and an empty one is returned.
inline config::Settings load(const std::string& text) {
  std::vector<config::Diagnostic> diags;
  std::optional<config::Settings> s = config::load_string(text, "/etc/xmppd/xmppd.conf", diags);
  EXPECT_TRUE(s) << (diags.empty() ? "" : diags[0].str());
  return s.value_or(config::Settings{});
}

template <typename Field>
Strings strings(const Field& field) {
  return {field.begin(), field.end()};
}

}  // namespace xmppd::parent::settings_test
