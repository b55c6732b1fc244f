#include "chart_model.h"

namespace moeprof::gui {

ChartModel::ChartModel(QStringList headers, QObject* parent) : QAbstractTableModel(parent), headers_(std::move(headers)) {}

void ChartModel::set_report(ReportPtr report) {
  beginResetModel();
  report_ = std::move(report);
  endResetModel();
}

int ChartModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(headers_.size()); }

QVariant ChartModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount()) return {};
  const bool label = index.column() == 0;
  switch (role) {
    case Qt::DisplayRole:
      return label ? row_label(index.row()) : QString::number(value(index.row(), index.column()), 'f', 3);
    case kValueRole:
      return label ? QVariant() : QVariant(value(index.row(), index.column()));
    case Qt::TextAlignmentRole:
      return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
    default:
      return {};
  }
}

QVariant ChartModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
  return headers_[section];
}

CommOverlapModel::CommOverlapModel(QObject* parent)
    : ChartModel({tr("layer"), tr("comm (ms)"), tr("overlapped (ms)"), tr("exposed (ms)"), tr("overlap (%)")}, parent) {}

int CommOverlapModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !report() ? 0 : static_cast<int>(report()->layers.size());
}

QString CommOverlapModel::row_label(int row) const { return QString::number(report()->layers[static_cast<size_t>(row)].layer); }

double CommOverlapModel::value(int row, int column) const {
  const analysis::OverlapStats& c = report()->layers[static_cast<size_t>(row)].comm;
  switch (column) {
    case kCommColumn: return static_cast<double>(c.comm_ns) / 1e6;
    case kOverlappedColumn: return static_cast<double>(c.overlapped_ns) / 1e6;
    case kExposedColumn: return static_cast<double>(c.exposed_comm_ns) / 1e6;
    case kOverlapColumn: return 100 * c.overlap();
    default: return 0;
  }
}

std::vector<ChartSeries> CommOverlapModel::series() const {
  return {{kOverlappedColumn, QColor(67, 160, 71)}, {kExposedColumn, QColor(229, 57, 53)}};
}

QString CommOverlapModel::caption() const {
  if (!report()) return {};
  const analysis::OverlapStats& c = report()->comm;
  return tr("All-to-all per layer, every rank: %1 ms communicating, %2 ms overlapped by compute (%3%), %4 ms exposed")
      .arg(static_cast<double>(c.comm_ns) / 1e6, 0, 'f', 3)
      .arg(static_cast<double>(c.overlapped_ns) / 1e6, 0, 'f', 3)
      .arg(100 * c.overlap(), 0, 'f', 1)
      .arg(static_cast<double>(c.exposed_comm_ns) / 1e6, 0, 'f', 3);
}

PlacementModel::PlacementModel(QObject* parent)
    : ChartModel({tr("rank"), tr("tokens now"), tr("tokens after the suggestion")}, parent) {}

int PlacementModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !report() ? 0 : static_cast<int>(report()->tokens_per_rank.size());
}

QString PlacementModel::row_label(int row) const { return QString::number(row); }

double PlacementModel::value(int row, int column) const {
  const std::vector<double>& v = column == kAfterColumn ? report()->tokens_per_rank_after : report()->tokens_per_rank;
  return static_cast<size_t>(row) < v.size() ? v[static_cast<size_t>(row)] : 0.0;
}

std::vector<ChartSeries> PlacementModel::series() const {
  return {{kBeforeColumn, QColor(120, 144, 156)}, {kAfterColumn, QColor(30, 136, 229)}};
}

QString PlacementModel::caption() const {
  if (!report()) return {};
  const report::Report& r = *report();
  if (r.tokens_per_rank_after.empty()) return tr("No placement suggestion for this selection");
  const double gain = r.busiest_before > 0 ? 100 * (1 - r.busiest_after / r.busiest_before) : 0;
  return tr("Suggested placement: busiest rank %1 -> %2 tokens summed over layers (%3% less), balancedness %4 -> %5")
      .arg(r.busiest_before, 0, 'f', 0)
      .arg(r.busiest_after, 0, 'f', 0)
      .arg(gain, 0, 'f', 1)
      .arg(r.balancedness_before, 0, 'f', 3)
      .arg(r.balancedness_after, 0, 'f', 3);
}

}  // namespace moeprof::gui
