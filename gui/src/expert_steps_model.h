// One layer's tokens per expert (rows) over runs of steps (columns): the expert x step heatmap
// that shows load moving over time (drift, collapse, hot experts). Beside each expert, its
// share of the layer's tokens over the whole selection.
#pragma once

#include "heatmap_model.h"
#include "trace_queries.h"

namespace moeprof::gui {

class ExpertStepsModel : public HeatmapModel {
  Q_OBJECT

 public:
  using HeatmapModel::HeatmapModel;
  void set_steps(const ExpertSteps& steps);
  const ExpertSteps& steps() const { return steps_; }

  int value_columns() const override { return columnCount(); }
  double value(int row, int column) const override;
  QString side_text(int row) const override;
  QString side_title() const override { return tr("share"); }
  QString caption() const override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  ExpertSteps steps_;
  std::vector<double> run_totals_, expert_totals_;
  double total_ = 0;
};

}  // namespace moeprof::gui
