#include "trace_loader.h"

#include <array>
#include <atomic>

namespace moeprof::gui {

// Runs on the loader's thread and owns the reader there; answers through the loader's
// signals (emitting from this thread queues them to the loader's receivers).
class TraceLoader::Worker : public QObject {
 public:
  explicit Worker(TraceLoader* loader) : loader_(loader) {}

  void open(const QString& path) {
    Q_EMIT loader_->busy(true);
    std::string error;
    reader_ = store::Reader::open(path.toStdString(), &error);
    if (!reader_)
      Q_EMIT loader_->failed(QString::fromStdString(error));
    else if (!run([&](const store::Reader& r) { Q_EMIT loader_->opened(load_overview(r)); }))
      reader_.reset();
    Q_EMIT loader_->busy(false);
  }

  // Runs `query` on the open trace and delivers its answer, unless nothing is open or a newer
  // request of the same kind (`kind`, numbered `number`) came meanwhile.
  template <class Query>
  void answer(int kind, qint64 number, Query&& query) {
    if (!reader_ || number != latest(kind).load()) return;
    Q_EMIT loader_->busy(true);
    run(query);
    Q_EMIT loader_->busy(false);
  }

  std::atomic<qint64>& latest(int kind) { return latest_[static_cast<size_t>(kind)]; }

 private:
  // false (and the error delivered) when the trace turned out corrupt.
  template <class Query>
  bool run(Query&& query) {
    try {
      query(*reader_);
      return true;
    } catch (const store::Error& e) {
      Q_EMIT loader_->failed(QString::fromUtf8(e.what()));
      return false;
    }
  }

  TraceLoader* loader_;
  std::unique_ptr<store::Reader> reader_;
  std::array<std::atomic<qint64>, kRequestKinds> latest_{};  // per kind of request, the newest one's number
};

TraceLoader::TraceLoader() : worker_(new Worker(this)) {
  qRegisterMetaType<TraceOverview>();
  qRegisterMetaType<LayerLoad>();
  qRegisterMetaType<ExpertSteps>();
  qRegisterMetaType<RankVolume>();
  qRegisterMetaType<TimelinePtr>();
  qRegisterMetaType<ReportPtr>();
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.start();
}

TraceLoader::~TraceLoader() {
  thread_.quit();
  thread_.wait();
}

template <class Query>
void TraceLoader::request(int kind, Query query) {
  const qint64 number = ++worker_->latest(kind);
  Worker* worker = worker_;
  QMetaObject::invokeMethod(
      worker_, [worker, kind, number, query] { worker->answer(kind, number, query); }, Qt::QueuedConnection);
}

void TraceLoader::open(const QString& path) {
  Worker* worker = worker_;
  QMetaObject::invokeMethod(worker_, [worker, path] { worker->open(path); }, Qt::QueuedConnection);
}

void TraceLoader::refresh() {
  request(kRefresh, [this](const store::Reader& r) { Q_EMIT refreshed(load_overview(r)); });
}

void TraceLoader::load(const LoadSelection& selection) {
  request(kLayerLoad, [this, selection](const store::Reader& r) { Q_EMIT loaded(load_layer_load(r, selection)); });
}

void TraceLoader::load_expert_steps(const LoadSelection& selection, int32_t layer) {
  request(kExpertSteps, [this, selection, layer](const store::Reader& r) {
    Q_EMIT expert_steps_loaded(gui::load_expert_steps(r, selection, layer));
  });
}

void TraceLoader::load_volume(const LoadSelection& selection, std::optional<int32_t> layer) {
  request(kVolume, [this, selection, layer](const store::Reader& r) {
    Q_EMIT volume_loaded(load_rank_volume(r, selection, layer));
  });
}

void TraceLoader::load_timeline(const LoadSelection& selection) {
  request(kTimeline, [this, selection](const store::Reader& r) { Q_EMIT timeline_loaded(gui::load_timeline(r, selection)); });
}

void TraceLoader::load_report(const LoadSelection& selection) {
  request(kReport, [this, selection](const store::Reader& r) { Q_EMIT report_loaded(gui::load_report(r, selection)); });
}

}  // namespace moeprof::gui
