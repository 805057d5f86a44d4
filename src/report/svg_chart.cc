#include "src/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>

#include "fmt/format.h"
#include "src/report/html_text.h"

namespace scopetrace::report_internal {
namespace {

// Every chart is drawn in this coordinate space and scales down with the page.
constexpr double kWidth = 1120;
// Rough width of one character of tick text (11 px sans-serif): enough to keep x-axis
// labels from overlapping when thinning them.
constexpr double kCharWidth = 7;
constexpr double kLabelLineHeight = 13;

std::string Num(double v) { return FormatTick(v, 1); }

// Decimals that tell ticks `step` apart (a step of 0.25 needs 2).
int DecimalsFor(double step) {
  if (step <= 0) return 0;
  int decimals = 0;
  while (decimals < 6 && std::abs(step * std::pow(10, decimals) -
                                  std::round(step * std::pow(10, decimals))) > 1e-6) {
    ++decimals;
  }
  return decimals;
}

std::string AxisTitle(std::string_view label, const AxisUnit& unit) {
  if (unit.unit.empty()) return std::string(label);
  return fmt::format("{} ({})", label, unit.unit);
}

void AppendLegend(std::string& out, const std::vector<SeriesStyle>& series) {
  if (series.empty()) return;
  out += "<div class=\"legend\">";
  for (const SeriesStyle& s : series) {
    out += fmt::format("<span class=\"key\"><i class=\"{} {}\"></i>", s.is_line ? "swl" : "sw",
                       EscapeHtml(s.style));
    AppendEscaped(out, s.name);
    out += "</span>";
  }
  out += "</div>";
}

void AppendFigureStart(std::string& out, std::string_view id, std::string_view title,
                       std::string_view count_attr, size_t count) {
  out += fmt::format("<figure class=\"chart\" data-chart=\"{}\" {}=\"{}\">", EscapeHtml(id),
                     count_attr, count);
  out += "<figcaption>";
  AppendEscaped(out, title);
  out += "</figcaption>";
}

void AppendSvgStart(std::string& out, double height, std::string_view title) {
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" "
      "height=\"{}\" role=\"img\" aria-label=\"{}\">",
      Num(kWidth), Num(height), Num(kWidth), Num(height), EscapeHtml(title));
}

void AppendTitle(std::string& out, std::string_view tooltip) {
  out += "<title>";
  AppendEscaped(out, tooltip);
  out += "</title>";
}

// Horizontal grid lines with value labels on the left of the plot.
void AppendYAxis(std::string& out, const std::vector<double>& ticks, const AxisUnit& unit,
                 double left, double right, double top, double bottom, std::string_view label) {
  const double lo = ticks.front();
  const double hi = ticks.back();
  const int decimals = DecimalsFor((ticks.size() > 1 ? ticks[1] - ticks[0] : hi) / unit.divisor);
  for (double t : ticks) {
    const double y = bottom - (t - lo) / (hi - lo) * (bottom - top);
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", Num(left),
                       Num(right), Num(y), Num(y));
    out += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                       Num(left - 6), Num(y + 4), FormatTick(t / unit.divisor, decimals));
  }
  out += fmt::format(
      "<text class=\"axis-label\" transform=\"translate(14 {}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>",
      Num((top + bottom) / 2), EscapeHtml(AxisTitle(label, unit)));
}

// Ticks at round values of the unit shown (MiB, ms), returned in the data's own unit.
std::vector<double> UnitTicks(double max, const AxisUnit& unit, int target) {
  std::vector<double> ticks = NiceTicks(max / unit.divisor, target);
  for (double& t : ticks) t *= unit.divisor;
  return ticks;
}

double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

}  // namespace

AxisUnit TimeUnitFor(double max_ns) {
  if (max_ns >= 1e9) return {1e9, "s"};
  if (max_ns >= 1e6) return {1e6, "ms"};
  if (max_ns >= 1e3) return {1e3, "µs"};
  return {1, "ns"};
}

