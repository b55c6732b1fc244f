// The rank x rank all-to-all volume: bytes each rank (row) dispatched to each rank (column)
// over a selection, of one layer or all; beside each row the rank's total.
#pragma once

#include "heatmap_model.h"
#include "trace_queries.h"

namespace moeprof::gui {

class VolumeModel : public HeatmapModel {
  Q_OBJECT

 public:
  enum Roles { kBytesRole = kFirstFreeRole };  // double: bytes of the cell

  using HeatmapModel::HeatmapModel;
  void set_volume(const RankVolume& volume);
  const RankVolume& volume() const { return volume_; }

  int value_columns() const override { return columnCount(); }
  double value(int row, int column) const override;
  QString side_text(int row) const override;
  QString side_title() const override { return tr("sent"); }
  QString caption() const override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  double row_total(int row) const;
  RankVolume volume_;
};

}  // namespace moeprof::gui
