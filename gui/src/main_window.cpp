#include "main_window.h"

#include <QAction>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSplitter>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <set>

#include "bar_chart_view.h"
#include "range_slider.h"
#include "render.h"

namespace moeprof::gui {
namespace {

constexpr int kMaxRecent = 8;
const char* const kRecentKey = "recentFiles";

// Whether `report` was built for `selection` (a report still in flight may be of an older one).
bool report_is_of(const report::Report& report, const LoadSelection& selection) {
  const report::Options o = report_options(selection);
  return report.options.step_begin == o.step_begin && report.options.step_end == o.step_end && report.options.ranks == o.ranks;
}

}  // namespace

MainWindow::MainWindow() {
  setWindowTitle(tr("moeprof"));
  setAcceptDrops(true);
  tabs_ = new QTabWidget(this);
  auto* overview = new QTableView;
  overview->setModel(&overview_);
  overview->horizontalHeader()->setStretchLastSection(true);
  overview->verticalHeader()->hide();
  tabs_->addTab(overview, tr("Overview"));
  tabs_->addTab(build_heatmap_tab(), tr("Expert load"));
  tabs_->addTab(build_expert_steps_tab(), tr("Load over time"));
  tabs_->addTab(build_volume_tab(), tr("All-to-all"));
  tabs_->addTab(build_timeline_tab(), tr("Timeline"));
  comm_tab_ = build_chart_tab(&comm_);
  tabs_->addTab(comm_tab_, tr("Communication"));
  placement_tab_ = build_chart_tab(&placement_);
  tabs_->addTab(placement_tab_, tr("Placement"));
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::load_current_tab);
  setCentralWidget(tabs_);
  status_ = new QLabel(tr("Open a trace (File > Open, or drop a .db file here)"));
  progress_ = new QProgressBar;
  progress_->setRange(0, 0);  // busy, not a percentage: queries do not report progress
  progress_->setMaximumWidth(120);
  progress_->hide();
  statusBar()->addWidget(status_, 1);
  statusBar()->addPermanentWidget(progress_);
  build_menus();

  reload_ = new QTimer(this);
  reload_->setSingleShot(true);
  reload_->setInterval(100);
  connect(reload_, &QTimer::timeout, this, &MainWindow::request_load);
  live_ = new QTimer(this);
  live_->setInterval(2000);
  connect(live_, &QTimer::timeout, this, &MainWindow::refresh);
  connect(&loader_, &TraceLoader::opened, this, &MainWindow::on_opened);
  connect(&loader_, &TraceLoader::refreshed, this, &MainWindow::on_refreshed);
  connect(&loader_, &TraceLoader::loaded, this, &MainWindow::on_loaded);
  connect(&loader_, &TraceLoader::expert_steps_loaded, this, [this](const ExpertSteps& steps) {
    expert_steps_.set_steps(steps);
    Q_EMIT expert_steps_shown();
  });
  connect(&loader_, &TraceLoader::volume_loaded, this, [this](const RankVolume& volume) {
    volume_.set_volume(volume);
    Q_EMIT volume_shown();
  });
  connect(&loader_, &TraceLoader::timeline_loaded, this, [this](const TimelinePtr& timeline) {
    timeline_view_->set_timeline(timeline);
    if (timeline->cut && timeline->steps)
      timeline_note_->setText(tr("Showing steps %1-%2 only (at most %L3 spans): narrow the step range to see later steps.")
                                  .arg(timeline->steps->first)
                                  .arg(timeline->steps->second)
                                  .arg(kTimelineSpanBudget));
    else
      timeline_note_->setText(tr("%L1 spans").arg(timeline->span_count));
    Q_EMIT timeline_shown();
  });
  connect(&loader_, &TraceLoader::report_loaded, this, &MainWindow::on_report);
  connect(&loader_, &TraceLoader::failed, this, &MainWindow::on_failed);
  connect(&loader_, &TraceLoader::busy, progress_, &QWidget::setVisible);
  resize(1200, 800);
}

// A tab of `controls` above a heatmap of `model`; a click on a cell shows its tooltip in the
// status bar.
QWidget* MainWindow::heatmap_tab(QHBoxLayout* controls, HeatmapView* view, HeatmapModel* model) {
  auto* tab = new QWidget;
  controls->addStretch(1);
  view->set_model(model);
  auto* layout = new QVBoxLayout(tab);
  layout->addLayout(controls);
  layout->addWidget(view, 1);
  connect(view, &HeatmapView::cell_clicked, this, [this, model](int row, int column) {
    status_->setText(model->data(model->index(row, column), Qt::ToolTipRole).toString());
  });
  return tab;
}

