// A summariser on its own thread: the writer's thread only copies rows into batches, so
// summarising costs ingest a copy per row instead of the analysis.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

#include "moeprof/store/summariser.h"

namespace moeprof::store {
namespace {

// Rows per hand-over, and hand-overs queued before the writer waits for the summariser
// (so a slow summariser slows ingest instead of growing memory without bound).
constexpr size_t kBatchRows = 512;
constexpr size_t kMaxQueuedBatches = 64;

struct Row {
  bool drops = false;  // an ExpertLoad of dropped tokens
  std::variant<ExpertLoad, AllToAllEvent, ComputeSpan, StepSpan> value;
};

// Rows are assigned into slots that keep their vectors' capacity from batch to batch.
struct Batch {
  std::vector<Row> rows;
  size_t used = 0;
  Row& next() {
    if (used == rows.size()) rows.emplace_back();
    return rows[used++];
  }
};

template <class T>
void assign(Row& row, const T& value) {
  if (T* held = std::get_if<T>(&row.value))
    *held = value;
  else
    row.value = value;
}

class BackgroundSummariser final : public Summariser {
 public:
  explicit BackgroundSummariser(std::unique_ptr<Summariser> inner)
      : inner_(std::move(inner)), worker_([this] { work(); }) {}

  ~BackgroundSummariser() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_worker_.notify_one();
    worker_.join();
  }

  int64_t window_steps() const override { return inner_->window_steps(); }

  void add_expert_load(const ExpertLoad& load) override { add(load, false); }
  void add_expert_drops(const ExpertLoad& dropped) override { add(dropped, true); }
  void add_all_to_all(const AllToAllEvent& event) override { add(event, false); }
  void add_compute_span(const ComputeSpan& span) override { add(span, false); }
  void add_step(const StepSpan& step) override { add(step, false); }

  int64_t take(bool all, std::vector<SummaryRow>* out) override {
    hand_over();
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
    return inner_->take(all, out);  // the worker waits for work: inner_ is ours now
  }

 private:
  template <class T>
  void add(const T& value, bool drops) {
    if (!filling_) filling_ = spare_batch();
    Row& row = filling_->next();
    row.drops = drops;
    assign(row, value);
    if (filling_->used == kBatchRows) hand_over();
  }

  std::unique_ptr<Batch> spare_batch() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return std::make_unique<Batch>();
    std::unique_ptr<Batch> batch = std::move(spare_.back());
    spare_.pop_back();
    return batch;
  }

  void hand_over() {
    if (!filling_ || filling_->used == 0) return;
    {
      std::unique_lock lock(mutex_);
      idle_.wait(lock, [&] { return queue_.size() < kMaxQueuedBatches; });
      queue_.push_back(std::move(filling_));
    }
    wake_worker_.notify_one();
  }

  void feed(const Row& row) {
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, ExpertLoad>) {
            if (row.drops)
              inner_->add_expert_drops(value);
            else
              inner_->add_expert_load(value);
          } else if constexpr (std::is_same_v<T, AllToAllEvent>) {
            inner_->add_all_to_all(value);
          } else if constexpr (std::is_same_v<T, ComputeSpan>) {
            inner_->add_compute_span(value);
          } else {
            inner_->add_step(value);
          }
        },
        row.value);
  }

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_worker_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      std::unique_ptr<Batch> batch = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      for (size_t i = 0; i < batch->used; ++i) feed(batch->rows[i]);
      batch->used = 0;
      lock.lock();
      busy_ = false;
      spare_.push_back(std::move(batch));
      idle_.notify_all();
    }
  }

  std::unique_ptr<Summariser> inner_;
  std::unique_ptr<Batch> filling_;  // the writer thread's; not shared
  std::mutex mutex_;
  std::condition_variable wake_worker_, idle_;
  std::deque<std::unique_ptr<Batch>> queue_;
  std::vector<std::unique_ptr<Batch>> spare_;
  bool busy_ = false, stopping_ = false;
  std::thread worker_;  // last: starts once everything above exists
};

}  // namespace

std::unique_ptr<Summariser> in_background(std::unique_ptr<Summariser> inner) {
  return std::make_unique<BackgroundSummariser>(std::move(inner));
}

}  // namespace moeprof::store
