#include "volume_model.h"

namespace moeprof::gui {
namespace {

QString gigabytes(double bytes) { return QStringLiteral("%1 GB").arg(bytes / 1e9, 0, 'f', 3); }

}  // namespace

void VolumeModel::set_volume(const RankVolume& volume) {
  beginResetModel();
  volume_ = volume;
  endResetModel();
}

int VolumeModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : volume_.bytes.size; }
int VolumeModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : volume_.bytes.size; }

double VolumeModel::value(int row, int column) const { return static_cast<double>(volume_.bytes.at(row, column)); }

double VolumeModel::row_total(int row) const {
  double total = 0;
  for (int to = 0; to < volume_.bytes.size; ++to) total += value(row, to);
  return total;
}

QString VolumeModel::side_text(int row) const { return gigabytes(row_total(row)); }

QString VolumeModel::caption() const {
  const QString layers = volume_.layer ? tr("layer %1").arg(*volume_.layer) : tr("all layers");
  return tr("bytes dispatched, %1; rows: from rank, columns: to rank").arg(layers);
}

QVariant VolumeModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const double bytes = value(index.row(), index.column());
  switch (role) {
    case Qt::DisplayRole:
      return QString::number(bytes, 'f', 0);
    case kBytesRole:
      return bytes;
    case Qt::ToolTipRole: {
      const double total = row_total(index.row());
      return tr("rank %1 to rank %2: %3 bytes, %4 % of what rank %1 dispatched")
          .arg(index.row())
          .arg(index.column())
          .arg(bytes, 0, 'f', 0)
          .arg(total > 0 ? bytes / total * 100 : 0.0, 0, 'f', 2);
    }
    default:
      return {};
  }
}

QVariant VolumeModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  return orientation == Qt::Vertical ? tr("from rank %1").arg(section) : tr("to rank %1").arg(section);
}

}  // namespace moeprof::gui
