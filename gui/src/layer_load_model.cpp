#include "layer_load_model.h"

namespace moeprof::gui {

void LayerLoadModel::set_load(const LayerLoad& load) {
  beginResetModel();
  load_ = load;
  endResetModel();
}

double LayerLoadModel::value(int row, int column) const {
  return load_.matrix.tokens[static_cast<size_t>(row)][static_cast<size_t>(column)];
}

QString LayerLoadModel::side_text(int row) const { return QString::number(load_.layers[static_cast<size_t>(row)].imbalance, 'f', 4); }

int LayerLoadModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : load_.matrix.num_layers; }

int LayerLoadModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || load_.matrix.num_layers == 0 ? 0 : load_.matrix.num_experts + 1;
}

QVariant LayerLoadModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto layer = static_cast<size_t>(index.row());
  const analysis::LoadStats& stats = load_.layers[layer];
  if (role == kImbalanceRole) return stats.imbalance;
  if (index.column() == imbalance_column()) {
    if (role == Qt::DisplayRole) return QString::number(stats.imbalance, 'f', 4);
    if (role == Qt::ToolTipRole) return tr("layer %1: busiest expert %2x the mean").arg(index.row()).arg(stats.imbalance, 0, 'f', 4);
    return {};
  }
  const double tokens = load_.matrix.tokens[layer][static_cast<size_t>(index.column())];
  const double share = stats.total > 0 ? tokens / stats.total : 0.0;
  return token_cell(role, tokens, share, tr("layer %1, expert %2").arg(index.row()).arg(index.column()));
}

QVariant LayerLoadModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return tr("layer %1").arg(section);
  return section == imbalance_column() ? tr("imbalance") : tr("expert %1").arg(section);
}

}  // namespace moeprof::gui
