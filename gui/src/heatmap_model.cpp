#include "heatmap_model.h"

namespace moeprof::gui {

QVariant HeatmapModel::token_cell(int role, double tokens, double share, const QString& where) {
  switch (role) {
    case Qt::DisplayRole:
      return QString::number(tokens, 'f', 0);
    case kTokensRole:
      return tokens;
    case kShareRole:
      return share;
    case Qt::ToolTipRole:
      return tr("%1: %2 tokens, %3 % of the layer").arg(where).arg(tokens, 0, 'f', 0).arg(share * 100, 0, 'f', 2);
    default:
      return {};
  }
}

}  // namespace moeprof::gui
