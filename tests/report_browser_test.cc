// The HTML report rendered by a real browser: headless Chromium (Debian's `chromium`)
// driven over the DevTools protocol on a pipe (--remote-debugging-pipe: requests on fd 3,
// replies on fd 4, each message a JSON text ended by NUL), so no npm package and no port.
// Checks: no console error, no exception, no dialog (an injected alert would open one),
// no network request besides the report file itself, every chart drew the expected
// number of bars with non-zero size, no two labels of a chart overlap or leave the chart,
// and the screenshot is not blank. The screenshot is kept next to the test binary
// (report_browser_test.png) for a person to look at.
//
// Chromium is $SCOPETRACE_CHROMIUM, else /usr/bin/chromium (or chromium-browser,
// google-chrome). Without it the test fails (it does not skip) and says how to install it.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "scopetrace/report.h"
#include "scopetrace/trace.h"
#include "tests/analysis_trace_builder.h"

namespace scopetrace {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using testing::TraceBuilder;

// The whole test, browser start included, must fit in this.
constexpr std::chrono::seconds kDeadline{50};

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

const Value* Field(const Struct& object, std::string_view name) {
  const auto it = object.fields().find(std::string(name));
  return it == object.fields().end() ? nullptr : &it->second;
}

std::string StringField(const Struct& object, std::string_view name) {
  const Value* v = Field(object, name);
  return v != nullptr && v->has_string_value() ? v->string_value() : "";
}

const Struct* StructField(const Struct& object, std::string_view name) {
  const Value* v = Field(object, name);
  return v != nullptr && v->has_struct_value() ? &v->struct_value() : nullptr;
}

// $SCOPETRACE_CHROMIUM when set (and only it: a wrong setting must not be papered over),
// else the usual places.
std::optional<std::string> FindChromium() {
  std::vector<std::string> candidates = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
                                         "/usr/lib/chromium/chromium", "/usr/bin/google-chrome"};
  if (const char* env = std::getenv("SCOPETRACE_CHROMIUM"); env != nullptr && *env != '\0') {
    candidates = {env};
  }
  for (const std::string& path : candidates) {
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return std::nullopt;
}

// One headless Chromium and a DevTools session on one page.
class Browser {
 public:
  ~Browser() { Close(); }

