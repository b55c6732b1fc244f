#include "render.h"

#include <QHeaderView>
#include <QPainter>
#include <QSvgGenerator>
#include <QTableView>
#include <memory>

#include "expert_steps_model.h"
#include "heatmap_view.h"
#include "layer_load_model.h"
#include "bar_chart_view.h"
#include "chart_model.h"
#include "overview_model.h"
#include "timeline_view.h"
#include "volume_model.h"

namespace moeprof::gui {
namespace {

// Draws `widget` at the render's size into its file.
bool save(QWidget& widget, const RenderOptions& o, QString* error) {
  widget.resize(o.size);
  widget.ensurePolished();
  return save_widget(widget, o.out, error);
}

}  // namespace

bool save_widget(QWidget& widget, const QString& path, QString* error) {
  if (path.endsWith(QStringLiteral(".svg"), Qt::CaseInsensitive)) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(widget.size());
    svg.setViewBox(widget.rect());
    QPainter painter;
    if (!painter.begin(&svg)) {
      *error = path + QStringLiteral(": cannot write an SVG file");
      return false;
    }
    widget.render(&painter);
    return true;
  }
  if (!widget.grab().save(path, "PNG")) {
    *error = path + QStringLiteral(": cannot write a PNG file");
    return false;
  }
  return true;
}

QStringList render_views() {
  return {QStringLiteral("overview"), QStringLiteral("heatmap"), QStringLiteral("expert-steps"), QStringLiteral("timeline"),
          QStringLiteral("a2a"), QStringLiteral("overlap"), QStringLiteral("placement")};
}

bool render_view(const RenderOptions& o, QString* error) {
  if (!render_views().contains(o.view)) {
    *error = QStringLiteral("unknown view '%1' (this build renders: %2)").arg(o.view, render_views().join(", "));
    return false;
  }
  std::string open_error;
  const std::unique_ptr<store::Reader> reader = store::Reader::open(o.trace.toStdString(), &open_error);
  if (!reader) {
    *error = QString::fromStdString(open_error);
    return false;
  }
  try {
    if (o.view == QStringLiteral("overview")) {
      OverviewModel model;
      model.set_overview(load_overview(*reader));
      QTableView table;
      table.setModel(&model);
      table.horizontalHeader()->setStretchLastSection(true);
      table.verticalHeader()->hide();
      table.resizeColumnToContents(OverviewModel::kPropertyColumn);
      return save(table, o, error);
    }
    if (o.view == QStringLiteral("timeline")) {
      TimelineView view;
      view.set_timeline(load_timeline(*reader, o.selection));
      if (o.layer_given) view.set_highlight_layer(o.layer);
      return save(view, o, error);
    }
    if (o.view == QStringLiteral("overlap") || o.view == QStringLiteral("placement")) {
      CommOverlapModel comm;
      PlacementModel placement;
      ChartModel& model = o.view == QStringLiteral("overlap") ? static_cast<ChartModel&>(comm) : placement;
      model.set_report(load_report(*reader, o.selection));
      BarChartView view;
      view.set_model(&model);
      return save(view, o, error);
    }
    LayerLoadModel layers;
    ExpertStepsModel expert_steps;
    VolumeModel volume;
    HeatmapModel* model = &layers;
    if (o.view == QStringLiteral("heatmap")) {
      layers.set_load(load_layer_load(*reader, o.selection));
    } else if (o.view == QStringLiteral("expert-steps")) {
      expert_steps.set_steps(load_expert_steps(*reader, o.selection, o.layer));
      model = &expert_steps;
    } else {
      volume.set_volume(load_rank_volume(*reader, o.selection, o.layer_given ? std::optional<int32_t>(o.layer) : std::nullopt));
      model = &volume;
    }
    HeatmapView view;
    view.set_scale_mode(o.log_scale ? ColourScale::Mode::kLog : ColourScale::Mode::kLinear);
    view.set_model(model);
    return save(view, o, error);
  } catch (const store::Error& e) {
    *error = QString::fromUtf8(e.what());
    return false;
  }
}

}  // namespace moeprof::gui
