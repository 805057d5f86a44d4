// Inline SVG charts for the HTML report: columns (optionally stacked, with reference
// lines), horizontal bars and lines. Each chart is an HTML <figure> holding a legend,
// the <svg> and nothing else; colours come from the page's CSS classes (s0..s5), so the
// charts carry no style of their own.
//
// Markup a test or a reader can rely on:
//   <figure class="chart" data-chart="ID" data-bars="N">  (data-lines for line charts)
//   each column or row: <g class="bar" ...><title>tooltip</title><rect class="seg sK"/>…</g>
//   each line: <polyline class="line sK">; each marked point: <circle class="pt sK">
// All text given to these functions is raw; they escape it.

#ifndef SCOPETRACE_SRC_REPORT_SVG_CHART_H_
#define SCOPETRACE_SRC_REPORT_SVG_CHART_H_

#include <string>
#include <string_view>
#include <vector>

namespace scopetrace::report_internal {

// How an axis prints values: value / divisor, then the unit ("ms", "MiB", "%").
struct AxisUnit {
  double divisor = 1;
  std::string unit;
};

// The unit that keeps values up to `max_ns` readable: ns, µs, ms or s.
AxisUnit TimeUnitFor(double max_ns);
// B, KiB, MiB or GiB for values up to `max_bytes`.
AxisUnit BytesUnitFor(double max_bytes);
// Fractions 0..1 printed as percent.
AxisUnit PercentUnit();

// A legend entry; `style` is the CSS class that colours it ("s0".."s5").
struct SeriesStyle {
  std::string name;
  std::string style;
  bool is_line = false;  // drawn as a line swatch (reference lines, line series)
};

// One column: segments stacked bottom-up, in the order of ColumnChart::series.
struct Column {
  std::string tick;     // x-axis label (shown when there is room), e.g. the step number
  std::string tooltip;  // exact values, one per line
  std::vector<double> segments;
};

// A horizontal line across the plot (P50, P99), labelled at its right end.
struct ReferenceLine {
  std::string label;
  double value = 0;
  std::string style;
};

struct ColumnChart {
  std::string id;  // data-chart
  std::string title;
  std::string x_label;
  std::string y_label;  // the unit is appended: "step time (ms)"
  AxisUnit y_unit;
  double y_max = 0;  // 0: from the data
  std::vector<SeriesStyle> series;
  std::vector<Column> columns;
  std::vector<ReferenceLine> lines;
};

// One row of a horizontal bar chart.
struct BarRow {
  std::string label;  // full name; shortened on screen, whole in the tooltip
  double value = 0;
  std::string value_text;  // printed after the bar, e.g. "12.3 ms · 41.0 % · 120 calls"
  std::string tooltip;
};

struct BarChart {
  std::string id;
  std::string title;
  std::string x_label;
  AxisUnit x_unit;
  std::string style = "s0";
  std::vector<BarRow> rows;
};

struct LineSeries {
  std::string name;
  std::string style;
  std::vector<double> x;  // ascending
  std::vector<double> y;
  // Tooltip of point i; points get a hover marker only when there are few enough.
  std::vector<std::string> tooltips;
  // Drawn as a step function: each value holds until the next point (counters).
  bool steps = false;
};

struct LineChart {
  std::string id;
  std::string title;
  std::string x_label;
  AxisUnit x_unit;
  std::string y_label;
  AxisUnit y_unit;
  double x_max = 0;  // 0: from the data
  std::vector<LineSeries> series;
};

std::string RenderColumnChart(const ColumnChart& chart);
std::string RenderBarChart(const BarChart& chart);
std::string RenderLineChart(const LineChart& chart);

// Ticks from 0 to at least `max` at a 1-2-5 step, about `target` of them.
std::vector<double> NiceTicks(double max, int target);

}  // namespace scopetrace::report_internal

#endif  // SCOPETRACE_SRC_REPORT_SVG_CHART_H_
