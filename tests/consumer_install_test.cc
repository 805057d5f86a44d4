// Installs scopetrace into a temporary prefix, configures and builds the out-of-tree
// project examples/consumer against it (find_package(scopetrace CONFIG REQUIRED)), runs
// it and checks its output: the installed package is complete and usable.
//
// Needs cmake and a C++ compiler at test time (present wherever the project builds).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

using ::testing::HasSubstr;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A sanitized build's library needs the same sanitizer runtime in the consumer
// (scripts/test.sh's asan stage builds with address,undefined).
#if defined(__SANITIZE_ADDRESS__)
constexpr std::string_view kSanitizerFlags = "-fsanitize=address,undefined";
#elif defined(__SANITIZE_THREAD__)
constexpr std::string_view kSanitizerFlags = "-fsanitize=thread";
#else
constexpr std::string_view kSanitizerFlags = "";
#endif

std::string Quote(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

TEST(ConsumerInstallTest, InstalledPackageBuildsAndRunsTheConsumerProject) {
  const std::filesystem::path root = std::filesystem::path(testing::TempDir()) /
                                     ("scopetrace_consumer_" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  const std::filesystem::path prefix = root / "prefix";
  const std::filesystem::path build = root / "build";

  const CommandResult install =
      RunCommand("cmake --install " + Quote(SCOPETRACE_BINARY_DIR) + " --prefix " + Quote(prefix));
  ASSERT_EQ(install.exit_code, 0) << install.output;
  ASSERT_TRUE(std::filesystem::exists(prefix / "include/scopetrace/scopetrace.h"));

  // The consumer is built as its own project, as a user would build theirs.
  const CommandResult configure = RunCommand(
      "cmake -S " + Quote(std::filesystem::path(SCOPETRACE_SOURCE_DIR) / "examples/consumer") +
      " -B " + Quote(build) + " -DCMAKE_PREFIX_PATH=" + Quote(prefix) +
      " -DCMAKE_BUILD_TYPE=Release" +
      (kSanitizerFlags.empty()
           ? std::string()
           : " '-DCMAKE_CXX_FLAGS=" + std::string(kSanitizerFlags) +
                 "' '-DCMAKE_EXE_LINKER_FLAGS=" + std::string(kSanitizerFlags) + "'"));
  ASSERT_EQ(configure.exit_code, 0) << configure.output;
  const CommandResult compile = RunCommand("cmake --build " + Quote(build));
  ASSERT_EQ(compile.exit_code, 0) << compile.output;

  const CommandResult run = RunCommand(Quote(build / "consumer"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("consumer: "));
  EXPECT_THAT(run.output, HasSubstr("device ops recorded"));
  std::filesystem::remove_all(root);
}

}  // namespace
