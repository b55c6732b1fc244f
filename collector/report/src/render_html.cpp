// The report as one self-contained HTML file: inline CSS and SVG charts, no scripts, nothing
// fetched from the network.
#include <algorithm>
#include <cstdio>
#include <string>

#include "document.h"
#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string px(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

std::string colour(const Rgb& c) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", static_cast<int>(c.r * 255 + 0.5),
                static_cast<int>(c.g * 255 + 0.5), static_cast<int>(c.b * 255 + 0.5));
  return buffer;
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\">" + escape(s) + "</text>";
}

std::string heatmap_svg(const Heatmap& h) {
  const double left = 40, top = 10, width = 1000;
  const double cell_w = width / std::max(h.columns, 1);
  const double cell_h = std::clamp(600.0 / std::max<size_t>(h.values.size(), 1), 4.0, 14.0);
  const double height = cell_h * static_cast<double>(h.values.size());
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(left + width + 20) + "\" height=\"" +
                    px(top + height + 70) + "\" shape-rendering=\"crispEdges\">";
  for (size_t row = 0; row < h.values.size(); ++row) {
    const std::vector<double>& values = h.values[row];
    const std::vector<Rgb> colours = h.row_colours(row);
    const double y = top + cell_h * static_cast<double>(row);
    if (cell_h >= 8 || row % 5 == 0) svg += text(left - 4, y + cell_h - 1, h.row_labels[row], "end");
    for (size_t col = 0; col < values.size(); ++col) {
      svg += "<rect x=\"" + px(left + cell_w * static_cast<double>(col)) + "\" y=\"" + px(y) + "\" width=\"" +
             px(cell_w) + "\" height=\"" + px(cell_h) + "\" fill=\"" + colour(colours[col]) +
             "\"><title>" + h.row_name + " " + h.row_labels[row] + ", " + h.column_name + " " + std::to_string(col) +
             ": " + format_number(values[col]) + " tokens</title></rect>";
    }
  }
  const double axis_y = top + height;
  svg += text(left, axis_y + 14, h.column_name + " 0") +
         text(left + width, axis_y + 14, std::to_string(h.columns - 1), "end");
  // The colour scale.
  const double legend_y = axis_y + 26;
  for (int i = 0; i < 100; ++i)
    svg += "<rect x=\"" + px(left + 3.0 * i) + "\" y=\"" + px(legend_y) + "\" width=\"3\" height=\"12\" fill=\"" +
           colour(heat_colour(i / 99.0)) + "\"/>";
  svg += text(left, legend_y + 26, "0") + text(left + 150, legend_y + 26, "2 x mean", "middle") +
         text(left + 300, legend_y + 26, ">= " + tick_label(h.scale_max) + " x mean", "end");
  return svg + "</svg>";
}

std::string line_chart_svg(const LineChart& c) {
  const double left = 60, top = 10, width = 800, height = 240;
  const std::vector<double> yt = c.y_ticks();
  const auto [x0, x1] = c.x_range();
  const std::vector<double> xt = axis_ticks(x0, x1, 8);
  const double y0 = yt.front(), y1 = yt.back();
  const auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * width; };
  const auto sy = [&](double y) { return top + height - (y - y0) / (y1 - y0) * height; };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(left + width + 20) + "\" height=\"" +
                    px(top + height + 60) + "\">";
  for (double t : yt)
    svg += "<line x1=\"" + px(left) + "\" x2=\"" + px(left + width) + "\" y1=\"" + px(sy(t)) + "\" y2=\"" +
           px(sy(t)) + "\" stroke=\"#ddd\"/>" + text(left - 6, sy(t) + 4, tick_label(t), "end");
  for (double t : xt)
    if (t >= x0 && t <= x1) svg += text(sx(t), top + height + 16, tick_label(t), "middle");
  svg += text(left + width / 2, top + height + 34, c.x_name, "middle");
  for (size_t i = 0; i < c.series.size(); ++i) {
    std::string points;
    for (size_t k = 0; k < c.x.size() && k < c.series[i].y.size(); ++k)
      points += px(sx(c.x[k])) + "," + px(sy(c.series[i].y[k])) + " ";
    const std::string col = colour(series_colour(i));
    svg += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" + col + "\" points=\"" + points + "\"/>";
    const double ly = top + height + 50;
    svg += "<rect x=\"" + px(left + 200.0 * i) + "\" y=\"" + px(ly - 9) + "\" width=\"12\" height=\"3\" fill=\"" + col +
           "\"/>" + text(left + 200.0 * i + 16, ly - 4, c.series[i].name);
  }
  svg += text(4, top + 12, c.y_name);
  return svg + "</svg>";
}

