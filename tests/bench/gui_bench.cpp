// Viewer benchmarks (issue 6) on a big trace: open + first layer x expert heatmap paint
// (target <= 1 s on a 10k-step DeepSeek-V3 trace), a step-range change (query + repaint,
// target <= 50 ms), and one timeline frame of 1 M spans (target <= 33 ms: whole range, zoomed
// in, and panned), on Qt's offscreen platform. The trace is MOEPROF_BENCH_TRACE when set
// (tests/bench/gui_time.sh passes the 10k-step one), else a 2000-step DeepSeek-V3 synth trace
// written here. Each benchmark runs once on the trace with window summaries and once on the same
// trace without (MOEPROF_BENCH_TRACE_ROWS, or written here): the ratio is the summaries' gain.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <QApplication>
#include <filesystem>
#include <string>

#include "heatmap_view.h"
#include "layer_load_model.h"
#include "moeprof/synth/synth.h"
#include "timeline_view.h"
#include "trace_queries.h"

namespace {

using namespace moeprof;

std::string bench_trace(const char* env, bool summaries) {
  if (const char* path = std::getenv(env)) return path;
  static const std::string dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "moeprof-gui-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return pattern;
  }();
  const std::string path = dir + (summaries ? "/with.db" : "/without.db");
  if (!std::filesystem::exists(path)) {
    synth::Options o;
    o.shape = *synth::find_shape("deepseek-v3");
    o.ranks = 8;
    o.steps = 2000;
    o.zipf_skew = 1.2;
    o.summaries = summaries;
    std::string error;
    if (!synth::generate(o, path, &error)) std::abort();
  }
  return path;
}

std::string trace_for(const benchmark::State& state) {
  return state.range(0) ? bench_trace("MOEPROF_BENCH_TRACE", true) : bench_trace("MOEPROF_BENCH_TRACE_ROWS", false);
}

void paint(gui::HeatmapView& view) { benchmark::DoNotOptimize(view.grab().toImage().pixel(10, 10)); }

void BM_OpenAndFirstHeatmap(benchmark::State& state) {
  const std::string path = trace_for(state);
  for (auto _ : state) {
    std::string error;
    auto reader = store::Reader::open(path, &error);
    if (!reader) {
      state.SkipWithError(error.c_str());
      return;
    }
    gui::LayerLoadModel model;
    model.set_load(gui::load_layer_load(*reader, {}));
    gui::HeatmapView view;
    view.resize(1200, 800);
    view.set_model(&model);
    paint(view);
  }
}
BENCHMARK(BM_OpenAndFirstHeatmap)->ArgName("summaries")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_StepRangeChange(benchmark::State& state) {
  std::string error;
  auto reader = store::Reader::open(trace_for(state), &error);
  if (!reader) {
    state.SkipWithError(error.c_str());
    return;
  }
  const auto steps = reader->step_range();
  gui::LayerLoadModel model;
  gui::HeatmapView view;
  view.resize(1200, 800);
  view.set_model(&model);
  int64_t begin = steps->first;
  for (auto _ : state) {
    // A range of a tenth of the trace, moved on each time (as dragging the range slider).
    const int64_t length = (steps->second - steps->first) / 10 + 1;
    gui::LoadSelection s;
    s.step_begin = begin;
    s.step_end = begin + length;
    model.set_load(gui::load_layer_load(*reader, s));
    paint(view);
    begin = begin + length / 3 > steps->second - length ? steps->first : begin + length / 3;
  }
}
BENCHMARK(BM_StepRangeChange)->ArgName("summaries")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The timeline of the trace's first steps up to the span budget (1 M spans), loaded once.
const gui::TimelinePtr& bench_timeline() {
  static const gui::TimelinePtr timeline = [] {
    std::string error;
    auto reader = store::Reader::open(bench_trace("MOEPROF_BENCH_TRACE", true), &error);
    if (!reader) std::abort();
    return gui::load_timeline(*reader, {});
  }();
  return timeline;
}

void BM_TimelineLoad(benchmark::State& state) {
  std::string error;
  auto reader = store::Reader::open(bench_trace("MOEPROF_BENCH_TRACE", true), &error);
  for (auto _ : state) {
    const gui::TimelinePtr t = gui::load_timeline(*reader, {});
    state.counters["spans"] = static_cast<double>(t->span_count);
  }
}
BENCHMARK(BM_TimelineLoad)->Unit(benchmark::kMillisecond)->Iterations(2);

// One frame at 1200 x 800: zoom 1 = the whole loaded range (every span visited), 64 = a
// 64th of it; each iteration pans by a tenth of the view so no frame repeats.
void BM_TimelineFrame(benchmark::State& state) {
  const gui::TimelinePtr& t = bench_timeline();
  gui::TimelineView view;
  view.resize(1200, 800);
  view.set_timeline(t);
  const double length = static_cast<double>(t->end_ns - t->begin_ns) / static_cast<double>(state.range(0));
  double begin = static_cast<double>(t->begin_ns);
  QImage frame(view.size(), QImage::Format_RGB32);
  for (auto _ : state) {
    view.set_view(begin, begin + length);
    view.render(&frame);
    benchmark::DoNotOptimize(frame.pixel(10, 10));
    begin += length / 10;
    if (begin + length > static_cast<double>(t->end_ns)) begin = static_cast<double>(t->begin_ns);
  }
  state.counters["spans"] = static_cast<double>(t->span_count);
}
BENCHMARK(BM_TimelineFrame)->ArgName("zoom")->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace

int main(int argc, char** argv) {
  setenv("QT_QPA_PLATFORM", "offscreen", 0);
  QApplication app(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