AxisUnit BytesUnitFor(double max_bytes) {
  if (max_bytes >= 1024.0 * 1024 * 1024) return {1024.0 * 1024 * 1024, "GiB"};
  if (max_bytes >= 1024.0 * 1024) return {1024.0 * 1024, "MiB"};
  if (max_bytes >= 1024.0) return {1024.0, "KiB"};
  return {1, "B"};
}

AxisUnit PercentUnit() { return {0.01, "%"}; }

std::vector<double> NiceTicks(double max, int target) {
  if (!(max > 0) || !std::isfinite(max)) return {0, 1};
  const double raw = max / std::max(target, 1);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (int i = 0;; ++i) {
    ticks.push_back(i * step);
    if (i * step >= max * (1 - 1e-9)) break;
  }
  return ticks;
}

std::string RenderColumnChart(const ColumnChart& chart) {
  constexpr double kLeft = 72, kRightMargin = 120, kTop = 14, kPlotHeight = 230, kBottomArea = 46;
  const double right = kWidth - kRightMargin;
  const double bottom = kTop + kPlotHeight;
  const double height = bottom + kBottomArea;

  double max_value = chart.y_max;
  if (max_value <= 0) {
    for (const Column& c : chart.columns) {
      double sum = 0;
      for (double v : c.segments) sum += std::max(v, 0.0);
      max_value = std::max(max_value, sum);
    }
    for (const ReferenceLine& l : chart.lines) max_value = std::max(max_value, l.value);
  }
  const std::vector<double> ticks = UnitTicks(max_value, chart.y_unit, 5);
  const double y_top = ticks.back();
  const auto y_of = [&](double v) { return bottom - v / y_top * kPlotHeight; };

  std::vector<SeriesStyle> legend = chart.series;
  for (const ReferenceLine& l : chart.lines) legend.push_back({l.label, l.style, true});

  std::string out;
  AppendFigureStart(out, chart.id, chart.title, "data-bars", chart.columns.size());
  AppendLegend(out, legend);
  AppendSvgStart(out, height, chart.title);
  AppendYAxis(out, ticks, chart.y_unit, kLeft, right, kTop, bottom, chart.y_label);

  const size_t n = chart.columns.size();
  const double slot = n > 0 ? (right - kLeft) / static_cast<double>(n) : 0;
  // A gap between columns only while it leaves them visible; dense charts touch.
  const double gap = slot >= 6 ? std::min(slot * 0.2, 8.0) : 0;
  size_t widest_tick = 1;
  for (const Column& c : chart.columns) widest_tick = std::max(widest_tick, CodePoints(c.tick));
  const size_t stride =
      n == 0
          ? 1
          : std::max<size_t>(1, static_cast<size_t>(std::ceil(
                                    (static_cast<double>(widest_tick) * kCharWidth + 12) / slot)));
  for (size_t i = 0; i < n; ++i) {
    const Column& column = chart.columns[i];
    const double x = kLeft + static_cast<double>(i) * slot + gap / 2;
    out += fmt::format("<g class=\"bar\" data-index=\"{}\">", i);
    AppendTitle(out, column.tooltip);
    double base = 0;
    for (size_t s = 0; s < column.segments.size(); ++s) {
      const double v = std::max(column.segments[s], 0.0);
      if (v <= 0) continue;
      const double y0 = y_of(base);
      const double y1 = y_of(base + v);
      const std::string style = s < chart.series.size() ? chart.series[s].style : "s0";
      out +=
          fmt::format("<rect class=\"seg {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                      EscapeHtml(style), Num(x), Num(y1), FormatTick(std::max(slot - gap, 0.3), 2),
                      FormatTick(std::max(y0 - y1, 0.0), 2));
      base += v;
    }
    out += "</g>";
    if (i % stride == 0) {
      out += fmt::format(
          "<text class=\"tick xtick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
          Num(kLeft + (static_cast<double>(i) + 0.5) * slot), Num(bottom + 16),
          EscapeHtml(column.tick));
    }
  }
  out += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", Num(kLeft),
                     Num(right), Num(bottom), Num(bottom));

  // Reference lines, labels pushed apart so two close values stay readable.
  std::vector<const ReferenceLine*> lines;
  for (const ReferenceLine& l : chart.lines) lines.push_back(&l);
  std::sort(lines.begin(), lines.end(),
            [](const ReferenceLine* a, const ReferenceLine* b) { return a->value > b->value; });
  double last_label_y = -1e9;
  for (const ReferenceLine* l : lines) {
    const double y = y_of(l->value);
    const double label_y = std::max(y + 4, last_label_y + kLabelLineHeight);
    last_label_y = label_y;
    out += fmt::format("<g class=\"refline\" data-ref=\"{}\">", EscapeHtml(l->label));
    AppendTitle(
        out, fmt::format("{}: {}", l->label,
                         FormatTick(l->value / chart.y_unit.divisor, 3) + " " + chart.y_unit.unit));
    out += fmt::format("<line class=\"ref {}\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
                       EscapeHtml(l->style), Num(kLeft), Num(right), Num(y), Num(y));
    out +=
        fmt::format("<text class=\"ref-label\" x=\"{}\" y=\"{}\">{} {} {}</text>", Num(right + 6),
                    Num(label_y), EscapeHtml(l->label),
                    FormatTick(l->value / chart.y_unit.divisor, 2), EscapeHtml(chart.y_unit.unit));
    out += "</g>";
  }
  out +=
      fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                  Num((kLeft + right) / 2), Num(bottom + 38), EscapeHtml(chart.x_label));
  out += "</svg></figure>";
  return out;
}

