// The report laid out once for the formats people read (Markdown, HTML, PDF): sections of
// paragraphs, tables and charts, every number already formatted here, so each format shows
// the same text and a test can find the JSON's numbers in all of them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "moeprof/report/report.h"

namespace moeprof::report {

struct Rgb {
  double r, g, b;  // 0..1
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Rows x columns of values, coloured by value ÷ its row's mean (1 = a perfectly balanced
// expert), so hot and cold experts stand out in every layer alike.
struct Heatmap {
  std::string row_name, column_name;
  std::vector<std::string> row_labels;
  int32_t columns = 0;
  std::vector<std::vector<double>> values;  // [row][column]
  double scale_max = 4;                     // value ÷ row mean at the top of the colour scale

  // The colour of each cell of `row`.
  std::vector<Rgb> row_colours(size_t row) const;
};

// One or more series over a shared x axis.
struct LineChart {
  std::string x_name, y_name;
  std::vector<double> x;
  struct Series {
    std::string name;
    std::vector<double> y;
  };
  std::vector<Series> series;

  // [first x, last x], at least 1 wide.
  std::pair<double, double> x_range() const;
  // Round ticks covering every series' values and 1 (a ratio's perfect balance).
  std::vector<double> y_ticks() const;
};

struct BarChart {
  std::string y_name;
  std::vector<std::string> labels;
  std::vector<double> values;

  // Round ticks from 0 to at least the tallest bar.
  std::vector<double> y_ticks() const;
};

struct Figure {
  std::string caption;
  std::variant<Heatmap, LineChart, BarChart> chart;
};

using Block = std::variant<std::string, Table, Figure>;  // a string is a paragraph

struct Section {
  std::string title;
  std::vector<Block> blocks;
};

struct Document {
  std::string title;
  std::vector<Section> sections;
};

Document layout_report(const Report& report);

// Numbers as every format shows them: 4 decimals (tests match this text against the JSON).
std::string format_number(double value);

// The heatmap's colour at t in [0, 1] (clamped): dark blue through teal to yellow.
Rgb heat_colour(double t);

// The colour of a chart's i-th series (and of bars: the first).
Rgb series_colour(size_t i);

// About `count` round tick values covering [low, high] (at least two).
std::vector<double> axis_ticks(double low, double high, int count);
// A tick value as an axis shows it: short, no trailing zeros.
std::string tick_label(double value);

}  // namespace moeprof::report
