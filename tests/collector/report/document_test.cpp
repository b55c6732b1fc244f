// The layout shared by the Markdown, HTML and PDF reports: what it shows of a hand-made
// report, the chart helpers, and that HTML escapes what it is given.
#include "document.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace moeprof::report {
namespace {

Report two_layer_report() {
  Report r;
  r.run.command = "engine --flag <a&b>";
  r.run.host = "node1";
  r.num_ranks = 2;
  for (int32_t layer = 0; layer < 2; ++layer) {
    LayerReport& l = r.layers.emplace_back();
    l.layer = layer;
    l.tokens_per_expert = {10.0 * (layer + 1), 30, 0, 40};
    l.load = analysis::load_stats(l.tokens_per_expert);
    l.tokens_per_rank = {40, 40};
  }
  r.tokens_per_rank = {90, 90};
  r.expert_slots = {4, 4};
  r.bytes_per_expert = 1024.0 * 1024 * 1024;  // 1 GiB
  r.over_time = {{0, 4, 100, 1.5, 2.0}, {5, 9, 80, 1.25, 1.75}};
  return r;
}

const Section* find_section(const Document& d, const std::string& title) {
  for (const Section& s : d.sections)
    if (s.title == title) return &s;
  return nullptr;
}

template <class T>
std::vector<const T*> blocks_of(const Section& s) {
  std::vector<const T*> out;
  for (const Block& b : s.blocks)
    if (const auto* t = std::get_if<T>(&b)) out.push_back(t);
  return out;
}

TEST(ReportDocument, ShowsEveryLayerInTheTableAndTheHeatmap) {
  const Document d = layout_report(two_layer_report());
  const Section* load = find_section(d, "Expert load");
  ASSERT_NE(load, nullptr);
  const auto tables = blocks_of<Table>(*load);
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_EQ(tables[0]->rows.size(), 2u);
  EXPECT_EQ(tables[0]->rows[1][0], "1");
  EXPECT_EQ(tables[0]->rows[1][2], format_number(two_layer_report().layers[1].load.imbalance));
  for (const auto& row : tables[0]->rows) EXPECT_EQ(row.size(), tables[0]->header.size());
  const auto figures = blocks_of<Figure>(*load);
  ASSERT_EQ(figures.size(), 2u);  // heatmap, imbalance over time
  const auto& heat = std::get<Heatmap>(figures[0]->chart);
  EXPECT_EQ(heat.columns, 4);
  EXPECT_EQ(heat.values[1], (std::vector<double>{20, 30, 0, 40}));
  const auto& line = std::get<LineChart>(figures[1]->chart);
  EXPECT_EQ(line.x, (std::vector<double>{0, 5}));
  EXPECT_EQ(line.series[1].y, (std::vector<double>{2.0, 1.75}));
}

TEST(ReportDocument, RanksShowMemoryOnlyWhenTheExpertSizeIsKnown) {
  Report r = two_layer_report();
  const auto rank_rows = [](const Report& report) {
    const Document d = layout_report(report);
    return blocks_of<Table>(*find_section(d, "Ranks"))[0]->rows;
  };
  EXPECT_EQ(rank_rows(r)[0], (std::vector<std::string>{"0", "90.0000", "-", "4", "4.0000"}));  // no suggestion
  r.tokens_per_rank_after = {100, 80};
  EXPECT_EQ(rank_rows(r)[1][2], "80.0000");
  r.bytes_per_expert = 0;
  EXPECT_EQ(rank_rows(r)[1][4], "-");
}

TEST(ReportDocument, CoactivationOnlyWithRouterDecisions) {
  Report r = two_layer_report();
  EXPECT_EQ(find_section(layout_report(r), "Co-activation"), nullptr);
  r.layers[1].routed_tokens = 50;
  r.layers[1].top_pairs = {{0, 3, 20}, {1, 3, 5}};
  const Document d = layout_report(r);
  const Section* c = find_section(d, "Co-activation");
  ASSERT_NE(c, nullptr);
  const auto rows = blocks_of<Table>(*c)[0]->rows;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "0 + 3", "20", "0.4000"}));
}

TEST(ReportCharts, AxisTicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(axis_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const std::vector<double> t = axis_ticks(1, 3.57, 5);
  EXPECT_LE(t.front(), 1);
  EXPECT_GE(t.back(), 3.57);
  EXPECT_GE(axis_ticks(5, 5, 4).size(), 2u);  // an empty range still gets an axis
  const std::vector<double> big = axis_ticks(0, 415061, 4);
  EXPECT_GE(big.back(), 415061);
  EXPECT_LE(big.size(), 7u);
}

TEST(ReportCharts, HeatColourRunsDarkToLightAndClamps) {
  const Rgb low = heat_colour(0), high = heat_colour(1);
  EXPECT_LT(low.r + low.g + low.b, high.r + high.g + high.b);
  const Rgb below = heat_colour(-3), above = heat_colour(7);
  EXPECT_EQ(below.g, low.g);
  EXPECT_EQ(above.g, high.g);
}

TEST(ReportHtml, EscapesTextAndHoldsNoExternalReference) {
  const std::string html = render_html(two_layer_report());
  EXPECT_NE(html.find("engine --flag &lt;a&amp;b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<a&b>"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(ReportPdf, IsAPdfWithPages) {
  const std::string pdf = render_pdf(two_layer_report());
  ASSERT_GT(pdf.size(), 1000u);
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
  EXPECT_NE(pdf.find("/Type /Page"), std::string::npos);
}

}  // namespace
}  // namespace moeprof::report