std::string RenderBarChart(const BarChart& chart) {
  constexpr double kLabelWidth = 256, kValueWidth = 250, kRowHeight = 22, kBarHeight = 14;
  constexpr double kTop = 6, kBottomArea = 40;
  // About 34 characters of 12 px text fit in the label column.
  constexpr size_t kMaxLabelChars = 34;
  const double left = kLabelWidth;
  const double right = kWidth - kValueWidth;
  const double bottom = kTop + kRowHeight * static_cast<double>(chart.rows.size());
  const double height = bottom + kBottomArea;

  double max_value = 0;
  for (const BarRow& r : chart.rows) max_value = std::max(max_value, r.value);
  const std::vector<double> ticks = UnitTicks(max_value, chart.x_unit, 6);
  const double x_top = ticks.back();
  const auto x_of = [&](double v) { return left + v / x_top * (right - left); };

  std::string out;
  AppendFigureStart(out, chart.id, chart.title, "data-bars", chart.rows.size());
  AppendSvgStart(out, height, chart.title);
  const int decimals = DecimalsFor((ticks.size() > 1 ? ticks[1] : x_top) / chart.x_unit.divisor);
  for (double t : ticks) {
    const double x = x_of(t);
    out += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", Num(x),
                       Num(x), Num(kTop), Num(bottom));
    out += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                       Num(x), Num(bottom + 15), FormatTick(t / chart.x_unit.divisor, decimals));
  }
  for (size_t i = 0; i < chart.rows.size(); ++i) {
    const BarRow& row = chart.rows[i];
    const double y = kTop + kRowHeight * static_cast<double>(i);
    out += fmt::format("<g class=\"bar\" data-index=\"{}\">", i);
    AppendTitle(out, row.tooltip);
    out += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                       Num(left - 8), Num(y + kRowHeight / 2 + 4),
                       EscapeHtml(ShortenLabel(row.label, kMaxLabelChars)));
    const double width = std::max(x_of(std::max(row.value, 0.0)) - left, 0.5);
    out += fmt::format("<rect class=\"seg {}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                       EscapeHtml(chart.style), Num(left), Num(y + (kRowHeight - kBarHeight) / 2),
                       FormatTick(width, 2), Num(kBarHeight));
    out += fmt::format("<text class=\"value\" x=\"{}\" y=\"{}\">{}</text>", Num(left + width + 6),
                       Num(y + kRowHeight / 2 + 4), EscapeHtml(row.value_text));
    out += "</g>";
  }
  out += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", Num(left),
                     Num(left), Num(kTop), Num(bottom));
  out +=
      fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                  Num((left + right) / 2), Num(bottom + 34),
                  EscapeHtml(AxisTitle(chart.x_label, chart.x_unit)));
  out += "</svg></figure>";
  return out;
}