void MainWindow::schedule_load() {
  if (!filling_controls_) reload_->start();
}

QWidget* MainWindow::build_heatmap_tab() {
  auto* controls = new QHBoxLayout;
  step_begin_ = new QSpinBox;
  step_end_ = new QSpinBox;
  for (QSpinBox* s : {step_begin_, step_end_}) s->setRange(0, 0);
  rank_ = new QComboBox;
  scale_ = new QComboBox;
  scale_->addItems({tr("linear"), tr("log")});
  steps_ = new RangeSlider;
  steps_->setMinimumWidth(240);
  controls->addWidget(new QLabel(tr("Steps")));
  controls->addWidget(step_begin_);
  controls->addWidget(steps_, 1);
  controls->addWidget(step_end_);
  controls->addWidget(new QLabel(tr("Rank")));
  controls->addWidget(rank_);
  controls->addWidget(new QLabel(tr("Colour scale")));
  controls->addWidget(scale_);
  heatmap_ = new HeatmapView;
  QWidget* tab = heatmap_tab(controls, heatmap_, &layer_load_);
  // The slider and the spin boxes show one range; either changes it.
  connect(steps_, &RangeSlider::values_changed, this, [this](int64_t lower, int64_t upper) {
    step_begin_->setValue(static_cast<int>(lower));
    step_end_->setValue(static_cast<int>(upper));
  });
  for (QSpinBox* s : {step_begin_, step_end_})
    connect(s, &QSpinBox::valueChanged, this, [this] {
      steps_->set_values(step_begin_->value(), step_end_->value());
      schedule_load();
    });
  connect(rank_, &QComboBox::currentIndexChanged, this, &MainWindow::schedule_load);
  connect(scale_, &QComboBox::currentIndexChanged, this, [this](int index) {
    const ColourScale::Mode mode = index == 1 ? ColourScale::Mode::kLog : ColourScale::Mode::kLinear;
    heatmap_->set_scale_mode(mode);
    expert_steps_view_->set_scale_mode(mode);
  });
  // Linked selection: a layer x expert cell selects that layer and expert over time too.
  connect(heatmap_, &HeatmapView::cell_clicked, this, [this](int layer, int expert) {
    layer_->setValue(layer);
    expert_steps_view_->select_cell(expert, 0);
    timeline_view_->set_highlight_layer(layer);
    volume_layer_->setCurrentIndex(std::max(0, volume_layer_->findData(layer)));
  });
  return tab;
}

QWidget* MainWindow::build_expert_steps_tab() {
  auto* controls = new QHBoxLayout;
  layer_ = new QSpinBox;
  layer_->setRange(0, 0);
  controls->addWidget(new QLabel(tr("Layer")));
  controls->addWidget(layer_);
  controls->addWidget(new QLabel(tr("(steps and rank as on the Expert load tab; click a cell there to pick a layer)")));
  expert_steps_view_ = new HeatmapView;
  connect(layer_, &QSpinBox::valueChanged, this, &MainWindow::schedule_load);
  return heatmap_tab(controls, expert_steps_view_, &expert_steps_);
}

QWidget* MainWindow::build_volume_tab() {
  auto* controls = new QHBoxLayout;
  volume_layer_ = new QComboBox;
  controls->addWidget(new QLabel(tr("Layer")));
  controls->addWidget(volume_layer_);
  controls->addWidget(new QLabel(tr("(dispatch; steps as on the Expert load tab)")));
  connect(volume_layer_, &QComboBox::currentIndexChanged, this, &MainWindow::schedule_load);
  return heatmap_tab(controls, new HeatmapView, &volume_);
}

QWidget* MainWindow::build_timeline_tab() {
  auto* tab = new QWidget;
  auto* controls = new QHBoxLayout;
  auto* reset = new QPushButton(tr("Whole range"));
  timeline_note_ = new QLabel;
  controls->addWidget(new QLabel(tr("Steps and rank as on the Expert load tab; the wheel zooms, a drag pans.")));
  controls->addWidget(timeline_note_);
  controls->addStretch(1);
  controls->addWidget(reset);
  timeline_view_ = new TimelineView;
  connect(reset, &QPushButton::clicked, timeline_view_, &TimelineView::reset_view);
  auto* layout = new QVBoxLayout(tab);
  layout->addLayout(controls);
  layout->addWidget(timeline_view_, 1);
  return tab;
}

