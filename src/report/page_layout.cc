#include "src/report/page_layout.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fmt/format.h"
#include "src/report/html_text.h"

namespace scopetrace::report_internal {
namespace {

// Palette: Tableau 10, distinguishable in print and by most colour-blind readers.
constexpr std::string_view kCss = R"css(
:root{color-scheme:light;--fg:#1d2330;--muted:#5b6475;--line:#d8dce3;--bg:#fff;--panel:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header.top{padding:18px 28px 10px;border-bottom:1px solid var(--line);background:var(--panel)}
header.top h1{margin:0 0 4px;font-size:20px;font-weight:600}
header.top .sub{color:var(--muted);font-size:13px}
main{padding:8px 28px 40px;max-width:1180px}
h2{font-size:17px;margin:26px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:8px 18px;margin:14px 0 0}
dl.facts div{background:#fff;border:1px solid var(--line);border-radius:6px;padding:7px 10px}
dl.facts dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
dl.facts dd{margin:2px 0 0;font-weight:600;overflow-wrap:anywhere}
dd .detail{display:block;font-weight:400;font-size:12px;color:var(--muted)}
.bad{color:#b3261e}.ok{color:#1e7b34}
.warn{background:#fff4e5;border:1px solid #f0c27b;border-radius:6px;padding:6px 10px;margin:10px 0}
.finding{border-left:4px solid #e15759;background:var(--panel);padding:8px 12px;margin:10px 0;border-radius:0 6px 6px 0}
.finding h3{margin:0 0 4px;font-size:15px}
.finding .kind{display:inline-block;font-size:11px;text-transform:uppercase;letter-spacing:.05em;background:#e15759;color:#fff;border-radius:3px;padding:1px 6px;margin-right:8px;vertical-align:2px}
.finding p{margin:4px 0;white-space:pre-wrap}
.finding .advice{color:#1e4f8a}
.empty{color:var(--muted);font-style:italic}
.stats{color:var(--muted);margin:4px 0}
figure.chart{margin:14px 0 6px}
figure.chart figcaption{font-weight:600;margin-bottom:2px}
figure.chart svg{display:block;max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:2px 0}
.legend .key{display:inline-flex;align-items:center;gap:5px}
.legend .sw{display:inline-block;width:12px;height:12px;border-radius:2px;background:var(--c)}
.legend .swl{display:inline-block;width:18px;height:0;border-top:3px solid var(--c)}
svg text{font-family:inherit;fill:var(--fg)}
svg .tick{font-size:11px;fill:var(--muted)}
svg .label,svg .value{font-size:12px}
svg .value{fill:var(--muted)}
svg .axis-label{font-size:12px;fill:var(--muted)}
svg .ref-label{font-size:11px;font-weight:600}
svg .grid{stroke:#eceef2;stroke-width:1}
svg .axis{stroke:#9aa1ad;stroke-width:1}
svg .seg{fill:var(--c)}
svg .bar:hover .seg{filter:brightness(.85)}
svg .ref{stroke:var(--c);stroke-width:1.5;stroke-dasharray:6 4}
svg .line{fill:none;stroke:var(--c);stroke-width:1.8;stroke-linejoin:round}
svg .pt{fill:var(--c);fill-opacity:0;stroke:none}
svg .pt:hover{fill-opacity:1}
.c-step{--c:#4e79a7}.c-compute{--c:#4e79a7}.c-copy{--c:#f28e2b}.c-overlap{--c:#b07aa1}
.c-idle{--c:#d5d9e0}.c-host{--c:#59a14f}.c-p50{--c:#1e7b34}.c-p99{--c:#e15759}
.s0{--c:#4e79a7}.s1{--c:#f28e2b}.s2{--c:#59a14f}.s3{--c:#e15759}.s4{--c:#76b7b2}.s5{--c:#b07aa1}
details{margin:4px 0 10px}
summary{cursor:pointer;color:var(--muted);font-size:13px}
table.ops{border-collapse:collapse;font-size:12.5px;margin-top:6px;width:100%}
table.ops th,table.ops td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:right;white-space:nowrap}
table.ops th:first-child,table.ops td.name{text-align:left;white-space:normal;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:12px;margin-top:30px}
)css";

void Fact(std::string& out, std::string_view label, std::string_view field, std::string_view value,
          std::string_view detail = "", std::string_view value_class = "") {
  out += "<div><dt>";
  AppendEscaped(out, label);
  out += fmt::format("</dt><dd data-field=\"{}\"", EscapeHtml(field));
  if (!value_class.empty()) out += fmt::format(" class=\"{}\"", EscapeHtml(value_class));
  out += ">";
  AppendEscaped(out, value);
  if (!detail.empty()) {
    out += "<span class=\"detail\">";
    AppendEscaped(out, detail);
    out += "</span>";
  }
  out += "</dd></div>";
}

std::string ProcessText(const Trace& trace) {
  const TraceMetadata& meta = trace.metadata();
  for (const Process& p : trace.processes()) {
    if (!p.is_device && (p.pid == meta.pid || meta.pid == 0)) {
      return p.name.empty() ? fmt::format("pid {}", p.pid)
                            : fmt::format("{} (pid {})", p.name, p.pid);
    }
  }
  return meta.pid != 0 ? fmt::format("pid {}", meta.pid) : "unknown";
}

}  // namespace

std::string_view ReportCss() { return kCss; }

std::string ReportTitle(const Trace& trace, const ReportOptions& options) {
  const std::string& who = options.source.empty() ? trace.metadata().worker : options.source;
  return fmt::format("scopetrace report: {} cycle {}", who.empty() ? "trace" : who,
                     trace.metadata().cycle);
}

std::string HeaderSection(const Trace& trace, const StepAnalysis& steps,
                          const ReportOptions& options) {
  const TraceMetadata& meta = trace.metadata();
  std::string out = "<dl class=\"facts\">";
  Fact(out, "Worker", "worker", meta.worker.empty() ? "unknown" : meta.worker,
       options.source.empty() ? "" : options.source);
  Fact(out, "Process", "process", ProcessText(trace), meta.producer);
  Fact(out, "Cycle", "cycle", std::to_string(meta.cycle),
       meta.end_ns > meta.start_ns
           ? fmt::format("window {}", FormatDuration(meta.end_ns - meta.start_ns))
           : "");
  std::string step_detail;
  if (!steps.steps.empty()) {
    step_detail = fmt::format("#{}–#{} · {:.2f} steps/s", steps.steps.front().number,
                              steps.steps.back().number, steps.steps_per_second);
  }
  Fact(out, "Steps", "steps", std::to_string(steps.steps.size()), step_detail);
  Fact(out, "Events", "events", FormatCount(trace.event_count()),
       fmt::format("{} slices · {} instants · {} counter samples",
                   FormatCount(trace.slices().size()), FormatCount(trace.instants().size()),
                   FormatCount(trace.counters().size())));
  std::string drop_detail;
  for (const ThreadDrops& d : meta.dropped) {
    if (d.dropped_events == 0) continue;
    if (!drop_detail.empty()) drop_detail += " · ";
    drop_detail += fmt::format(
        "{}: {}", d.thread_name.empty() ? std::to_string(d.tid) : d.thread_name, d.dropped_events);
  }
  Fact(out, "Dropped events", "dropped", FormatCount(meta.dropped_events), drop_detail,
       meta.dropped_events > 0 ? "bad" : "ok");
  const OverheadReport& overhead = meta.overhead;
  if (overhead.budget_percent > 0 || overhead.percent > 0) {
    Fact(out, "Measured overhead", "overhead",
         fmt::format("{:.3f} % of wall time", overhead.percent),
         fmt::format("budget {:.2f} %{}{}", overhead.budget_percent,
                     overhead.over_budget ? " · OVER BUDGET" : "",
                     overhead.scope_cost_ns > 0
                         ? fmt::format(" · {:.0f} ns per scope", overhead.scope_cost_ns)
                         : ""),
         overhead.over_budget ? "bad" : "ok");
  } else {
    Fact(out, "Measured overhead", "overhead", "not measured", "the trace has no overhead record");
  }
  if (meta.clock_fits.empty()) {
    Fact(out, "Clock sync error", "clock-sync", "none",
         "no device clock was synchronized in this trace");
  } else {
    double worst = 0;
    std::string detail;
    for (const ClockFit& fit : meta.clock_fits) {
      worst = std::max(worst, fit.error_bound_ns);
      if (!detail.empty()) detail += " · ";
      detail += fmt::format("{}: ±{}, drift {:.1f} ppm, {} pairs", fit.device,
                            FormatDuration(static_cast<int64_t>(std::llround(fit.error_bound_ns))),
                            fit.drift_ppm, fit.pairs);
    }
    Fact(out, "Clock sync error", "clock-sync",
         "±" + FormatDuration(static_cast<int64_t>(std::llround(worst))), detail);
  }
  out += "</dl>";
  if (meta.truncated) {
    out +=
        "<p class=\"warn\" data-field=\"truncated\">The file was cut short; the report shows "
        "what was read before the cut: ";
    AppendEscaped(out, meta.truncation_reason);
    out += "</p>";
  }
  if (meta.device_records_missing > 0 || meta.device_records_late > 0 ||
      meta.host_events_late > 0) {
    out += fmt::format(
        "<p class=\"warn\" data-field=\"late\">Device records missing: {} · device records late: "
        "{} · host events late: {}</p>",
        meta.device_records_missing, meta.device_records_late, meta.host_events_late);
  }
  return out;
}

std::string DiagnosisSection(const Diagnosis& diagnosis) {
  std::string out = "<section id=\"diagnosis\"><h2>Diagnosis</h2>";
  if (diagnosis.findings.empty()) {
    out += "<p class=\"empty\" data-field=\"diagnosis-note\">";
    AppendEscaped(out, diagnosis.note.empty()
                           ? "No bottleneck passed its threshold: host, transfers, device and "
                             "synchronization are balanced in this trace."
                           : diagnosis.note);
    out += "</p>";
  }
  for (const Finding& f : diagnosis.findings) {
    out += fmt::format("<div class=\"finding\" data-finding=\"{}\"><h3><span class=\"kind\">",
                       EscapeHtml(FindingKindName(f.kind)));
    AppendEscaped(out, FindingKindName(f.kind));
    out += "</span>";
    AppendEscaped(out, f.title);
    out += "</h3><p class=\"evidence\">";
    AppendEscaped(out, f.evidence);
    out += "</p><p class=\"advice\">Try: ";
    AppendEscaped(out, f.advice);
    out += "</p></div>";
  }
  return out + "</section>";
}

}  // namespace scopetrace::report_internal
