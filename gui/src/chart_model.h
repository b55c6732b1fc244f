// What BarChartView paints: a table model with a label column and value columns, each value
// also available raw under kValueRole. The communication and placement views are two of them,
// both reading the selection's load report (never computing a metric themselves).
#pragma once

#include <QAbstractTableModel>
#include <QColor>
#include <QStringList>
#include <vector>

#include "trace_queries.h"

namespace moeprof::gui {

// A value column drawn as bars, in its colour.
struct ChartSeries {
  int column;
  QColor colour;
};

class ChartModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Roles { kValueRole = Qt::UserRole + 1 };  // double: the cell's value (value columns)

  explicit ChartModel(QStringList headers, QObject* parent = nullptr);
  void set_report(ReportPtr report);
  const ReportPtr& report() const { return report_; }
  virtual double value(int row, int column) const = 0;  // column >= 1
  virtual QString unit() const = 0;                     // of the values, for the axis
  virtual QString caption() const = 0;                  // one line: what the chart says
  virtual std::vector<ChartSeries> series() const = 0;  // the bars of a row
  virtual bool stacked() const = 0;                     // parts of a whole, or side by side

  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 protected:
  virtual QString row_label(int row) const = 0;  // column 0

 private:
  QStringList headers_;
  ReportPtr report_;
};

// Per layer: time communicating, the part overlapped by compute and the exposed part (ms),
// and the overlap share; over all ranks of the selection.
class CommOverlapModel : public ChartModel {
  Q_OBJECT

 public:
  enum Columns { kLayerColumn, kCommColumn, kOverlappedColumn, kExposedColumn, kOverlapColumn };
  explicit CommOverlapModel(QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  double value(int row, int column) const override;
  QString unit() const override { return tr("ms"); }
  QString caption() const override;
  std::vector<ChartSeries> series() const override;
  bool stacked() const override { return true; }

 protected:
  QString row_label(int row) const override;
};

// Per rank: tokens (summed over layers) under the recorded placement and under the
// suggested one.
class PlacementModel : public ChartModel {
  Q_OBJECT

 public:
  enum Columns { kRankColumn, kBeforeColumn, kAfterColumn };
  explicit PlacementModel(QObject* parent = nullptr);
  int rowCount(const QModelIndex& parent = {}) const override;
  double value(int row, int column) const override;
  QString unit() const override { return tr("tokens"); }
  QString caption() const override;
  std::vector<ChartSeries> series() const override;
  bool stacked() const override { return false; }

 protected:
  QString row_label(int row) const override;
};

}  // namespace moeprof::gui