  // Starts the browser; false (with `error`) when it cannot.
  bool Start(const std::string& chromium, const std::string& profile_dir, const std::string& log,
             std::string& error) {
    int to_browser[2], from_browser[2];
    if (pipe(to_browser) != 0 || pipe(from_browser) != 0) {
      error = "pipe() failed";
      return false;
    }
    pid_ = fork();
    if (pid_ < 0) {
      error = "fork() failed";
      return false;
    }
    if (pid_ == 0) {
      // The browser reads requests on fd 3 and writes replies on fd 4.
      // Move both ends clear of 3 and 4 first: either may already sit there.
      const int in = fcntl(to_browser[0], F_DUPFD, 100);
      const int out = fcntl(from_browser[1], F_DUPFD, 100);
      dup2(in, 3);
      dup2(out, 4);
      const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log_fd >= 0) {
        dup2(log_fd, 1);
        dup2(log_fd, 2);
      }
      for (int fd = 5; fd < 1024; ++fd) close(fd);
      const std::string user_data = "--user-data-dir=" + profile_dir;
      execl(chromium.c_str(), chromium.c_str(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-dev-shm-usage", "--disable-extensions",
            "--remote-debugging-pipe", "--window-size=1280,2000", user_data.c_str(), "about:blank",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_browser[0]);
    close(from_browser[1]);
    write_fd_ = to_browser[1];
    read_fd_ = from_browser[0];
    signal(SIGPIPE, SIG_IGN);  // a browser that died must fail the test, not kill it
    return true;
  }

  // Sends a command and waits for its reply; events that arrive meanwhile are kept.
  // Returns the reply's "result", or nullopt with `error` set.
  std::optional<Struct> Call(std::string_view method, std::string_view params_json,
                             std::string& error, bool on_page = true) {
    const int id = ++last_id_;
    std::string message =
        fmt::format("{{\"id\":{},\"method\":{},\"params\":{}", id, JsonQuote(method), params_json);
    if (on_page && !session_.empty()) message += ",\"sessionId\":" + JsonQuote(session_);
    message += '}';
    message.push_back('\0');
    for (size_t written = 0; written < message.size();) {
      const ssize_t n = write(write_fd_, message.data() + written, message.size() - written);
      if (n <= 0) {
        error = fmt::format("{}: the browser closed its pipe", method);
        return std::nullopt;
      }
      written += static_cast<size_t>(n);
    }
    for (;;) {
      std::optional<Struct> reply = Read(error);
      if (!reply) {
        error = fmt::format("{}: {}", method, error);
        return std::nullopt;
      }
      const Value* reply_id = Field(*reply, "id");
      if (reply_id == nullptr) {
        events_.push_back(std::move(*reply));
        continue;
      }
      if (static_cast<int>(reply_id->number_value()) != id) continue;
      if (const Struct* e = StructField(*reply, "error")) {
        error = fmt::format("{} failed: {}", method, StringField(*e, "message"));
        return std::nullopt;
      }
      const Struct* result = StructField(*reply, "result");
      return result != nullptr ? *result : Struct();
    }
  }

  // Waits for the event `method` among the events from index `from` on, reading and
  // keeping other messages meanwhile.
  bool WaitForEvent(std::string_view method, size_t from, std::string& error) {
    for (size_t seen = from;;) {
      for (; seen < events_.size(); ++seen) {
        if (StringField(events_[seen], "method") == method) return true;
      }
      std::optional<Struct> message = Read(error);
      if (!message) return false;
      if (Field(*message, "id") == nullptr) events_.push_back(std::move(*message));
    }
  }

  void AttachToNewPage(std::string& error) {
    std::optional<Struct> target =
        Call("Target.createTarget", R"({"url":"about:blank"})", error, /*on_page=*/false);
    if (!target) return;
    std::optional<Struct> attached = Call("Target.attachToTarget",
                                          fmt::format(R"({{"targetId":{},"flatten":true}})",
                                                      JsonQuote(StringField(*target, "targetId"))),
                                          error, /*on_page=*/false);
    if (attached) session_ = StringField(*attached, "sessionId");
  }

  const std::vector<Struct>& events() const { return events_; }

  void Close() {
    if (pid_ <= 0) return;
    std::string ignored;
    session_.clear();
    if (write_fd_ >= 0) {
      const std::string close = std::string(R"({"id":999999,"method":"Browser.close"})") + '\0';
      (void)!write(write_fd_, close.data(), close.size());
      ::close(write_fd_);
      write_fd_ = -1;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    pid_ = -1;
  }

  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + kDeadline;

 private:
  // One NUL-terminated message, parsed.
  std::optional<Struct> Read(std::string& error) {
    for (;;) {
      const size_t end = buffer_.find('\0');
      if (end != std::string::npos) {
        const std::string text = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        Struct message;
        if (!google::protobuf::util::JsonStringToMessage(text, &message).ok()) {
          error = "unreadable DevTools message: " + text.substr(0, 200);
          return std::nullopt;
        }
        return message;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        error = fmt::format("no answer from the browser within {} s", kDeadline.count());
        return std::nullopt;
      }
      pollfd fd{.fd = read_fd_, .events = POLLIN, .revents = 0};
      if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const ssize_t n = read(read_fd_, chunk, sizeof chunk);
      if (n <= 0) {
        error = "the browser exited (see its log next to the test binary)";
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int write_fd_ = -1;
  int read_fd_ = -1;
  int last_id_ = 0;
  std::string session_;
  std::string buffer_;
  std::vector<Struct> events_;
};

// Two devices (the first with two streams), 24 steps, a memory counter per device, a host
// counter and a host scope whose name is a script: every chart kind, and an injection.
Trace BrowserTrace() {
  TraceBuilder b;
  const TrackId s00 = b.Stream(0, 0), s01 = b.Stream(0, 1), s10 = b.Stream(1, 0);
  const TrackId loader = b.Thread(2, "loader");
  for (int step = 0; step < 24; ++step) {
    const double t = 2000.0 * step;
    b.Step(step, t, 1800 + 10 * (step % 5));
    b.Host(b.main(), "<script>alert(1)</script>", t + 5, 100);
    b.Host(loader, "decode_jpeg_with_a_rather_long_name_for_the_label_column", t, 900);
    b.Launch(b.main(), "copy_to_device", t + 110, 5, s01, DeviceOpKind::kMemcpyH2D, "memcpy_h2d",
             t + 120, 150);
    b.Kernel(b.main(), t + 130, 8, s00, "conv2d", t + 280, 600 + 20 * (step % 3));
    b.Kernel(b.main(), t + 140, 8, s00, "relu", t + 900, 80);
    b.Kernel(b.main(), t + 150, 8, s10, "attention", t + 300, 900);
    b.Launch(b.main(), "copy_to_host", t + 160, 1200, s01, DeviceOpKind::kMemcpyD2H, "memcpy_d2h",
             t + 1000, 60);
  }
  Trace& trace = b.trace();
  for (int device = 0; device < 2; ++device) {
    const TrackId memory = trace.find_or_add_track(TrackKind::kCounter, kDevicePidBase + device, 0,
                                                   fmt::format("sim{} memory", device));
    for (int i = 0; i < 48; ++i) {
      trace.mutable_counters().push_back({.track = memory,
                                          .ts_ns = i * 1000 * testing::kUs,
                                          .value = (1 + device + (i % 6)) * 64.0 * 1024 * 1024});
    }
  }
  const TrackId queue =
      trace.find_or_add_track(TrackKind::kCounter, TraceBuilder::kHostPid, 0, "queue_depth");
  for (int i = 0; i < 96; ++i) {
    trace.mutable_counters().push_back(
        {.track = queue, .ts_ns = i * 500 * testing::kUs, .value = static_cast<double>(i % 9)});
  }
  TraceMetadata& meta = trace.mutable_metadata();
  meta.worker = "browser-test";
  meta.pid = TraceBuilder::kHostPid;
  meta.start_ns = 0;
  meta.end_ns = 48'000 * testing::kUs;
  meta.overhead.percent = 0.3;
  meta.overhead.budget_percent = 1;
  return b.Build();
}

// Runs in the page: per chart its declared and drawn bars, bars of non-zero size, and
// pairs of labels that overlap or stick out of the chart; plus facts about the page.
constexpr std::string_view kInspectScript = R"js(
(() => {
  const charts = {};
  for (const fig of document.querySelectorAll('figure[data-chart]')) {
    const svg = fig.querySelector('svg');
    const box = svg.getBoundingClientRect();
    const bars = [...fig.querySelectorAll('g.bar')];
    const sized = bars.filter(g => { const r = g.getBoundingClientRect();
                                     return r.width > 0 && r.height > 0; }).length;
    const texts = [...svg.querySelectorAll('text')].map(t => ({s: t.textContent,
                                                               r: t.getBoundingClientRect()}));
    const overlaps = [];
    const outside = [];
    for (let i = 0; i < texts.length; ++i) {
      const a = texts[i].r;
      if (a.left < box.left - 1 || a.right > box.right + 1 || a.top < box.top - 1 ||
          a.bottom > box.bottom + 1) outside.push(texts[i].s);
      for (let j = i + 1; j < texts.length; ++j) {
        const b = texts[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) overlaps.push(texts[i].s + ' / ' + texts[j].s);
      }
    }
    charts[fig.dataset.chart] = {declared: Number(fig.dataset.bars || -1), bars: bars.length,
                                 sized, lines: fig.querySelectorAll('polyline.line').length,
                                 overlaps: overlaps.slice(0, 5), outside: outside.slice(0, 5),
                                 width: box.width, height: box.height};
  }
  return JSON.stringify({charts,
                         scripts: document.scripts.length,
                         injectedTextShown: document.body.textContent.includes(
                             '<script>alert(1)</script>'),
                         height: document.documentElement.scrollHeight});
})()
)js";

TEST(ReportBrowserTest, RendersInHeadlessChromium) {
  const std::optional<std::string> chromium = FindChromium();
  ASSERT_TRUE(chromium.has_value())
      << "Chromium not found: this test renders the HTML report in a real browser. Install "
         "Debian's package (apt-get install -y chromium) or set SCOPETRACE_CHROMIUM to the "
         "browser binary.";

  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    fmt::format("scopetrace_report_browser_{}", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "profile");
  const std::string report = (dir / "report.html").string();
  ASSERT_TRUE(WriteHtmlReport(BrowserTrace(), report, {.source = "browser-test.trace.json"}).ok());
  const std::string log = std::string(SCOPETRACE_BINARY_DIR) + "/report_browser_test.chromium.log";

  Browser browser;
  std::string error;
  ASSERT_TRUE(browser.Start(*chromium, (dir / "profile").string(), log, error)) << error;
  browser.AttachToNewPage(error);
  ASSERT_EQ(error, "") << "log: " << log;
  for (const char* domain : {"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"}) {
    ASSERT_TRUE(browser.Call(domain, "{}", error)) << error;
  }
  ASSERT_TRUE(browser.Call("Emulation.setDeviceMetricsOverride",
                           R"({"width":1280,"height":2000,"deviceScaleFactor":1,"mobile":false})",
                           error))
      << error;

  // A blank page's screenshot: the yardstick the report's must clearly exceed.
  std::optional<Struct> blank =
      browser.Call("Page.captureScreenshot", R"({"format":"png"})", error);
  ASSERT_TRUE(blank) << error;
  const size_t events_before_report = browser.events().size();

  const std::string url = "file://" + report;
  ASSERT_TRUE(browser.Call("Page.navigate", fmt::format(R"({{"url":{}}})", JsonQuote(url)), error))
      << error;
  ASSERT_TRUE(browser.WaitForEvent("Page.loadEventFired", events_before_report, error)) << error;

  std::optional<Struct> inspected = browser.Call(
      "Runtime.evaluate",
      fmt::format(R"({{"expression":{},"returnByValue":true}})", JsonQuote(kInspectScript)), error);
  ASSERT_TRUE(inspected) << error;
  const Struct* result = StructField(*inspected, "result");
  ASSERT_NE(result, nullptr);
  ASSERT_EQ(StructField(*inspected, "exceptionDetails"), nullptr) << "the inspection script threw";
  Struct page;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(StringField(*result, "value"), &page).ok());

  std::optional<Struct> shot = browser.Call("Page.captureScreenshot", R"({"format":"png"})", error);
  ASSERT_TRUE(shot) << error;

  // --- What the browser saw while loading the report ---
  bool saw_report_request = false;  // proves the network events do arrive
  for (size_t i = events_before_report; i < browser.events().size(); ++i) {
    const Struct& event = browser.events()[i];
    const std::string method = StringField(event, "method");
    const Struct* params = StructField(event, "params");
    std::string detail;
    if (params != nullptr) google::protobuf::util::MessageToJsonString(*params, &detail);
    if (method == "Network.requestWillBeSent") {
      const Struct* request = params != nullptr ? StructField(*params, "request") : nullptr;
      const std::string requested = request != nullptr ? StringField(*request, "url") : "";
      EXPECT_EQ(requested, url) << "the report fetched something: " << detail;
      saw_report_request |= requested == url;
    }
    EXPECT_NE(method, "Runtime.exceptionThrown") << detail;
    EXPECT_NE(method, "Page.javascriptDialogOpening") << "injected script ran: " << detail;
    if (method == "Runtime.consoleAPICalled" && params != nullptr) {
      const std::string type = StringField(*params, "type");
      EXPECT_NE(type, "error") << detail;
      EXPECT_NE(type, "assert") << detail;
    }
    if (method == "Log.entryAdded" && params != nullptr) {
      const Struct* entry = StructField(*params, "entry");
      EXPECT_NE(entry != nullptr ? StringField(*entry, "level") : "", "error") << detail;
    }
  }

  EXPECT_TRUE(saw_report_request) << "no Network event seen: the network check proves nothing";
  // The console check must be able to fail: an error logged now has to come through.
  const size_t events_before_probe = browser.events().size();
  ASSERT_TRUE(
      browser.Call("Runtime.evaluate", R"js({"expression":"console.error('probe')"})js", error))
      << error;
  EXPECT_TRUE(browser.WaitForEvent("Runtime.consoleAPICalled", events_before_probe, error))
      << "console errors are not reported: " << error;

  // --- What the page holds ---
  EXPECT_EQ(Field(page, "scripts")->number_value(), 0);
  EXPECT_TRUE(Field(page, "injectedTextShown")->bool_value())
      << "the script-like operator name must show as text";
  const Struct* charts = StructField(page, "charts");
  ASSERT_NE(charts, nullptr);
  const struct {
    const char* id;
    int bars;
  } kExpectedBars[] = {
      // 48 ms in at most 120 buckets: 96 of 500 µs.
      {"step-time", 24},     {"device-steps-0", 24},  {"device-steps-1", 24},
      {"host-operators", 7}, {"device-operators", 5}, {"utilization-0", 96},
      {"utilization-1", 96},
  };
  for (const auto& expected : kExpectedBars) {
    const Struct* chart = StructField(*charts, expected.id);
    ASSERT_NE(chart, nullptr) << "no chart " << expected.id;
    EXPECT_EQ(Field(*chart, "bars")->number_value(), expected.bars) << expected.id;
    EXPECT_EQ(Field(*chart, "declared")->number_value(), expected.bars) << expected.id;
    EXPECT_GT(Field(*chart, "sized")->number_value(), 0) << expected.id << ": no visible bar";
  }
  for (const char* id : {"step-time", "device-steps-0", "host-operators", "device-operators"}) {
    const Struct* chart = StructField(*charts, id);
    EXPECT_EQ(Field(*chart, "sized")->number_value(), Field(*chart, "bars")->number_value())
        << id << ": every bar should be visible";
  }
  EXPECT_EQ(Field(*StructField(*charts, "device-memory"), "lines")->number_value(), 2);
  EXPECT_EQ(Field(*StructField(*charts, "counter-0"), "lines")->number_value(), 1);
  for (const auto& [id, chart] : charts->fields()) {
    std::string overlaps, outside;
    google::protobuf::util::MessageToJsonString(
        Field(chart.struct_value(), "overlaps")->list_value(), &overlaps);
    google::protobuf::util::MessageToJsonString(
        Field(chart.struct_value(), "outside")->list_value(), &outside);
    EXPECT_EQ(Field(chart.struct_value(), "overlaps")->list_value().values_size(), 0)
        << id << ": overlapping labels " << overlaps;
    EXPECT_EQ(Field(chart.struct_value(), "outside")->list_value().values_size(), 0)
        << id << ": labels outside the chart " << outside;
    EXPECT_GT(Field(chart.struct_value(), "width")->number_value(), 600) << id;
  }

  // --- The screenshot ---
  std::string blank_png, png;
  ASSERT_TRUE(absl::Base64Unescape(StringField(*blank, "data"), &blank_png));
  ASSERT_TRUE(absl::Base64Unescape(StringField(*shot, "data"), &png));
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const auto be32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 3]));
  };
  EXPECT_EQ(be32(16), 1280u);  // IHDR width
  EXPECT_EQ(be32(20), 2000u);  // IHDR height
  // A blank page compresses to almost nothing; text and charts do not.
  EXPECT_GT(png.size(), 10 * blank_png.size())
      << "screenshot looks blank: " << png.size() << " bytes vs " << blank_png.size()
      << " for an empty page";
  const std::string kept = std::string(SCOPETRACE_BINARY_DIR) + "/report_browser_test.png";
  std::ofstream(kept, std::ios::binary).write(png.data(), static_cast<std::streamsize>(png.size()));

  browser.Close();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scopetrace
