#include "overview_model.h"

#include <set>

#include "moeprof/cli/names.h"

namespace moeprof::gui {
namespace {

QString number_text(double v) { return QString::number(v, 'f', 4); }

}  // namespace

void OverviewModel::set_overview(const TraceOverview& o) {
  beginResetModel();
  rows_.clear();
  const auto text = [&](const QString& property, const QString& value) { rows_.push_back({property, value, {}}); };
  const auto number = [&](const QString& property, double value, const QString& shown) {
    rows_.push_back({property, shown, value});
  };
  text(tr("File"), o.path);
  text(tr("Command"), QString::fromStdString(o.run.command));
  text(tr("Host"), QString::fromStdString(o.run.host));
  text(tr("moeprof"), QString::fromStdString(o.run.moeprof_version));
  text(tr("Finished"), o.run.finalized ? tr("yes, exit code %1").arg(o.run.exit_code) : tr("no (still recording?)"));
  text(tr("Router decisions"), QString::fromStdString(o.run.routing_mode));
  // Per source "name" (older traces), or "name: N recorded, M dropped".
  QStringList sources;
  for (const store::SourceTally& t : o.tallies) {
    QString entry = QString::fromStdString(cli::source_name(t.source));
    if (t.recorded) entry += tr(": %L1 recorded, %L2 dropped").arg(*t.recorded).arg(t.dropped);
    else if (t.dropped != 0) entry += tr(": %L1 dropped").arg(t.dropped);
    sources << entry;
  }
  text(tr("Capture sources"), !o.sources && sources.isEmpty() ? tr("not noted (a trace of an older moeprof)")
                              : sources.isEmpty()            ? tr("none")
                                                             : sources.join(QStringLiteral("; ")));
  if (o.model)
    text(tr("Model"), tr("%1: %2 layers, %3 experts, top-%4, %5 shared, hidden %6")
                          .arg(QString::fromStdString(o.model->name))
                          .arg(o.model->num_layers)
                          .arg(o.model->num_experts)
                          .arg(o.model->top_k)
                          .arg(o.model->num_shared_experts)
                          .arg(o.model->hidden_size));
  std::set<int32_t> ranks;
  for (const store::ProcessInfo& p : o.processes) ranks.insert(p.rank);
  number(tr("Ranks"), static_cast<double>(ranks.size()), QString::number(ranks.size()));
  number(tr("Processes"), static_cast<double>(o.processes.size()), QString::number(o.processes.size()));
  text(tr("Steps"), o.steps ? tr("%1 to %2").arg(o.steps->first).arg(o.steps->second) : tr("none"));
  number(tr("Expert-load rows"), static_cast<double>(o.counts.expert_load), QString::number(o.counts.expert_load));
  number(tr("All-to-all rows"), static_cast<double>(o.counts.all_to_all), QString::number(o.counts.all_to_all));
  number(tr("Compute span rows"), static_cast<double>(o.counts.compute_spans), QString::number(o.counts.compute_spans));
  number(tr("Router decision rows"), static_cast<double>(o.counts.router_decisions),
         QString::number(o.counts.router_decisions));
  number(tr("Events dropped by the agent"), static_cast<double>(o.counts.dropped), QString::number(o.counts.dropped));
  text(tr("Window summaries"), o.summarised ? tr("yes") : tr("no (views read every event)"));
  const analysis::LoadStats& l = o.all_layers;
  number(tr("Routed tokens (all layers)"), l.total, QString::number(l.total, 'f', 0));
  number(tr("Imbalance max/mean (all layers)"), l.imbalance, number_text(l.imbalance));
  number(tr("Balancedness mean/max"), l.balancedness, number_text(l.balancedness));
  number(tr("Gini"), l.gini, number_text(l.gini));
  number(tr("Dead experts"), static_cast<double>(l.dead_experts.size()), QString::number(l.dead_experts.size()));
  endResetModel();
}

int OverviewModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int OverviewModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant OverviewModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& row = rows_[static_cast<size_t>(index.row())];
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole)
    return index.column() == kPropertyColumn ? row.property : row.value;
  if (role == kNumberRole && index.column() == kValueColumn) return row.number;
  return {};
}

QVariant OverviewModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || orientation != Qt::Horizontal) return {};
  return section == kPropertyColumn ? tr("Property") : section == kValueColumn ? tr("Value") : QVariant();
}

}  // namespace moeprof::gui
