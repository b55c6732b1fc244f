// The communication and placement views: their models (under QAbstractItemModelTester, fatal
// on any violation) show the load report's numbers, which agree with the overlap measured
// from the raw spans; the bar chart paints each value in its series' colour at its height.
#include <QAbstractItemModelTester>
#include <QImage>

#include "../collector/temp_dir.h"
#include "bar_chart_view.h"
#include "chart_model.h"
#include "moeprof/analysis/comm_overlap.h"
#include "moeprof/synth/synth.h"

namespace moeprof::gui {
namespace {

// DeepSeek-V3's shape on 3 layers: its shared expert computes during the dispatch, so the
// trace has overlapped and exposed communication.
class OverlapTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    synth::Options o;
    o.shape = *synth::find_shape("deepseek-v3");
    o.shape.num_layers = 3;
    o.ranks = 4;
    o.steps = 40;  // more than one summary window
    o.tokens_per_rank = 256;
    o.zipf_skew = 1.2;
    const std::string path = dir_.file("t.db");
    std::string error;
    ASSERT_TRUE(synth::generate(o, path, &error)) << error;
    reader_ = store::Reader::open(path, &error);
    ASSERT_TRUE(reader_) << error;
    report_ = load_report(*reader_, {});
  }
  moeprof::testing::TempDir dir_;
  std::unique_ptr<store::Reader> reader_;
  ReportPtr report_;
};

TEST_F(OverlapTrace, CommModelShowsTheOverlapMeasuredFromTheSpans) {
  CommOverlapModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.set_report(report_);
  const std::vector<analysis::LayerOverlap> measured = analysis::overlap_by_layer(analysis::compute_overlap(*reader_, {}));
  ASSERT_EQ(model.rowCount(), 3);
  ASSERT_EQ(measured.size(), 3u);
  for (int row = 0; row < 3; ++row) {
    const analysis::OverlapStats& m = measured[static_cast<size_t>(row)].stats;
    EXPECT_GT(m.overlapped_ns, 0);
    EXPECT_GT(m.exposed_comm_ns, 0);
    EXPECT_EQ(model.data(model.index(row, CommOverlapModel::kLayerColumn)).toString(), QString::number(row));
    EXPECT_DOUBLE_EQ(model.data(model.index(row, CommOverlapModel::kOverlappedColumn), ChartModel::kValueRole).toDouble(),
                     static_cast<double>(m.overlapped_ns) / 1e6);
    EXPECT_DOUBLE_EQ(model.value(row, CommOverlapModel::kExposedColumn), static_cast<double>(m.exposed_comm_ns) / 1e6);
    EXPECT_DOUBLE_EQ(model.value(row, CommOverlapModel::kOverlapColumn), 100 * m.overlap());
  }
  EXPECT_TRUE(model.caption().contains(QStringLiteral("%1 ms exposed").arg(static_cast<double>(report_->comm.exposed_comm_ns) / 1e6, 0, 'f', 3)));
}

TEST_F(OverlapTrace, PlacementModelShowsRanksBeforeAndAfterTheSuggestion) {
  PlacementModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  model.set_report(report_);
  ASSERT_EQ(model.rowCount(), 4);
  double before = 0, after = 0, busiest_before = 0, busiest_after = 0;
  for (int rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(model.value(rank, PlacementModel::kBeforeColumn), report_->tokens_per_rank[static_cast<size_t>(rank)]);
    before += model.value(rank, PlacementModel::kBeforeColumn);
    after += model.value(rank, PlacementModel::kAfterColumn);
    busiest_before = std::max(busiest_before, model.value(rank, PlacementModel::kBeforeColumn));
    busiest_after = std::max(busiest_after, model.value(rank, PlacementModel::kAfterColumn));
  }
  EXPECT_NEAR(after, before, 1e-6 * before);  // experts move, tokens do not vanish
  EXPECT_LT(busiest_after, busiest_before);   // the skewed load gets more even
  EXPECT_TRUE(model.caption().startsWith(QStringLiteral("Suggested placement")));
}

TEST_F(OverlapTrace, BarChartPaintsEachValueInItsColourAtItsHeight) {
  CommOverlapModel model;
  model.set_report(report_);
  BarChartView view;
  view.resize(800, 500);
  view.set_model(&model);
  const QImage image = view.grab().toImage();
  const std::vector<ChartSeries> series = model.series();
  for (int row = 0; row < model.rowCount(); ++row) {
    const QRect overlapped = view.bar_rect(row, 0), exposed = view.bar_rect(row, 1);
    EXPECT_EQ(QColor(image.pixel(overlapped.center())), series[0].colour);
    EXPECT_EQ(QColor(image.pixel(exposed.center())), series[1].colour);
    EXPECT_EQ(exposed.bottom() + 1, overlapped.top());  // stacked
    const double ratio = model.value(row, CommOverlapModel::kExposedColumn) / model.value(row, CommOverlapModel::kOverlappedColumn);
    EXPECT_NEAR(static_cast<double>(exposed.height()) / overlapped.height(), ratio, 0.05 * ratio + 2.0 / overlapped.height());
    EXPECT_EQ(view.row_at(overlapped.center()), row);
  }
  PlacementModel placement;
  placement.set_report(report_);
  view.set_model(&placement);
  const QImage grouped = view.grab().toImage();
  EXPECT_EQ(view.bar_rect(0, 0).right() + 2, view.bar_rect(0, 1).left());  // side by side
  EXPECT_EQ(QColor(grouped.pixel(view.bar_rect(1, 1).center())), placement.series()[1].colour);
}

}  // namespace
}  // namespace moeprof::gui