std::string bar_chart_svg(const BarChart& b) {
  const double left = 70, top = 20, height = 200;
  const double bar_w = std::clamp(800.0 / std::max<size_t>(b.values.size(), 1), 4.0, 60.0);
  const std::vector<double> yt = b.y_ticks();
  const double top_value = yt.back();
  const auto sy = [&](double y) { return top + height - y / top_value * height; };
  const double width = bar_w * static_cast<double>(b.values.size());
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(left + width + 20) + "\" height=\"" +
                    px(top + height + 40) + "\">";
  for (double t : yt)
    svg += "<line x1=\"" + px(left) + "\" x2=\"" + px(left + width) + "\" y1=\"" + px(sy(t)) + "\" y2=\"" +
           px(sy(t)) + "\" stroke=\"#ddd\"/>" + text(left - 6, sy(t) + 4, tick_label(t), "end");
  for (size_t i = 0; i < b.values.size(); ++i) {
    const double x = left + bar_w * static_cast<double>(i);
    svg += "<rect x=\"" + px(x + 1) + "\" y=\"" + px(sy(b.values[i])) + "\" width=\"" + px(bar_w - 2) +
           "\" height=\"" + px(top + height - sy(b.values[i])) + "\" fill=\"" + colour(series_colour(0)) + "\"><title>" + escape(b.labels[i]) +
           ": " + format_number(b.values[i]) + "</title></rect>";
    if (bar_w >= 14 || i % 8 == 0) svg += text(x + bar_w / 2, top + height + 16, b.labels[i], "middle");
  }
  svg += text(4, top - 6, b.y_name);
  return svg + "</svg>";
}

struct HtmlBlock {
  std::string& html;
  void operator()(const std::string& paragraph) const { html += "<p>" + escape(paragraph) + "</p>\n"; }
  void operator()(const Table& t) const {
    html += "<table><thead><tr>";
    for (const std::string& h : t.header) html += "<th>" + escape(h) + "</th>";
    html += "</tr></thead><tbody>\n";
    for (const auto& row : t.rows) {
      html += "<tr>";
      for (const std::string& c : row) html += "<td>" + escape(c) + "</td>";
      html += "</tr>\n";
    }
    html += "</tbody></table>\n";
  }
  void operator()(const Figure& f) const {
    html += "<figure>";
    if (const auto* h = std::get_if<Heatmap>(&f.chart)) html += heatmap_svg(*h);
    if (const auto* l = std::get_if<LineChart>(&f.chart)) html += line_chart_svg(*l);
    if (const auto* b = std::get_if<BarChart>(&f.chart)) html += bar_chart_svg(*b);
    html += "<figcaption>" + escape(f.caption) + "</figcaption></figure>\n";
  }
};

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f0f0f0}"
    "td:first-child,th:first-child{text-align:left}figure{margin:1em 0}"
    "figcaption{font-size:0.85em;color:#555}svg text{font-size:10px;font-family:sans-serif}";

}  // namespace

std::string render_html(const Report& r) {
  const Document d = layout_report(r);
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(d.title) +
                     "</title><style>" + kStyle + "</style></head><body>\n<h1>" + escape(d.title) + "</h1>\n";
  for (const Section& s : d.sections) {
    html += "<h2>" + escape(s.title) + "</h2>\n";
    for (const Block& b : s.blocks) std::visit(HtmlBlock{html}, b);
  }
  return html + "</body></html>\n";
}

}  // namespace moeprof::report
