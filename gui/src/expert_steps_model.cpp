#include "expert_steps_model.h"

namespace moeprof::gui {

void ExpertStepsModel::set_steps(const ExpertSteps& steps) {
  beginResetModel();
  steps_ = steps;
  const size_t experts = steps_.tokens.empty() ? 0 : steps_.tokens.front().size();
  run_totals_.assign(steps_.tokens.size(), 0.0);
  expert_totals_.assign(experts, 0.0);
  total_ = 0;
  for (size_t run = 0; run < steps_.tokens.size(); ++run)
    for (size_t e = 0; e < experts; ++e) {
      run_totals_[run] += steps_.tokens[run][e];
      expert_totals_[e] += steps_.tokens[run][e];
      total_ += steps_.tokens[run][e];
    }
  endResetModel();
}

int ExpertStepsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(expert_totals_.size());
}

int ExpertStepsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || expert_totals_.empty() ? 0 : static_cast<int>(steps_.tokens.size());
}

double ExpertStepsModel::value(int row, int column) const {
  return steps_.tokens[static_cast<size_t>(column)][static_cast<size_t>(row)];
}

QString ExpertStepsModel::side_text(int row) const {
  return total_ > 0 ? QStringLiteral("%1 %").arg(expert_totals_[static_cast<size_t>(row)] / total_ * 100, 0, 'f', 2)
                    : QStringLiteral("-");
}

QString ExpertStepsModel::caption() const {
  if (steps_.runs.empty()) return tr("layer %1: no expert load").arg(steps_.layer);
  return tr("tokens of layer %1; rows: experts, columns: steps %2 to %3")
      .arg(steps_.layer)
      .arg(steps_.runs.front().first)
      .arg(steps_.runs.back().second);
}

QVariant ExpertStepsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const double tokens = value(index.row(), index.column());
  const double run_total = run_totals_[static_cast<size_t>(index.column())];
  const double share = run_total > 0 ? tokens / run_total : 0.0;
  const auto [first, last] = steps_.runs[static_cast<size_t>(index.column())];
  return token_cell(role, tokens, share,
                    tr("layer %1, expert %2, steps %3 to %4").arg(steps_.layer).arg(index.row()).arg(first).arg(last));
}

QVariant ExpertStepsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return tr("expert %1").arg(section);
  const auto [first, last] = steps_.runs[static_cast<size_t>(section)];
  return first == last ? tr("step %1").arg(first) : tr("steps %1 to %2").arg(first).arg(last);
}

}  // namespace moeprof::gui
