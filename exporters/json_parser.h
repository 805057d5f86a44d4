// Internal: a small JSON parser for the Chrome JSON reader.
//
// The reader streams the top level itself (`Peek`, `Expect`, `ParseString`) and parses one
// trace event at a time into a `Value`, so memory follows the model, not the file. Numbers
// stay text (see json_number.h); strings point into the input, or into the parser's arena
// when they held escapes. Nesting deeper than kMaxDepth is an error, not a stack overflow.
//
// Errors carry the byte offset. `error_at_end()` tells a cut file (the input ended inside a
// value) from damaged bytes.

#ifndef SCOPETRACE_EXPORTERS_JSON_PARSER_H_
#define SCOPETRACE_EXPORTERS_JSON_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace scopetrace::exporters::json {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct Member;

struct Value {
  Type type = Type::kNull;
  bool boolean = false;
  std::string_view text;        // kNumber: the number as written; kString: decoded contents
  std::vector<Value> items;     // kArray
  std::vector<Member> members;  // kObject, in file order

  // The first member named `key`, or nullptr (also when this is not an object).
  const Value* Find(std::string_view key) const;
  bool is_string() const { return type == Type::kString; }
  bool is_number() const { return type == Type::kNumber; }
};

struct Member {
  std::string_view key;
  Value value;
};

// Appends `value` as compact JSON text (objects and arrays found in foreign args).
void AppendValueAsJson(const Value& value, std::string* out);

class Parser {
 public:
  static constexpr int kMaxDepth = 128;

  explicit Parser(std::string_view input) : input_(input) {}
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // The next byte after whitespace, or '\0' at the end of the input.
  char Peek();
  size_t offset() const { return pos_; }
  bool AtEnd() { return Peek() == '\0' && pos_ >= input_.size(); }
  // Consumes `c` after whitespace.
  absl::Status Expect(char c);
  // A string literal (after whitespace).
  absl::Status ParseString(std::string_view* out);
  // Any value; `out` is overwritten (its vectors keep their capacity).
  absl::Status ParseValue(Value* out) { return ParseValueAt(out, 0); }

  // True when the last error was the input ending inside a value.
  bool error_at_end() const { return error_at_end_; }
  // Frees strings decoded so far: Values parsed before must not be used afterwards.
  void ResetArena() { arena_.clear(); }

 private:
  absl::Status ParseValueAt(Value* out, int depth);
  absl::Status ParseNumber(Value* out);
  absl::Status ParseLiteral(std::string_view literal);
  absl::Status ParseEscapedString(size_t start, std::string_view* out);
  absl::Status Error(std::string_view what);
  absl::Status EndError();
  void SkipSpace();

  std::string_view input_;
  size_t pos_ = 0;
  bool error_at_end_ = false;
  std::deque<std::string> arena_;  // a deque: growing it never moves earlier strings
};

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_PARSER_H_
