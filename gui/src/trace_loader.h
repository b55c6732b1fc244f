// Opens a trace and answers the viewer's queries on a worker thread, delivering value types
// by queued signals; the UI thread never touches SQLite. Requests are served in order; a load
// request superseded by a newer one before it starts is skipped.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>
#include <memory>
#include <optional>

#include "timeline_data.h"
#include "trace_queries.h"

namespace moeprof::gui {

class TraceLoader : public QObject {
  Q_OBJECT

 public:
  TraceLoader();
  ~TraceLoader() override;

  // Both return at once; the answer comes as a signal.
  void open(const QString& path);
  // Re-reads the open trace's overview (a trace still being written has grown).
  void refresh();
  void load(const LoadSelection& selection);
  void load_expert_steps(const LoadSelection& selection, int32_t layer);
  void load_volume(const LoadSelection& selection, std::optional<int32_t> layer);
  void load_timeline(const LoadSelection& selection);
  // The load report of the selection: the communication and placement views show it, and
  // File > Export report writes it.
  void load_report(const LoadSelection& selection);

 Q_SIGNALS:
  void opened(const moeprof::gui::TraceOverview& overview);
  void refreshed(const moeprof::gui::TraceOverview& overview);
  void loaded(const moeprof::gui::LayerLoad& load);
  void expert_steps_loaded(const moeprof::gui::ExpertSteps& steps);
  void volume_loaded(const moeprof::gui::RankVolume& volume);
  void timeline_loaded(const moeprof::gui::TimelinePtr& timeline);
  void report_loaded(const moeprof::gui::ReportPtr& report);
  // One line naming the file and what is wrong (a missing, foreign, newer or corrupt file).
  void failed(const QString& message);
  void busy(bool working);

 private:
  enum RequestKind { kRefresh, kLayerLoad, kExpertSteps, kVolume, kTimeline, kReport, kRequestKinds };
  template <class Query>
  void request(int kind, Query query);

  class Worker;
  QThread thread_;
  Worker* worker_;  // lives on thread_
};

}  // namespace moeprof::gui
