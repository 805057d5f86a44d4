// libFuzzer target: the Chrome trace JSON reader.
#include <string>

#include "tests/fuzz/trace_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scopetrace::fuzz::InputPath("trace.json");
  // Force the JSON reader: ReadTrace sniffs the first non-blank byte.
  std::string input = "{";
  input.append(reinterpret_cast<const char*>(data), size);
  scopetrace::fuzz::ReadFromBytes(path, reinterpret_cast<const uint8_t*>(input.data()),
                                  input.size());
  return 0;
}
