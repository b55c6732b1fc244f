// The run overview as a two-column table (property, value): run metadata, model shape, what
// the trace holds, and the headline load numbers of collector/analysis.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <vector>

#include "trace_queries.h"

namespace moeprof::gui {

class OverviewModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Columns { kPropertyColumn, kValueColumn, kColumnCount };
  enum Roles { kNumberRole = Qt::UserRole + 1 };  // the value as a double, where it is a number

  using QAbstractTableModel::QAbstractTableModel;
  void set_overview(const TraceOverview& overview);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Row {
    QString property, value;
    QVariant number;
  };
  std::vector<Row> rows_;
};

}  // namespace moeprof::gui
