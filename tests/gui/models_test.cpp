// The viewer's models hold exactly collector/analysis's numbers, and behave as Qt models must
// (QAbstractItemModelTester, fatal on any violation).
#include <QAbstractItemModelTester>
#include <numeric>

#include "expert_steps_model.h"
#include "gui_fixture.h"
#include "layer_load_model.h"
#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/analysis/load_over_time.h"
#include "overview_model.h"
#include "volume_model.h"
#include "trace_queries.h"

namespace moeprof::gui {
namespace {

using testing::GuiTrace;

TEST_F(GuiTrace, LayerLoadModelHoldsTheAnalysisMatrix) {
  LayerLoadModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  LoadSelection selection;
  selection.step_begin = 5;
  selection.step_end = 30;
  selection.rank = 1;
  model.set_load(load_layer_load(*reader_, selection));
  const analysis::ExpertLoadMatrix direct = analysis::expert_load_matrix(*reader_, {.rank = 1, .step_begin = 5, .step_end = 30});
  ASSERT_EQ(model.rowCount(), 6);
  ASSERT_EQ(model.columnCount(), 8 + 1);
  for (int layer = 0; layer < 6; ++layer) {
    const double total = std::accumulate(direct.tokens[layer].begin(), direct.tokens[layer].end(), 0.0);
    ASSERT_GT(total, 0);
    double shares = 0;
    for (int expert = 0; expert < 8; ++expert) {
      const QModelIndex cell = model.index(layer, expert);
      EXPECT_EQ(cell.data(LayerLoadModel::kTokensRole).toDouble(), direct.tokens[layer][expert]);
      EXPECT_EQ(cell.data().toString(), QString::number(direct.tokens[layer][expert], 'f', 0));
      shares += cell.data(LayerLoadModel::kShareRole).toDouble();
    }
    EXPECT_NEAR(shares, 1.0, 1e-12);
    const double busiest = *std::max_element(direct.tokens[layer].begin(), direct.tokens[layer].end());
    EXPECT_DOUBLE_EQ(model.index(layer, model.imbalance_column()).data(LayerLoadModel::kImbalanceRole).toDouble(),
                     busiest / (total / 8));
    EXPECT_TRUE(model.index(layer, 3).data(Qt::ToolTipRole).toString().contains(QStringLiteral("layer %1").arg(layer)));
  }
  EXPECT_EQ(model.headerData(model.imbalance_column(), Qt::Horizontal).toString(), QStringLiteral("imbalance"));
  model.set_load({});  // reset to empty: still a valid model
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_EQ(model.columnCount(), 0);
}

TEST_F(GuiTrace, ExpertStepsModelHoldsOneLayerOverTime) {
  ExpertStepsModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  LoadSelection selection;
  selection.step_begin = 4;
  selection.step_end = 36;
  model.set_steps(load_expert_steps(*reader_, selection, 3));
  const store::Filter filters[] = {{.layer = 3, .step_begin = 4, .step_end = 36}};
  const analysis::LoadOverTime direct = analysis::load_over_time(*reader_, filters, kExpertStepRuns);
  ASSERT_EQ(model.rowCount(), 8);                 // experts
  ASSERT_EQ(model.columnCount(), 32);             // a column per step (32 steps <= kExpertStepRuns)
  for (int run = 0; run < model.columnCount(); ++run) {
    double shares = 0;
    for (int expert = 0; expert < 8; ++expert) {
      EXPECT_EQ(model.index(expert, run).data(ExpertStepsModel::kTokensRole).toDouble(), direct.load[run].tokens[3][expert]);
      shares += model.index(expert, run).data(ExpertStepsModel::kShareRole).toDouble();
    }
    EXPECT_NEAR(shares, 1.0, 1e-12);
  }
  EXPECT_EQ(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("step 4"));
  EXPECT_TRUE(model.caption().contains(QStringLiteral("layer 3")));
  // The hot expert of the skewed trace has the largest share beside its row.
  int hot = 0;
  for (int expert = 1; expert < 8; ++expert)
    if (model.value(expert, 0) > model.value(hot, 0)) hot = expert;
  EXPECT_GT(model.side_text(hot).chopped(2).toDouble(), 100.0 / 8);
}

TEST_F(GuiTrace, VolumeModelHoldsTheDispatchMatrixOfTheRows) {
  VolumeModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  LoadSelection selection;
  selection.step_begin = 3;
  selection.step_end = 37;
  model.set_volume(load_rank_volume(*reader_, selection, 4));
  std::vector<store::AllToAllEvent> events;  // the same rows, one by one
  reader_->for_each_all_to_all({.layer = 4, .step_begin = 3, .step_end = 37},
                               [&](const store::AllToAllEvent& e) { events.push_back(e); });
  const analysis::VolumeMatrix direct = analysis::volume_matrix(events, wire::Phase::kDispatch);
  ASSERT_EQ(model.rowCount(), direct.size);
  ASSERT_EQ(model.columnCount(), 2);
  double total = 0;
  for (int from = 0; from < direct.size; ++from)
    for (int to = 0; to < direct.size; ++to) {
      EXPECT_EQ(model.index(from, to).data(VolumeModel::kBytesRole).toDouble(), static_cast<double>(direct.at(from, to)));
      total += model.value(from, to);
    }
  EXPECT_GT(total, 0);
  EXPECT_TRUE(model.caption().contains(QStringLiteral("layer 4")));
  EXPECT_TRUE(model.index(1, 0).data(Qt::ToolTipRole).toString().startsWith(QStringLiteral("rank 1 to rank 0")));
}

TEST_F(GuiTrace, OverviewModelShowsTheRunAndHeadlineNumbers) {
  OverviewModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  const TraceOverview overview = load_overview(*reader_);
  model.set_overview(overview);
  ASSERT_EQ(model.columnCount(), OverviewModel::kColumnCount);
  const auto value_of = [&](const QString& property) -> QModelIndex {
    for (int row = 0; row < model.rowCount(); ++row)
      if (model.index(row, OverviewModel::kPropertyColumn).data().toString() == property)
        return model.index(row, OverviewModel::kValueColumn);
    ADD_FAILURE() << property.toStdString() << " not shown";
    return {};
  };
  EXPECT_EQ(value_of(QStringLiteral("Ranks")).data(OverviewModel::kNumberRole).toDouble(), 2);
  EXPECT_EQ(value_of(QStringLiteral("Steps")).data().toString(), QStringLiteral("0 to 39"));
  EXPECT_TRUE(value_of(QStringLiteral("Model")).data().toString().startsWith(QStringLiteral("mixtral-8x7b: 6 layers")));
  const analysis::LoadStats all = analysis::load_stats(analysis::sum_over_layers(analysis::expert_load_matrix(*reader_, {})));
  EXPECT_EQ(value_of(QStringLiteral("Imbalance max/mean (all layers)")).data(OverviewModel::kNumberRole).toDouble(),
            all.imbalance);
  EXPECT_EQ(value_of(QStringLiteral("Routed tokens (all layers)")).data(OverviewModel::kNumberRole).toDouble(), all.total);
  EXPECT_EQ(value_of(QStringLiteral("Window summaries")).data().toString(), QStringLiteral("yes"));
  EXPECT_EQ(value_of(QStringLiteral("Capture sources")).data().toString(), QStringLiteral("api"));  // synth writes API events
}

TEST(OverviewModelSources, ShowWhatEachSourceRecordedAndDropped) {
  OverviewModel model;
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  TraceOverview o;
  o.sources = std::vector<wire::Source>{wire::Source::kApi, wire::Source::kNccl};
  o.tallies = {{wire::Source::kApi, 1234567, 0}, {wire::Source::kNccl, 12, 3}};
  model.set_overview(o);
  QString shown;
  for (int row = 0; row < model.rowCount(); ++row)
    if (model.index(row, OverviewModel::kPropertyColumn).data().toString() == QStringLiteral("Capture sources"))
      shown = model.index(row, OverviewModel::kValueColumn).data().toString();
  EXPECT_EQ(shown, QStringLiteral("api: %L1 recorded, 0 dropped; nccl: 12 recorded, 3 dropped").arg(1234567));
}

}  // namespace
}  // namespace moeprof::gui