// A chart of `model` above the table of its numbers.
QWidget* MainWindow::build_chart_tab(ChartModel* model) {
  auto* chart = new BarChartView;
  chart->set_model(model);
  auto* table = new QTableView;
  table->setModel(model);
  table->verticalHeader()->hide();
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(chart);
  splitter->addWidget(table);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  return splitter;
}

void MainWindow::on_report(const ReportPtr& report) {
  comm_.set_report(report);
  placement_.set_report(report);
  if (!pending_report_path_.isEmpty() && report_is_of(*report, selection_)) {
    write_report(*report, pending_report_path_);
    pending_report_path_.clear();
  }
  Q_EMIT report_shown();
}

void MainWindow::export_report(const QString& path) {
  if (!report::is_format(QFileInfo(path).suffix().toLower().toStdString())) {
    on_failed(tr("%1: a report is written as .json, .md, .html or .pdf").arg(path));
    Q_EMIT report_exported(path, false);
    return;
  }
  if (comm_.report() && report_is_of(*comm_.report(), selection_) && pending_report_path_.isEmpty()) {
    write_report(*comm_.report(), path);
    return;
  }
  pending_report_path_ = path;
  report_of_ = selection_;
  loader_.load_report(selection_);
}

void MainWindow::write_report(const report::Report& report, const QString& path) {
  QString error;
  try {
    const std::string bytes = *report::render(report, QFileInfo(path).suffix().toLower().toStdString());
    QSaveFile file(path);  // all or nothing: never half a report
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes.data(), static_cast<qint64>(bytes.size())) != static_cast<qint64>(bytes.size()) ||
        !file.commit())
      error = tr("%1: cannot write the report (%2)").arg(path, file.errorString());
  } catch (const std::runtime_error& e) {
    error = tr("%1: %2").arg(path, QString::fromUtf8(e.what()));
  }
  if (error.isEmpty())
    status_->setText(tr("Report written to %1").arg(path));
  else
    on_failed(error);
  Q_EMIT report_exported(path, error.isEmpty());
}

void MainWindow::show_tab(const QString& title) {
  for (int i = 0; i < tabs_->count(); ++i)
    if (tabs_->tabText(i) == title) tabs_->setCurrentIndex(i);
}

void MainWindow::load_current_tab() {
  if (path_.isEmpty()) return;
  const QWidget* tab = tabs_->currentWidget();
  if (tab == timeline_view_->parentWidget() && timeline_of_ != selection_) {
    timeline_of_ = selection_;
    loader_.load_timeline(selection_);
  }
  if ((tab == comm_tab_ || tab == placement_tab_) && report_of_ != selection_) {
    report_of_ = selection_;
    loader_.load_report(selection_);
  }
}

int MainWindow::selected_layer() const { return layer_->value(); }

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open..."), QKeySequence::Open, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a trace"), {}, tr("moeprof traces (*.db);;All files (*)"));
    if (!path.isEmpty()) open_trace(path);
  });
  recent_menu_ = file->addMenu(tr("Open &Recent"));
  fill_recent_menu();
  file->addAction(tr("&Export view..."), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the view"), {}, tr("PNG image (*.png);;SVG image (*.svg)"));
    QString error;
    if (!path.isEmpty() && !export_view(path, &error)) on_failed(error);
  });
  file->addAction(tr("Export &report..."), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the load report of the selection"), {},
                                                      tr("HTML (*.html);;PDF (*.pdf);;Markdown (*.md);;JSON (*.json)"));
    if (!path.isEmpty()) export_report(path);
  });
  file->addAction(tr("Re&fresh"), QKeySequence::Refresh, this, &MainWindow::refresh);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
}

void MainWindow::open_trace(const QString& path) {
  path_ = path;
  timeline_of_.reset();
  report_of_.reset();
  status_->setText(tr("Opening %1...").arg(path));
  loader_.open(path);
}

void MainWindow::refresh() {
  if (!path_.isEmpty()) loader_.refresh();
}

bool MainWindow::is_live() const { return live_->isActive(); }

// The overview, and the refresh timer running exactly while the run is still recording.
void MainWindow::show_overview(const TraceOverview& o) {
  overview_.set_overview(o);
  layer_->setRange(0, o.model ? std::max(0, o.model->num_layers - 1) : 0);
  const bool filling = filling_controls_;
  filling_controls_ = true;
  const QVariant volume_layer = volume_layer_->currentData();
  volume_layer_->clear();
  volume_layer_->addItem(tr("all layers"), -1);
  for (int l = 0; o.model && l < o.model->num_layers; ++l) volume_layer_->addItem(QString::number(l), l);
  volume_layer_->setCurrentIndex(std::max(0, volume_layer_->findData(volume_layer)));
  filling_controls_ = filling;
  if (o.run.finalized)
    live_->stop();
  else if (!live_->isActive())
    live_->start();
}

