// A reader of the data files Prosody's `internal` storage writes (util/datamanager.lua and
// util/serialization.lua): a `.dat` file is Lua source "return VALUE;" and a `.list` file is
// a sequence of "item(VALUE);" calls. Only the declarative subset Prosody writes is accepted:
// tables (positional, [KEY] = and NAME = fields, separated by ; or ,), strings with Lua's
// escapes, numbers (decimal, with Prosody's (1/0), (-1/0) and (0/0)), booleans and nil. No
// code is run: this is a parser, not a Lua interpreter.
//
// It trusts nothing: the files were written by a network-facing Prosody from what clients and
// other servers sent. Nesting, the size of the file, of each string and the number of values
// are bounded, and every error says "FILE:LINE: message".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd::prosody {

struct Entry;

// One Lua value. A table keeps its positional values (array) apart from its keyed fields, in
// the order the file gives them; a key that repeats is an error (Lua would keep the last).
struct Value {
  enum class Kind { kNil, kBoolean, kNumber, kString, kTable };
  Kind kind = Kind::kNil;
  std::size_t line = 0;  // where it starts in its file, for messages
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;   // t[1], t[2], ...
  std::vector<Entry> fields;  // every other key

  bool is_table() const { return kind == Kind::kTable; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_boolean() const { return kind == Kind::kBoolean; }
  // The field with string key `key`, or null.
  const Value* get(std::string_view key) const;
  // The field whose key is the boolean `key` (Prosody's roster keeps its metadata at [false]).
  const Value* boolean_key(bool key) const;
  // The string at `key`, or nullopt when absent or not a string.
  std::optional<std::string> text(std::string_view key) const;
};

struct Entry {
  Value key;
  Value value;
};

struct Limits {
  std::size_t max_file_bytes = 64 << 20;
  std::size_t max_string_bytes = 16 << 20;
  std::size_t max_depth = 64;
  std::size_t max_values = 4 << 20;  // every value and key in the file
};

// "return VALUE" (a `.dat` file). `name` is the file name the errors carry.
std::optional<Value> parse_dat(std::string_view name, std::string_view text, std::string& error,
                               const Limits& limits = {});
// "item(VALUE);" repeated (a `.list` file): the values in order.
std::optional<std::vector<Value>> parse_list(std::string_view name, std::string_view text, std::string& error,
                                             const Limits& limits = {});

// Prosody's file-name encoding of hosts and usernames (datamanager's encode/decode): every
// byte that is not a letter or digit is "%xx", lower-case hex. decode() refuses malformed
// escapes.
std::string encode_path_part(std::string_view part);
std::optional<std::string> decode_path_part(std::string_view part);
// The encoding of store names ("pep_" .. node): as above, but '_' stays.
std::string encode_store_name(std::string_view store);

}  // namespace xmppd::prosody
