// libFuzzer target: the Perfetto protobuf reader, plain and zstd-compressed (the reader
// sniffs the zstd magic number, so both paths are reached from one target).
#include "tests/fuzz/trace_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scopetrace::fuzz::InputPath("pftrace");
  if (size > 0 && (data[0] == '{' || data[0] == '[')) return 0;  // the JSON reader's input
  scopetrace::fuzz::ReadFromBytes(path, data, size);
  return 0;
}
