// libFuzzer target: the Chrome trace JSON reader.
#include <string>

#include "tests/fuzz/trace_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scopetrace::fuzz::InputPath("trace.json");
  // Force the JSON reader: ReadTrace sniffs the first non-blank byte. Inputs that already
  // start like JSON (the seed traces and their mutations) are read as they are.
  size_t first = 0;
  while (first < size && (data[first] == ' ' || data[first] == '\t' || data[first] == '\n' ||
                          data[first] == '\r')) {
    ++first;
  }
  const bool json_like = first < size && (data[first] == '{' || data[first] == '[');
  std::string input = json_like ? "" : "{";
  input.append(reinterpret_cast<const char*>(data), size);
  scopetrace::fuzz::ReadFromBytes(path, reinterpret_cast<const uint8_t*>(input.data()),
                                  input.size());
  return 0;
}
