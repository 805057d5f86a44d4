#include "src/report/report_charts.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fmt/format.h"
#include "src/report/html_text.h"
#include "src/report/svg_chart.h"

namespace scopetrace::report_internal {
namespace {

// Host counters beyond this many are listed, not drawn: each gets its own chart.
constexpr size_t kMaxHostCounterCharts = 8;

std::string StepRange(const StepGroup& g) {
  if (g.count == 1) return fmt::format("step {}", g.first_step);
  return fmt::format("steps {}–{} ({} steps)", g.first_step, g.last_step, g.count);
}

std::string Empty(std::string_view what) {
  return fmt::format("<p class=\"empty\">{}</p>", EscapeHtml(what));
}

std::string StepTimeChart(const StepAnalysis& steps, const std::vector<StepGroup>& groups) {
  ColumnChart chart;
  chart.id = "step-time";
  chart.title =
      groups.size() == steps.steps.size()
          ? "Step time per step"
          : fmt::format("Step time, mean of each group of {} steps", groups.front().count);
  chart.x_label = "step";
  chart.y_label = "step time";
  double max = 0;
  for (const StepGroup& g : groups) max = std::max(max, g.mean_wall_ns);
  max = std::max({max, static_cast<double>(steps.wall.p99_ns)});
  chart.y_unit = TimeUnitFor(max);
  chart.series = {{"step wall time", "c-step", false}};
  for (const StepGroup& g : groups) {
    Column column;
    column.tick = std::to_string(g.first_step);
    column.segments = {g.mean_wall_ns};
    column.tooltip = g.count == 1
                         ? fmt::format("{}\nwall {}", StepRange(g), ExactDuration(g.mean_wall_ns))
                         : fmt::format("{}\nmean wall {}\nmin {}\nmax {}", StepRange(g),
                                       ExactDuration(g.mean_wall_ns), ExactDuration(g.min_wall_ns),
                                       ExactDuration(g.max_wall_ns));
    chart.columns.push_back(std::move(column));
  }
  chart.lines = {{"P50", static_cast<double>(steps.wall.p50_ns), "c-p50"},
                 {"P99", static_cast<double>(steps.wall.p99_ns), "c-p99"}};
  return RenderColumnChart(chart);
}

std::string DeviceStepChart(const StepAnalysis& steps, const std::vector<StepGroup>& groups,
                            size_t device) {
  const std::string& name = steps.devices[device];
  ColumnChart chart;
  chart.id = "device-steps-" + std::to_string(device);
  chart.title = fmt::format("{}: compute, copy, overlap and idle per step{}", name,
                            groups.size() == steps.steps.size() ? "" : " (group means)");
  chart.x_label = "step";
  chart.y_label = "time in step";
  double max = 0;
  for (const StepGroup& g : groups) max = std::max(max, g.mean_wall_ns);
  chart.y_unit = TimeUnitFor(max);
  chart.series = {{"compute only", "c-compute", false},
                  {"copy only", "c-copy", false},
                  {"compute and copy overlap", "c-overlap", false},
                  {"idle", "c-idle", false}};
  for (const StepGroup& g : groups) {
    const DeviceShare& d = g.devices[device];
    Column column;
    column.tick = std::to_string(g.first_step);
    column.segments = {d.compute_only_ns, d.copy_only_ns, d.overlap_ns, d.idle_ns};
    column.tooltip = fmt::format(
        "{} on {}{}\ncompute {}\ncopy {}\noverlap {}\nidle {}\nwindow {}", StepRange(g), name,
        g.count == 1 ? "" : " (means)", ExactDuration(d.compute_only_ns + d.overlap_ns),
        ExactDuration(d.copy_only_ns + d.overlap_ns), ExactDuration(d.overlap_ns),
        ExactDuration(d.idle_ns), ExactDuration(g.mean_wall_ns));
    chart.columns.push_back(std::move(column));
  }
  return RenderColumnChart(chart);
}

std::string OperatorChart(const std::vector<OperatorRow>& rows, bool device, int64_t busy_ns) {
  BarChart chart;
  chart.id = device ? "device-operators" : "host-operators";
  chart.title = device ? "Top device operations by total time" : "Top host scopes by total time";
  chart.x_label = "total time";
  chart.style = device ? "c-compute" : "c-host";
  double max = 0;
  for (const OperatorRow& r : rows) max = std::max(max, static_cast<double>(r.total_ns));
  chart.x_unit = TimeUnitFor(max);
  for (const OperatorRow& r : rows) {
    BarRow row;
    row.label = r.name;
    row.value = static_cast<double>(r.total_ns);
    row.value_text = fmt::format("{} · {:.1f} % · {} calls", FormatDuration(r.total_ns), r.percent,
                                 FormatCount(static_cast<uint64_t>(r.calls)));
    row.tooltip = fmt::format(
        "{}\ncalls {}\ntotal {}\nself {}\navg {}\nmin {}  P50 {}  P99 {}  max {}\n{:.2f} % of {} "
        "busy time ({})",
        r.name, r.calls, ExactDuration(static_cast<double>(r.total_ns)),
        ExactDuration(static_cast<double>(r.self_ns)), ExactDuration(r.avg_ns),
        FormatDuration(r.min_ns), FormatDuration(r.p50_ns), FormatDuration(r.p99_ns),
        FormatDuration(r.max_ns), r.percent, device ? "device" : "host", FormatDuration(busy_ns));
    chart.rows.push_back(std::move(row));
  }
  return RenderBarChart(chart);
}

std::string OperatorTable(const std::vector<OperatorRow>& rows, bool device) {
  std::string out = fmt::format(
      "<details><summary>Table: top {} {}</summary><table class=\"ops\" data-table=\"{}\">"
      "<thead><tr><th>Name</th><th>Calls</th><th>Total</th><th>Self</th><th>Avg</th>"
      "<th>P50</th><th>P99</th><th>Max</th><th>%</th></tr></thead><tbody>",
      rows.size(), device ? "device operations" : "host scopes",
      device ? "device-operators" : "host-operators");
  for (const OperatorRow& r : rows) {
    out += "<tr><td class=\"name\">";
    AppendEscaped(out, r.name);
    out += fmt::format(
        "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{:.1f}</td></tr>",
        r.calls, FormatDuration(r.total_ns), FormatDuration(r.self_ns),
        FormatDuration(static_cast<int64_t>(std::llround(r.avg_ns))), FormatDuration(r.p50_ns),
        FormatDuration(r.p99_ns), FormatDuration(r.max_ns), r.percent);
  }
  out += "</tbody></table></details>";
  return out;
}

}  // namespace

std::string ExactDuration(double ns) {
  const auto rounded = static_cast<int64_t>(std::llround(ns));
  if (std::abs(ns) < 1000) return fmt::format("{} ns", rounded);
  return fmt::format("{} ({} ns)", FormatDuration(rounded),
                     FormatCount(static_cast<uint64_t>(std::max<int64_t>(rounded, 0))));
}

std::string StepSection(const StepAnalysis& steps, const ReportOptions& options) {
  std::string out = "<section id=\"steps\"><h2>Steps</h2>";
  if (steps.steps.empty()) {
    out += Empty(
        "No ProfilerStep slices in this trace: call Profiler::step() once per iteration to "
        "see step times.");
    return out + "</section>";
  }
  const std::vector<StepGroup> groups = GroupSteps(steps, options.max_step_bars);
  const DurationStats& wall = steps.wall;
  out += fmt::format(
      "<p class=\"stats\" data-field=\"step-stats\">{} steps · mean {} · P50 {} · P90 {} · P99 "
      "{} · min {} · max {} · {:.2f} steps/s</p>",
      steps.steps.size(), FormatDuration(static_cast<int64_t>(std::llround(wall.mean_ns))),
      FormatDuration(wall.p50_ns), FormatDuration(wall.p90_ns), FormatDuration(wall.p99_ns),
      FormatDuration(wall.min_ns), FormatDuration(wall.max_ns), steps.steps_per_second);
  out += StepTimeChart(steps, groups);
  if (steps.devices.empty()) {
    out += Empty("No device in this trace: the per-device step breakdown needs device activity.");
  }
  for (size_t d = 0; d < steps.devices.size(); ++d) out += DeviceStepChart(steps, groups, d);
  return out + "</section>";
}

std::string OperatorSection(const OperatorSummary& summary) {
  std::string out = "<section id=\"operators\"><h2>Top operators</h2>";
  if (summary.host.empty()) {
    out += Empty("No host scopes in this trace.");
  } else {
    out += OperatorChart(summary.host, /*device=*/false, summary.host_self_ns);
    out += OperatorTable(summary.host, /*device=*/false);
  }
  if (summary.device.empty()) {
    out += Empty("No device operations in this trace.");
  } else {
    out += OperatorChart(summary.device, /*device=*/true, summary.device_self_ns);
    out += OperatorTable(summary.device, /*device=*/true);
  }
  return out + "</section>";
}

std::string UtilizationSection(const Trace& trace, const TimeWindow& window,
                               const ReportOptions& options) {
  std::string out = "<section id=\"utilization\"><h2>Device utilization</h2>";
  const std::vector<DeviceUtilization> devices =
      ComputeDeviceUtilization(trace, window, options.utilization_buckets);
  if (devices.empty()) return out + Empty("No device in this trace.") + "</section>";
  const AxisUnit x_unit = TimeUnitFor(static_cast<double>(window.length()));
  for (size_t d = 0; d < devices.size(); ++d) {
    const DeviceUtilization& u = devices[d];
    if (u.busy.empty()) {
      out += Empty(fmt::format("{}: no activity in the cycle window.", u.device));
      continue;
    }
    ColumnChart chart;
    chart.id = "utilization-" + std::to_string(d);
    chart.title =
        fmt::format("{}: busy share of each {} bucket", u.device, FormatDuration(u.bucket_ns));
    chart.x_label = fmt::format("bucket start, time since cycle start ({})", x_unit.unit);
    chart.y_label = "busy";
    chart.y_unit = PercentUnit();
    chart.y_max = 1;
    chart.series = {{"kernels", "c-compute", false}, {"copies and other ops", "c-copy", false}};
    double busy_sum = 0;
    for (size_t k = 0; k < u.busy.size(); ++k) {
      const double start = static_cast<double>(k) * static_cast<double>(u.bucket_ns);
      const double end =
          std::min(start + static_cast<double>(u.bucket_ns), static_cast<double>(window.length()));
      busy_sum += u.busy[k] * (end - start);
      Column column;
      column.tick = FormatTick(start / x_unit.divisor, 2);
      column.segments = {u.compute[k], std::max(u.busy[k] - u.compute[k], 0.0)};
      column.tooltip = fmt::format(
          "{}–{} {}\nbusy {:.1f} %\nkernels {:.1f} %", FormatTick(start / x_unit.divisor, 3),
          FormatTick(end / x_unit.divisor, 3), x_unit.unit, u.busy[k] * 100, u.compute[k] * 100);
      chart.columns.push_back(std::move(column));
    }
    out += fmt::format(
        "<p class=\"stats\" data-field=\"utilization-{}\">{}: busy {:.1f} % of the "
        "cycle window</p>",
        d, EscapeHtml(u.device), busy_sum / static_cast<double>(window.length()) * 100);
    out += RenderColumnChart(chart);
  }
  return out + "</section>";
}

std::string CounterSection(const Trace& trace, const TimeWindow& window,
                           const ReportOptions& options) {
  std::string out = "<section id=\"counters\"><h2>Counters</h2>";
  const std::vector<CounterLine> lines = CollectCounters(trace, window, options.max_counter_points);
  const AxisUnit x_unit = TimeUnitFor(static_cast<double>(window.length()));
  LineChart memory;
  memory.id = "device-memory";
  memory.title = "Device memory in use";
  memory.x_label = "time since cycle start";
  memory.x_unit = x_unit;
  memory.y_label = "memory in use";
  memory.x_max = static_cast<double>(window.length());
  double memory_max = 0;
  std::vector<std::string> skipped;
  size_t host_charts = 0;
  std::string host_html;
  for (const CounterLine& line : lines) {
    LineSeries series;
    series.name = line.name;
    series.steps = true;
    series.x = line.offset_ns;
    series.y = line.value;
    for (size_t i = 0; i < line.value.size(); ++i) {
      series.tooltips.push_back(
          fmt::format("{}\nt = {} {}\n{}", line.name,
                      FormatTick(line.offset_ns[i] / x_unit.divisor, 3), x_unit.unit,
                      line.device ? fmt::format("{} ({} bytes)", FormatBytes(line.value[i]),
                                                FormatTick(line.value[i], 0))
                                  : FormatTick(line.value[i], 3)));
    }
    if (line.device) {
      series.style = "s" + std::to_string(memory.series.size() % 6);
      memory_max = std::max(memory_max, line.max);
      memory.series.push_back(std::move(series));
      continue;
    }
    if (host_charts == kMaxHostCounterCharts) {
      skipped.push_back(line.name);
      continue;
    }
    LineChart chart;
    chart.id = "counter-" + std::to_string(host_charts++);
    chart.title =
        fmt::format("{} ({} samples, min {}, max {}, last {})", line.name, line.samples,
                    FormatTick(line.min, 3), FormatTick(line.max, 3), FormatTick(line.last, 3));
    chart.x_label = "time since cycle start";
    chart.x_unit = x_unit;
    chart.x_max = static_cast<double>(window.length());
    chart.y_label = line.name.size() <= 24 ? line.name : "value";
    series.style = "s0";
    chart.series.push_back(std::move(series));
    host_html += RenderLineChart(chart);
  }
  if (memory.series.empty()) {
    out += Empty("No device memory counter in this trace.");
  } else {
    memory.y_unit = BytesUnitFor(memory_max);
    out += RenderLineChart(memory);
  }
  out += host_html;
  if (!skipped.empty()) {
    out += "<p class=\"empty\">Not drawn: ";
    for (size_t i = 0; i < skipped.size(); ++i) {
      if (i) out += ", ";
      AppendEscaped(out, skipped[i]);
    }
    out += "</p>";
  }
  return out + "</section>";
}

}  // namespace scopetrace::report_internal
