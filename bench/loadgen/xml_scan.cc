#include "bench/loadgen/xml_scan.h"

#include <charconv>

namespace loadgen {

namespace {

constexpr int kMaxDepth = 32;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool ends_name(char c) { return is_space(c) || c == '/' || c == '>' || c == '='; }

std::string_view local_name(std::string_view qname) {
  std::size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string_view XmlTree::attr(const XmlNode& node, std::string_view name) const {
  for (std::uint32_t i = 0; i < node.attr_count; ++i) {
    const XmlAttr& a = attrs_[node.first_attr + i];
    if (a.name == name) return a.value;
  }
  return {};
}

const XmlNode* XmlTree::child(const XmlNode& node, std::string_view name) const {
  for (const XmlNode* c = first_child(node); c != nullptr; c = next_sibling(*c))
    if (c->name == name) return c;
  return nullptr;
}

XmlScanner::Step XmlScanner::skip_past(std::string_view marker) {
  std::size_t at = data_.find(marker, pos_);
  if (at == std::string_view::npos) return Step::kIncomplete;
  pos_ = at + marker.size();
  return Step::kOk;
}

// At '<' of an opening tag: reads the name and attributes up to '>' or '/>'.
XmlScanner::Step XmlScanner::open_tag(XmlTree& tree, std::int32_t node, bool& empty) {
  const std::size_t n = data_.size();
  std::size_t start = ++pos_;
  while (pos_ < n && !ends_name(data_[pos_])) ++pos_;
  if (pos_ >= n) return Step::kIncomplete;
  if (pos_ == start) return Step::kError;
  XmlNode& self = tree.nodes_[static_cast<std::size_t>(node)];
  self.name = local_name(data_.substr(start, pos_ - start));
  self.first_attr = static_cast<std::uint32_t>(tree.attrs_.size());
  std::uint32_t count = 0;
  for (;;) {
    while (pos_ < n && is_space(data_[pos_])) ++pos_;
    if (pos_ >= n) return Step::kIncomplete;
    char c = data_[pos_];
    if (c == '>') {
      ++pos_;
      empty = false;
      break;
    }
    if (c == '/') {
      if (pos_ + 1 >= n) return Step::kIncomplete;
      if (data_[pos_ + 1] != '>') return Step::kError;
      pos_ += 2;
      empty = true;
      break;
    }
    std::size_t name_start = pos_;
    while (pos_ < n && !ends_name(data_[pos_])) ++pos_;
    std::size_t name_end = pos_;
    while (pos_ < n && is_space(data_[pos_])) ++pos_;
    if (pos_ >= n) return Step::kIncomplete;
    if (data_[pos_] != '=' || name_end == name_start) return Step::kError;
    ++pos_;
    while (pos_ < n && is_space(data_[pos_])) ++pos_;
    if (pos_ >= n) return Step::kIncomplete;
    char quote = data_[pos_];
    if (quote != '\'' && quote != '"') return Step::kError;
    std::size_t value_start = ++pos_;
    std::size_t value_end = data_.find(quote, pos_);
    if (value_end == std::string_view::npos) return Step::kIncomplete;
    pos_ = value_end + 1;
    tree.attrs_.push_back({local_name(data_.substr(name_start, name_end - name_start)),
                           data_.substr(value_start, value_end - value_start)});
    ++count;
  }
  tree.nodes_[static_cast<std::size_t>(node)].attr_count = count;
  return Step::kOk;
}

// At '<' of an element: reads it whole, children included.
XmlScanner::Step XmlScanner::element(XmlTree& tree, std::int32_t node, int depth) {
  if (depth > kMaxDepth) return Step::kError;
  bool empty = false;
  if (Step s = open_tag(tree, node, empty); s != Step::kOk) return s;
  if (empty) return Step::kOk;
  const std::size_t n = data_.size();
  std::int32_t last_child = -1;
  bool have_text = false;
  auto add_text = [&](std::string_view text) {
    if (!have_text && !text.empty()) {
      tree.nodes_[static_cast<std::size_t>(node)].text = text;
      have_text = true;
    }
  };
  for (;;) {
    std::size_t lt = data_.find('<', pos_);
    if (lt == std::string_view::npos) return Step::kIncomplete;
    add_text(data_.substr(pos_, lt - pos_));
    pos_ = lt;
    if (pos_ + 1 >= n) return Step::kIncomplete;
    char next = data_[pos_ + 1];
    if (next == '/') {
      std::size_t gt = data_.find('>', pos_);
      if (gt == std::string_view::npos) return Step::kIncomplete;
      pos_ = gt + 1;
      return Step::kOk;  // the close tag's name is trusted to match
    }
    if (next == '!') {
      if (n - pos_ < 9) return Step::kIncomplete;
      if (data_.substr(pos_, 9) == "<![CDATA[") {
        std::size_t end = data_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return Step::kIncomplete;
        add_text(data_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (Step s = skip_past("-->"); s != Step::kOk) {
        return s;
      }
      continue;
    }
    if (next == '?') {
      if (Step s = skip_past("?>"); s != Step::kOk) return s;
      continue;
    }
    auto child = static_cast<std::int32_t>(tree.nodes_.size());
    tree.nodes_.emplace_back();
    if (last_child < 0)
      tree.nodes_[static_cast<std::size_t>(node)].first_child = child;
    else
      tree.nodes_[static_cast<std::size_t>(last_child)].next_sibling = child;
    last_child = child;
    if (Step s = element(tree, child, depth + 1); s != Step::kOk) return s;
  }
}

ScanResult XmlScanner::scan(std::string_view data, bool expect_header, std::size_t& consumed, XmlTree& tree) {
  data_ = data;
  pos_ = 0;
  consumed = 0;
  const std::size_t n = data.size();
  for (;;) {
    // Between top-level items only whitespace (keep-alives) is expected; other text is skipped.
    std::size_t lt = data_.find('<', pos_);
    if (lt == std::string_view::npos) {
      consumed = n;
      return ScanResult::kIncomplete;
    }
    pos_ = consumed = lt;
    if (pos_ + 1 >= n) return ScanResult::kIncomplete;
    char next = data_[pos_ + 1];
    if (next == '?' || next == '!') {
      if (skip_past(next == '?' ? "?>" : ">") != Step::kOk) return ScanResult::kIncomplete;
      consumed = pos_;
      continue;
    }
    if (next == '/') {
      std::size_t gt = data_.find('>', pos_);
      if (gt == std::string_view::npos) return ScanResult::kIncomplete;
      consumed = gt + 1;
      return ScanResult::kStreamEnd;
    }
    break;
  }
  tree.nodes_.clear();
  tree.attrs_.clear();
  tree.nodes_.emplace_back();
  Step step;
  if (expect_header) {
    bool empty = false;
    step = open_tag(tree, 0, empty);
  } else {
    step = element(tree, 0, 0);
  }
  if (step == Step::kIncomplete) return ScanResult::kIncomplete;
  if (step == Step::kError) return ScanResult::kError;
  consumed = pos_;
  return expect_header ? ScanResult::kStreamHeader : ScanResult::kElement;
}

std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] != '&') {
      out += raw[i++];
      continue;
    }
    std::size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos) {
      out.append(raw.substr(i));
      break;
    }
    std::string_view entity = raw.substr(i + 1, semi - i - 1);
    if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "amp") out += '&';
    else if (entity == "apos") out += '\'';
    else if (entity == "quot") out += '"';
    else if (entity.size() > 1 && entity[0] == '#') {
      std::uint32_t cp = 0;
      bool hex = entity[1] == 'x';
      std::string_view digits = entity.substr(hex ? 2 : 1);
      std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      append_utf8(out, cp);
    } else {
      out.append(raw.substr(i, semi - i + 1));
    }
    i = semi + 1;
  }
  return out;
}

}  // namespace loadgen
