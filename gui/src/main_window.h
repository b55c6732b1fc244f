// The viewer's window: opens traces (command line, File > Open, recent files, drag and drop),
// shows the run overview and the layer x expert heatmap over a step range and rank, exports
// the current view, and reports bad files in a dialog without ever writing the trace.
#pragma once

#include <QMainWindow>
#include <QString>

#include "chart_model.h"
#include "expert_steps_model.h"
#include "heatmap_view.h"
#include "layer_load_model.h"
#include "overview_model.h"
#include "timeline_view.h"
#include "trace_loader.h"
#include "volume_model.h"

class QComboBox;
namespace moeprof::gui {
class RangeSlider;
}
class QHBoxLayout;
class QLabel;
class QMenu;
class QProgressBar;
class QSpinBox;
class QTabWidget;
class QTimer;

namespace moeprof::gui {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  MainWindow();
  void open_trace(const QString& path);
  // Re-reads the open trace and the current view (also every 2 s while it is being written).
  void refresh();
  bool is_live() const;
  // Writes the current tab to a PNG or SVG file; false and `error` on failure.
  bool export_view(const QString& path, QString* error);
  void set_selection(const LoadSelection& selection);

  OverviewModel& overview_model() { return overview_; }
  LayerLoadModel& layer_load_model() { return layer_load_; }
  HeatmapView& heatmap() { return *heatmap_; }
  ExpertStepsModel& expert_steps_model() { return expert_steps_; }
  HeatmapView& expert_steps_view() { return *expert_steps_view_; }
  VolumeModel& volume_model() { return volume_; }
  TimelineView& timeline_view() { return *timeline_view_; }
  RangeSlider& step_slider() { return *steps_; }
  CommOverlapModel& comm_model() { return comm_; }
  PlacementModel& placement_model() { return placement_; }
  // Writes the selection's load report (the format from the name's extension: .json, .md,
  // .html, .pdf), loading it first if need be; report_exported tells the outcome.
  void export_report(const QString& path);
  void show_tab(const QString& title);
  int selected_layer() const;
  const QString& last_error() const { return last_error_; }

 Q_SIGNALS:
  void trace_opened(const QString& path);
  void load_shown();
  void expert_steps_shown();
  void volume_shown();
  void timeline_shown();
  void report_shown();
  void report_exported(const QString& path, bool ok);
  void error_shown(const QString& message);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void build_menus();
  QWidget* heatmap_tab(QHBoxLayout* controls, HeatmapView* view, HeatmapModel* model);
  void schedule_load();
  QWidget* build_heatmap_tab();
  QWidget* build_expert_steps_tab();
  QWidget* build_volume_tab();
  QWidget* build_timeline_tab();
  QWidget* build_chart_tab(ChartModel* model);
  void on_report(const ReportPtr& report);
  void write_report(const report::Report& report, const QString& path);
  // Loads what the current tab shows and is older than the selection (the heavy queries run
  // only for the tab in view).
  void load_current_tab();
  void on_opened(const TraceOverview& overview);
  void on_refreshed(const TraceOverview& overview);
  void show_overview(const TraceOverview& overview);
  void fill_ranks(const TraceOverview& overview);
  void set_step_bounds(const TraceOverview& overview);
  void on_loaded(const LayerLoad& load);
  void on_failed(const QString& message);
  void request_load();
  void remember_recent(const QString& path);
  void fill_recent_menu();

  TraceLoader loader_;
  OverviewModel overview_;
  LayerLoadModel layer_load_;
  ExpertStepsModel expert_steps_;
  VolumeModel volume_;
  CommOverlapModel comm_;
  PlacementModel placement_;
  QWidget* comm_tab_ = nullptr;
  QWidget* placement_tab_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  HeatmapView* heatmap_ = nullptr;
  HeatmapView* expert_steps_view_ = nullptr;
  TimelineView* timeline_view_ = nullptr;
  QLabel* timeline_note_ = nullptr;
  QSpinBox* layer_ = nullptr;
  QComboBox* volume_layer_ = nullptr;  // "all layers", then each layer
  QSpinBox* step_begin_ = nullptr;
  QSpinBox* step_end_ = nullptr;
  RangeSlider* steps_ = nullptr;  // the same range as the two spin boxes, dragged
  QComboBox* rank_ = nullptr;
  QComboBox* scale_ = nullptr;
  QLabel* status_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QTimer* reload_ = nullptr;  // coalesces control changes into one load
  QTimer* live_ = nullptr;    // refreshes a trace that is still being written
  QString path_, last_error_;
  LoadSelection selection_;  // of the last load request
  std::optional<LoadSelection> timeline_of_;  // what the timeline shows (or was asked for)
  std::optional<LoadSelection> report_of_;    // likewise, the report
  QString pending_report_path_;               // an export waiting for the report
  bool filling_controls_ = false;
};

}  // namespace moeprof::gui