void MainWindow::on_refreshed(const TraceOverview& o) {
  show_overview(o);
  timeline_of_.reset();  // the trace may have grown
  report_of_.reset();
  // Keep the selection; a range that reached the last step follows the trace as it grows.
  filling_controls_ = true;
  const bool at_end = step_end_->value() == step_end_->maximum();
  set_step_bounds(o);
  if (at_end) step_end_->setValue(step_end_->maximum());
  fill_ranks(o);
  filling_controls_ = false;
  request_load();
}

// The step controls span the trace's steps (0 to 0 without any).
void MainWindow::set_step_bounds(const TraceOverview& o) {
  const int first = o.steps ? static_cast<int>(o.steps->first) : 0, last = o.steps ? static_cast<int>(o.steps->second) : 0;
  for (QSpinBox* s : {step_begin_, step_end_}) s->setRange(first, last);
  steps_->set_range(first, last);
  steps_->set_values(step_begin_->value(), step_end_->value());
}

// The rank choices: all, then every rank of the trace; the current choice kept.
void MainWindow::fill_ranks(const TraceOverview& o) {
  const QVariant current = rank_->currentData();
  rank_->clear();
  rank_->addItem(tr("all"), -1);
  std::set<int32_t> ranks;
  for (const store::ProcessInfo& p : o.processes) ranks.insert(p.rank);
  for (int32_t r : ranks) rank_->addItem(QString::number(r), r);
  rank_->setCurrentIndex(std::max(0, rank_->findData(current)));
}

void MainWindow::on_opened(const TraceOverview& o) {
  show_overview(o);
  setWindowTitle(tr("moeprof - %1").arg(QFileInfo(o.path).fileName()));
  remember_recent(o.path);
  filling_controls_ = true;
  set_step_bounds(o);
  step_begin_->setValue(step_begin_->minimum());
  step_end_->setValue(step_end_->maximum());
  fill_ranks(o);
  filling_controls_ = false;
  status_->setText(tr("%1: %2 ranks").arg(o.path).arg(rank_->count() - 1));
  Q_EMIT trace_opened(o.path);
  request_load();
}

void MainWindow::set_selection(const LoadSelection& s) {
  filling_controls_ = true;
  if (s.step_begin) step_begin_->setValue(static_cast<int>(*s.step_begin));
  if (s.step_end) step_end_->setValue(static_cast<int>(*s.step_end - 1));
  rank_->setCurrentIndex(std::max(0, rank_->findData(s.rank.value_or(-1))));
  filling_controls_ = false;
  request_load();
}

void MainWindow::request_load() {
  LoadSelection& s = selection_;
  s = {};
  s.step_begin = step_begin_->value();
  s.step_end = static_cast<int64_t>(step_end_->value()) + 1;  // the spin boxes are inclusive
  if (const int rank = rank_->currentData().toInt(); rank >= 0) s.rank = rank;
  loader_.load(s);
  loader_.load_expert_steps(s, layer_->value());
  LoadSelection all_ranks = s;  // the matrix is of every rank
  all_ranks.rank.reset();
  const int volume_layer = volume_layer_->currentData().toInt();
  loader_.load_volume(all_ranks, volume_layer >= 0 ? std::optional<int32_t>(volume_layer) : std::nullopt);
  load_current_tab();
}

void MainWindow::on_loaded(const LayerLoad& load) {
  layer_load_.set_load(load);
  Q_EMIT load_shown();
}

void MainWindow::on_failed(const QString& message) {
  last_error_ = message;
  status_->setText(message);
  auto* box = new QMessageBox(QMessageBox::Critical, tr("moeprof"), message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // not exec(): the viewer keeps running, and tests are not blocked
  Q_EMIT error_shown(message);
}

bool MainWindow::export_view(const QString& path, QString* error) { return save_widget(*tabs_->currentWidget(), path, error); }

void MainWindow::remember_recent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value(kRecentKey).toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue(kRecentKey, recent);
  fill_recent_menu();
}

void MainWindow::fill_recent_menu() {
  recent_menu_->clear();
  const QStringList recent = QSettings().value(kRecentKey).toStringList();
  for (const QString& path : recent) recent_menu_->addAction(path, this, [this, path] { open_trace(path); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && event->mimeData()->urls().first().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  open_trace(event->mimeData()->urls().first().toLocalFile());
}

}  // namespace moeprof::gui