std::string RenderLineChart(const LineChart& chart) {
  constexpr double kLeft = 72, kRightMargin = 30, kTop = 14, kPlotHeight = 200, kBottomArea = 46;
  // Beyond this many points a series gets no hover markers: they would hide the line.
  constexpr size_t kMaxMarkers = 400;
  const double right = kWidth - kRightMargin;
  const double bottom = kTop + kPlotHeight;
  const double height = bottom + kBottomArea;

  double x_max = chart.x_max, y_max = 0;
  for (const LineSeries& s : chart.series) {
    x_max = std::max(x_max, Max(s.x));
    y_max = std::max(y_max, Max(s.y));
  }
  const std::vector<double> y_ticks = UnitTicks(y_max, chart.y_unit, 4);
  const std::vector<double> x_ticks = UnitTicks(x_max, chart.x_unit, 8);
  const double x_top = x_ticks.back();
  const double y_top = y_ticks.back();
  const auto x_of = [&](double v) { return kLeft + v / x_top * (right - kLeft); };
  const auto y_of = [&](double v) { return bottom - std::max(v, 0.0) / y_top * kPlotHeight; };

  std::vector<SeriesStyle> legend;
  for (const LineSeries& s : chart.series) legend.push_back({s.name, s.style, true});

  std::string out;
  AppendFigureStart(out, chart.id, chart.title, "data-lines", chart.series.size());
  AppendLegend(out, legend);
  AppendSvgStart(out, height, chart.title);
  AppendYAxis(out, y_ticks, chart.y_unit, kLeft, right, kTop, bottom, chart.y_label);
  const int x_decimals =
      DecimalsFor((x_ticks.size() > 1 ? x_ticks[1] : x_top) / chart.x_unit.divisor);
  for (double t : x_ticks) {
    out += fmt::format(
        "<text class=\"tick xtick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        Num(x_of(t)), Num(bottom + 16), FormatTick(t / chart.x_unit.divisor, x_decimals));
  }
  out += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", Num(kLeft),
                     Num(right), Num(bottom), Num(bottom));
  for (const LineSeries& s : chart.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    out += fmt::format("<polyline class=\"line {}\" data-points=\"{}\" points=\"",
                       EscapeHtml(s.style), n);
    for (size_t i = 0; i < n; ++i) {
      if (s.steps && i > 0) {
        out += fmt::format(" {},{}", Num(x_of(s.x[i])), Num(y_of(s.y[i - 1])));
      }
      out += fmt::format("{}{},{}", i ? " " : "", Num(x_of(s.x[i])), Num(y_of(s.y[i])));
    }
    out += "\"/>";
    if (n <= kMaxMarkers) {
      for (size_t i = 0; i < n; ++i) {
        out += fmt::format("<circle class=\"pt {}\" cx=\"{}\" cy=\"{}\" r=\"3\">",
                           EscapeHtml(s.style), Num(x_of(s.x[i])), Num(y_of(s.y[i])));
        AppendTitle(out, i < s.tooltips.size() ? s.tooltips[i] : s.name);
        out += "</circle>";
      }
    }
  }
  out +=
      fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                  Num((kLeft + right) / 2), Num(bottom + 38),
                  EscapeHtml(AxisTitle(chart.x_label, chart.x_unit)));
  out += "</svg></figure>";
  return out;
}

}  // namespace scopetrace::report_internal
