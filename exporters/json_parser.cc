#include "exporters/json_parser.h"

#include "absl/strings/ascii.h"
#include "exporters/json_event_keys.h"
#include "exporters/json_number.h"
#include "exporters/json_string.h"
#include "fmt/format.h"

namespace scopetrace::exporters::json {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const Value* Value::Find(std::string_view key) const {
  for (const Member& member : members) {
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

void AppendValueAsJson(const Value& value, std::string* out) {
  switch (value.type) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(value.boolean ? "true" : "false");
      break;
    case Type::kNumber:
      out->append(value.text);
      break;
    case Type::kString:
      AppendJsonString(value.text, out);
      break;
    case Type::kArray:
      out->push_back('[');
      for (size_t i = 0; i < value.items.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendValueAsJson(value.items[i], out);
      }
      out->push_back(']');
      break;
    case Type::kObject:
      out->push_back('{');
      for (size_t i = 0; i < value.members.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJsonString(value.members[i].key, out);
        out->push_back(':');
        AppendValueAsJson(value.members[i].value, out);
      }
      out->push_back('}');
      break;
  }
}

void Parser::SkipSpaceSlow() {
  while (pos_ < input_.size()) {
    const char c = input_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    ++pos_;
  }
}

bool Parser::Error(std::string_view what) {
  error_at_end_ = false;
  error_ = absl::InvalidArgumentError(fmt::format("{} at byte {}", what, pos_));
  return false;
}

bool Parser::EndError() {
  error_at_end_ = true;
  error_ = absl::InvalidArgumentError(fmt::format("file ends inside a value at byte {}", pos_));
  return false;
}

bool Parser::Consume(char c) {
  SkipSpace();
  if (pos_ >= input_.size()) return EndError();
  if (input_[pos_] != c) return Error(fmt::format("expected '{}'", c));
  ++pos_;
  return true;
}

// Our writer's spelling of an event member, which nearly every member of a large file has:
// a common key, no whitespace, and a plain string or a plain number ("-?digits[.digits]").
// Such a member is read here with a local cursor and no call; pos_ moves only when the whole
// member and the ',' or '}' after it were read. Anything else (whitespace, escapes,
// exponents, objects, a repeated key, the end of the input) returns kNotHandled having
// consumed nothing, and the general grammar reads the member, errors included, as before.
Parser::FastMember Parser::CommonMember(Event* out) {
  if constexpr (!kCommonEventKeys) return FastMember::kNotHandled;
  const char* const begin = input_.data();
  const char* const end = begin + input_.size();
  const char* p = begin + pos_;
  // The quote, an 8-byte key word, ':' and one byte of the value are readable below.
  if (end - p < 16 || *p != '"') return FastMember::kNotHandled;
  size_t length = 0;
  const int k = CommonEventKey(p + 1, &length);
  if (k < 0 || (out->present >> k & 1) != 0) return FastMember::kNotHandled;
  p += 1 + length;
  if (*p != ':') return FastMember::kNotHandled;
  ++p;
  Value& value = out->slots[static_cast<size_t>(k)];
  if (*p == '"') {
    const char* const text = ++p;
    p += PlainStringRun(p, end);
    if (p == end || *p != '"') return FastMember::kNotHandled;
    value.type = Type::kString;
    value.text = std::string_view(text, static_cast<size_t>(p - text));
    ++p;
  } else {
    const char* const text = p;
    if (*p == '-') ++p;
    const size_t whole = DigitRun(p, end);
    if (whole == 0) return FastMember::kNotHandled;
    p += whole;
    if (p != end && *p == '.') {
      const size_t fraction = DigitRun(p + 1, end);
      if (fraction == 0) return FastMember::kNotHandled;
      p += 1 + fraction;
    }
    if (p == end || *p == 'e' || *p == 'E') return FastMember::kNotHandled;
    value.type = Type::kNumber;
    value.text = std::string_view(text, static_cast<size_t>(p - text));
  }
  if (p == end) return FastMember::kNotHandled;
  const char next = *p;
  if (next != ',' && next != '}') return FastMember::kNotHandled;
  value.boolean = false;
  out->present |= uint32_t{1} << k;
  pos_ = static_cast<size_t>(p + 1 - begin);
  return next == ',' ? FastMember::kMore : FastMember::kLast;
}

bool Parser::EventAt(Event* out) {
  out->present = 0;
  SkipSpace();
  if (pos_ >= input_.size()) return EndError();
  if (input_[pos_] != '{') {
    out->is_object = false;
    return ValueAt(&skipped_, 0);
  }
  out->is_object = true;
  ++pos_;
  if (Peek() == '}') {
    ++pos_;
    return true;
  }
  // The same grammar as an object in ValueAt, with members landing in slots.
  while (true) {
    if (const FastMember fast = CommonMember(out); fast != FastMember::kNotHandled) {
      if (fast == FastMember::kLast) return true;
      continue;
    }
    SkipSpace();
    if (pos_ >= input_.size()) return EndError();
    if (input_[pos_] != '"') return Error("expected a quoted object key");
    ++pos_;
    int k;
    size_t length = 0;
    if (kCommonEventKeys && input_.size() - pos_ >= sizeof(uint64_t) &&
        (k = CommonEventKey(input_.data() + pos_, &length)) >= 0) {
      pos_ += length;
    } else {
      std::string_view key;
      if (!StringBody(&key)) return false;
      k = EventKeyIndex(key);
    }
    if (pos_ < input_.size() && input_[pos_] == ':') {
      ++pos_;  // our writer's spelling: no space before the colon
    } else if (!Consume(':')) {
      return false;
    }
    const bool keep = k >= 0 && (out->present >> k & 1) == 0;  // the first one counts
    Value* value = keep ? &out->slots[k] : &skipped_;
    SkipSpace();
    if (pos_ < input_.size() && input_[pos_] == '"') {
      // Most event members are strings: ValueAt's string case without the call.
      ++pos_;
      value->type = Type::kString;
      value->boolean = false;
      if (!StringBody(&value->text)) return false;
    } else if (pos_ < input_.size() && IsDigit(input_[pos_])) {
      value->boolean = false;  // as ValueAt's number case
      if (!Number(value)) return false;
    } else if (!ValueAt(value, 1)) {
      return false;
    }
    if (keep) out->present |= uint32_t{1} << k;
    const char next = Peek();
    if (next == '\0' && pos_ >= input_.size()) return EndError();
    ++pos_;
    if (next == '}') return true;
    if (next != ',') {
      --pos_;
      return Error("expected ',' or '}' in an object");
    }
  }
}

bool Parser::ValueAt(Value* out, int depth) {
  if (depth > kMaxDepth) return Error(fmt::format("nesting deeper than {} levels", kMaxDepth));
  SkipSpace();
  if (pos_ >= input_.size()) return EndError();
  out->boolean = false;
  out->text = {};
  switch (input_[pos_]) {
    case '{': {
      ++pos_;
      out->type = Type::kObject;
      out->members.clear();
      out->items.clear();
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      while (true) {
        SkipSpace();
        if (pos_ >= input_.size()) return EndError();
        if (input_[pos_] != '"') return Error("expected a quoted object key");
        Member& member = out->members.emplace_back();
        if (!String(&member.key) || !Consume(':') || !ValueAt(&member.value, depth + 1)) {
          return false;
        }
        const char next = Peek();
        if (next == '\0' && pos_ >= input_.size()) return EndError();
        ++pos_;
        if (next == '}') return true;
        if (next != ',') {
          --pos_;
          return Error("expected ',' or '}' in an object");
        }
      }
    }
    case '[': {
      ++pos_;
      out->type = Type::kArray;
      out->items.clear();
      out->members.clear();
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      while (true) {
        if (!ValueAt(&out->items.emplace_back(), depth + 1)) return false;
        const char next = Peek();
        if (next == '\0' && pos_ >= input_.size()) return EndError();
        ++pos_;
        if (next == ']') return true;
        if (next != ',') {
          --pos_;
          return Error("expected ',' or ']' in an array");
        }
      }
    }
    case '"':
      out->type = Type::kString;
      return String(&out->text);
    case 't':
      out->type = Type::kBool;
      out->boolean = true;
      return Literal("true");
    case 'f':
      out->type = Type::kBool;
      return Literal("false");
    case 'n':
      out->type = Type::kNull;
      return Literal("null");
    default:
      return Number(out);
  }
}

bool Parser::Literal(std::string_view literal) {
  const std::string_view rest = input_.substr(pos_);
  if (rest.substr(0, literal.size()) == literal) {
    pos_ += literal.size();
    return true;
  }
  if (rest.size() < literal.size() && literal.substr(0, rest.size()) == rest) return EndError();
  return Error(fmt::format("invalid literal (expected {})", literal));
}

bool Parser::Number(Value* out) {
  out->type = Type::kNumber;
  const char* const data = input_.data();
  const size_t size = input_.size();
  const size_t start = pos_;
  size_t i = pos_;  // a local: stores to pos_ would make the loops reload the input's size
  if (data[i] == '-') ++i;
  // Python's json module writes NaN, Infinity and -Infinity: accept them as numbers.
  if (i < size && (data[i] == 'N' || data[i] == 'I')) {
    pos_ = i;
    const std::string_view word = data[i] == 'N' ? "NaN" : "Infinity";
    if (!Literal(word)) return false;
    out->text = input_.substr(start, pos_ - start);
    return true;
  }
  auto digits = [&] {
    const size_t run = DigitRun(data + i, data + size);
    i += run;
    return run > 0;
  };
  auto fail = [&](std::string_view what) {
    pos_ = i;
    return i >= size ? EndError() : Error(what);
  };
  if (!digits()) return fail("unexpected character (expected a value)");
  if (i < size && data[i] == '.') {
    ++i;
    if (!digits()) return fail("bad number");
  }
  if (i < size && (data[i] == 'e' || data[i] == 'E')) {
    ++i;
    if (i < size && (data[i] == '+' || data[i] == '-')) ++i;
    if (!digits()) return fail("bad number");
  }
  pos_ = i;
  out->text = std::string_view(data + start, i - start);
  return true;
}

bool Parser::String(std::string_view* out) {
  SkipSpace();
  if (pos_ >= input_.size()) return EndError();
  if (input_[pos_] != '"') return Error("expected a string");
  ++pos_;
  return StringBody(out);
}

bool Parser::StringBody(std::string_view* out) {
  const size_t start = pos_;
  const char* data = input_.data();
  pos_ += PlainStringRun(data + pos_, data + input_.size());
  if (pos_ >= input_.size()) return EndError();
  const char c = data[pos_];
  if (c == '"') {
    *out = std::string_view(data + start, pos_ - start);
    ++pos_;
    return true;
  }
  if (c == '\\') return EscapedString(start, out);
  return Error("control character inside a string");
}

bool Parser::EscapedString(size_t start, std::string_view* out) {
  std::string& text = arena_.emplace_back(input_.substr(start, pos_ - start));
  while (pos_ < input_.size()) {
    const auto c = static_cast<unsigned char>(input_[pos_]);
    if (c == '"') {
      ++pos_;
      *out = text;
      return true;
    }
    if (c < 0x20) return Error("control character inside a string");
    if (c != '\\') {
      text.push_back(static_cast<char>(c));
      ++pos_;
      continue;
    }
    if (pos_ + 1 >= input_.size()) return EndError();
    const char e = input_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        text.push_back(e);
        break;
      case 'b':
        text.push_back('\b');
        break;
      case 'f':
        text.push_back('\f');
        break;
      case 'n':
        text.push_back('\n');
        break;
      case 'r':
        text.push_back('\r');
        break;
      case 't':
        text.push_back('\t');
        break;
      case 'u': {
        auto read_hex4 = [&](uint32_t* cp) -> bool {
          if (pos_ + 4 > input_.size()) return EndError();
          uint32_t v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = HexValue(input_[pos_ + k]);
            if (h < 0) return Error("bad \\u escape");
            v = v << 4 | static_cast<uint32_t>(h);
          }
          pos_ += 4;
          *cp = v;
          return true;
        };
        uint32_t cp = 0;
        if (!read_hex4(&cp)) return false;
        // A high surrogate followed by a low one is one code point; a lone one is U+FFFD.
        if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < input_.size() && input_[pos_] == '\\' &&
            input_[pos_ + 1] == 'u') {
          const size_t saved = pos_;
          pos_ += 2;
          uint32_t low = 0;
          if (!read_hex4(&low)) return false;
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else {
            pos_ = saved;  // not a pair: the second escape is decoded on its own
          }
        }
        AppendUtf8(cp, &text);
        break;
      }
      default:
        pos_ -= 2;
        return Error("invalid escape in a string");
    }
  }
  return EndError();
}

}  // namespace scopetrace::exporters::json
