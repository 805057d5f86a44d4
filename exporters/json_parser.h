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

#include <array>
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

// The members of a trace event the builder reads. `Parser::ParseEvent` puts each into its
// slot as it meets the key, so an event costs no member list and no lookups by name: the
// reader's hot path (a 10 M-event file holds some 20 M event objects).
enum class EventKey : uint8_t {
  kPh,
  kName,
  kCat,
  kPid,
  kTid,
  kTs,
  kDur,
  kArgs,
  kId,
  kBp,
  kBindId,
  kFlowIn,
  kFlowOut,
};
inline constexpr size_t kEventKeyCount = 13;

// One element of traceEvents.
struct Event {
  bool is_object = false;
  uint32_t present = 0;  // bit k: the member for EventKey k was found
  std::array<Value, kEventKeyCount> slots;

  // The first member named `key` (as Value::Find), or nullptr.
  const Value* Get(EventKey key) const {
    const auto k = static_cast<size_t>(key);
    return (present >> k & 1) != 0 ? &slots[k] : nullptr;
  }
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
  char Peek() {
    SkipSpace();
    return pos_ < input_.size() ? input_[pos_] : '\0';
  }
  size_t offset() const { return pos_; }
  bool AtEnd() { return Peek() == '\0' && pos_ >= input_.size(); }
  // Consumes `c` after whitespace.
  absl::Status Expect(char c) { return Done(Consume(c)); }
  // A string literal (after whitespace).
  absl::Status ParseString(std::string_view* out) { return Done(String(out)); }
  // Any value; `out` is overwritten (its vectors keep their capacity).
  absl::Status ParseValue(Value* out) { return Done(ValueAt(out, 0)); }
  // One trace event: members with an EventKey name fill their slots, the others are checked
  // and dropped. Not an object: `is_object` is false (the builder ignores it).
  absl::Status ParseEvent(Event* out) { return Done(EventAt(out)); }

  // True when the last error was the input ending inside a value.
  bool error_at_end() const { return error_at_end_; }
  // Frees strings decoded so far: Values parsed before must not be used afterwards.
  void ResetArena() { arena_.clear(); }

 private:
  // The grammar returns false on an error and leaves it in error_: a returned absl::Status
  // per token (tens of millions in a large file) cost a quarter of the reader's time.
  absl::Status Done(bool ok) { return ok ? absl::OkStatus() : std::move(error_); }
  bool EventAt(Event* out);
  // What CommonMember did with the member at pos_.
  enum class FastMember : uint8_t { kNotHandled, kMore, kLast };
  inline FastMember CommonMember(Event* out);
  bool ValueAt(Value* out, int depth);
  bool Consume(char c);
  bool String(std::string_view* out);
  // The rest of a string literal whose opening quote is just behind pos_.
  bool StringBody(std::string_view* out);
  bool Number(Value* out);
  bool Literal(std::string_view literal);
  bool EscapedString(size_t start, std::string_view* out);
  bool Error(std::string_view what);
  bool EndError();
  // Inline for the common case (no whitespace: our writer puts none inside events).
  void SkipSpace() {
    if (pos_ < input_.size() && static_cast<unsigned char>(input_[pos_]) > ' ') return;
    SkipSpaceSlow();
  }
  void SkipSpaceSlow();

  std::string_view input_;
  size_t pos_ = 0;
  Value skipped_;  // members ParseEvent drops; reused so it keeps its capacity
  bool error_at_end_ = false;
  absl::Status error_;
  std::deque<std::string> arena_;  // a deque: growing it never moves earlier strings
};

}  // namespace scopetrace::exporters::json

#endif  // SCOPETRACE_EXPORTERS_JSON_PARSER_H_
