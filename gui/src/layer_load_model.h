// Tokens per layer (rows) and expert (columns) over a selection, with each layer's imbalance
// (max/mean, from analysis::load_stats) in a last column: the data of the layer x expert
// heatmap.
#pragma once

#include "heatmap_model.h"
#include "trace_queries.h"

namespace moeprof::gui {

class LayerLoadModel : public HeatmapModel {
  Q_OBJECT

 public:
  enum Roles {
    kImbalanceRole = kFirstFreeRole,  // double: the layer's max/mean (any column)
  };

  using HeatmapModel::HeatmapModel;
  void set_load(const LayerLoad& load);
  const LayerLoad& load() const { return load_; }
  int expert_columns() const { return load_.matrix.num_experts; }
  // The last column: the layer's imbalance.
  int imbalance_column() const { return load_.matrix.num_experts; }

  int value_columns() const override { return expert_columns(); }
  double value(int row, int column) const override;
  QString side_text(int row) const override;
  QString side_title() const override { return tr("max/mean"); }
  QString caption() const override { return tr("tokens per expert; rows: layers, columns: experts"); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  LayerLoad load_;
};

}  // namespace moeprof::gui
