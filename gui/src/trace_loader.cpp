#include "trace_loader.h"

#include <atomic>

namespace moeprof::gui {

// Runs on the loader's thread and owns the reader there; answers through the loader's
// signals (emitting from this thread queues them to the loader's receivers).
class TraceLoader::Worker : public QObject {
  Q_OBJECT

 public:
  explicit Worker(TraceLoader* loader) : loader_(loader) {}
  std::atomic<int64_t> latest_load{0};  // the newest load request's number
  std::atomic<int64_t> latest_expert_steps{0};

 public Q_SLOTS:
  void open(const QString& path) {
    Q_EMIT loader_->busy(true);
    std::string error;
    reader_ = store::Reader::open(path.toStdString(), &error);
    if (!reader_) {
      Q_EMIT loader_->failed(QString::fromStdString(error));
    } else {
      try {
        Q_EMIT loader_->opened(load_overview(*reader_));
      } catch (const store::Error& e) {
        reader_.reset();
        Q_EMIT loader_->failed(QString::fromUtf8(e.what()));
      }
    }
    Q_EMIT loader_->busy(false);
  }

  void refresh() {
    if (!reader_) return;
    Q_EMIT loader_->busy(true);
    try {
      Q_EMIT loader_->refreshed(load_overview(*reader_));
    } catch (const store::Error& e) {
      Q_EMIT loader_->failed(QString::fromUtf8(e.what()));
    }
    Q_EMIT loader_->busy(false);
  }

  void load_expert_steps(const moeprof::gui::LoadSelection& selection, int layer, qint64 number) {
    if (!reader_ || number != latest_expert_steps.load()) return;  // nothing open, or superseded
    Q_EMIT loader_->busy(true);
    try {
      Q_EMIT loader_->expert_steps_loaded(moeprof::gui::load_expert_steps(*reader_, selection, layer));
    } catch (const store::Error& e) {
      Q_EMIT loader_->failed(QString::fromUtf8(e.what()));
    }
    Q_EMIT loader_->busy(false);
  }

  void load(const moeprof::gui::LoadSelection& selection, qint64 number) {
    if (!reader_ || number != latest_load.load()) return;  // nothing open, or superseded
    Q_EMIT loader_->busy(true);
    try {
      Q_EMIT loader_->loaded(load_layer_load(*reader_, selection));
    } catch (const store::Error& e) {
      Q_EMIT loader_->failed(QString::fromUtf8(e.what()));
    }
    Q_EMIT loader_->busy(false);
  }

 private:
  TraceLoader* loader_;
  std::unique_ptr<store::Reader> reader_;
};

TraceLoader::TraceLoader() : worker_(new Worker(this)) {
  qRegisterMetaType<TraceOverview>();
  qRegisterMetaType<LayerLoad>();
  qRegisterMetaType<LoadSelection>();
  qRegisterMetaType<ExpertSteps>();
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.start();
}

TraceLoader::~TraceLoader() {
  thread_.quit();
  thread_.wait();
}

void TraceLoader::open(const QString& path) {
  QMetaObject::invokeMethod(worker_, "open", Qt::QueuedConnection, Q_ARG(QString, path));
}

void TraceLoader::refresh() { QMetaObject::invokeMethod(worker_, "refresh", Qt::QueuedConnection); }

void TraceLoader::load(const LoadSelection& selection) {
  const qint64 number = ++worker_->latest_load;
  QMetaObject::invokeMethod(worker_, "load", Qt::QueuedConnection, Q_ARG(moeprof::gui::LoadSelection, selection),
                            Q_ARG(qint64, number));
}

void TraceLoader::load_expert_steps(const LoadSelection& selection, int32_t layer) {
  const qint64 number = ++worker_->latest_expert_steps;
  QMetaObject::invokeMethod(worker_, "load_expert_steps", Qt::QueuedConnection,
                            Q_ARG(moeprof::gui::LoadSelection, selection), Q_ARG(int, layer), Q_ARG(qint64, number));
}

}  // namespace moeprof::gui

#include "trace_loader.moc"
