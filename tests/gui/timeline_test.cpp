// The per-rank timeline: it holds exactly the trace's spans of the selection, its overlap
// shading is the overlap the report measures, it cuts a selection over its span budget at a
// step, zoom/pan/hover map pixels to time, and — on traces of the reference engine — the
// chunked-overlap run paints overlap shading that the run without overlap lacks.
#include <QImage>
#include <QTest>
#include <QApplication>
#include <QWheelEvent>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "../collector/temp_dir.h"
#include "gui_fixture.h"
#include "moeprof/analysis/comm_overlap.h"
#include "timeline_view.h"

namespace moeprof::gui {
namespace {

using testing::GuiTrace;

// Pixels of the overlap colour in the overlap strips of every rank.
int overlap_pixels(const TimelineView& view, const QImage& image) {
  int count = 0;
  for (int i = 0; i < static_cast<int>(view.timeline()->ranks.size()); ++i) {
    const QRect strip = view.lane_rect(i, TimelineView::Lane::kOverlap);
    for (int x = strip.left(); x <= strip.right(); ++x)
      if (QColor(image.pixel(x, strip.center().y())) == TimelineView::overlap_colour()) ++count;
  }
  return count;
}

TEST_F(GuiTrace, TimelineHoldsEverySpanOfTheSelection) {
  const TimelinePtr t = load_timeline(*reader_, {});
  // small_mixtral: 6 layers, 2 ranks, 40 steps; per layer a gate and an expert span and
  // a dispatch and a combine all-to-all.
  EXPECT_EQ(t->span_count, size_t{6 * 2 * 40 * 4});
  ASSERT_EQ(t->ranks.size(), 2u);
  EXPECT_FALSE(t->cut);
  EXPECT_EQ(t->steps, std::make_pair(int64_t{0}, int64_t{39}));
  const std::vector<analysis::RankOverlap> measured = analysis::compute_overlap(*reader_, {});
  for (size_t r = 0; r < t->ranks.size(); ++r) {
    const RankTimeline& rank = t->ranks[r];
    EXPECT_EQ(rank.rank, static_cast<int32_t>(r));
    EXPECT_EQ(rank.compute.spans.size(), size_t{6 * 40 * 2});
    EXPECT_EQ(rank.comm.spans.size(), size_t{6 * 40 * 2});
    EXPECT_EQ(rank.step_starts.size(), 40u);
    EXPECT_TRUE(std::is_sorted(rank.comm.spans.begin(), rank.comm.spans.end(),
                               [](const TimelineSpan& a, const TimelineSpan& b) { return a.start_ns < b.start_ns; }));
    EXPECT_EQ(analysis::merged_length(rank.overlap), measured[r].total.overlapped_ns);
  }
  // One rank only.
  const TimelinePtr one = load_timeline(*reader_, {.step_begin = 5, .step_end = 7, .rank = 1});
  ASSERT_EQ(one->ranks.size(), 1u);
  EXPECT_EQ(one->ranks[0].rank, 1);
  EXPECT_EQ(one->span_count, size_t{6 * 2 * 4});
  for (const TimelineSpan& s : one->ranks[0].compute.spans) EXPECT_TRUE(s.step == 5 || s.step == 6);
}

TEST_F(GuiTrace, TimelineOverItsBudgetIsCutAtAStep) {
  const size_t per_step = 2 * 6 * 4;
  const TimelinePtr t = load_timeline(*reader_, {.step_begin = 10, .step_end = 40}, 5 * per_step);
  EXPECT_TRUE(t->cut);
  EXPECT_EQ(t->steps, std::make_pair(int64_t{10}, int64_t{14}));
  EXPECT_EQ(t->span_count, 5 * per_step);
  for (const RankTimeline& r : t->ranks)
    for (const TimelineSpan& s : r.comm.spans) EXPECT_TRUE(s.step >= 10 && s.step <= 14) << s.step;
}

TEST_F(GuiTrace, TimelineZoomPanAndHoverMapPixelsToTime) {
  TimelineView view;
  view.resize(1000, 400);
  view.set_timeline(load_timeline(*reader_, {.step_begin = 0, .step_end = 2}));
  const Timeline& t = *view.timeline();
  EXPECT_EQ(view.view_begin(), static_cast<double>(t.begin_ns));
  EXPECT_EQ(view.view_end(), static_cast<double>(t.end_ns));

  // Hovering over the middle of the first rank's first gate span names it.
  const TimelineSpan& gate = t.ranks[0].compute.spans.front();
  const QRect lane = view.lane_rect(0, TimelineView::Lane::kCompute);
  const int x = static_cast<int>(view.x_of((gate.start_ns + gate.end_ns) / 2.0));
  const QString text = view.describe(QPoint(x, lane.center().y()));
  EXPECT_TRUE(text.contains(QStringLiteral("rank 0, step 0, layer %1").arg(gate.layer))) << text.toStdString();
  EXPECT_TRUE(text.contains(QString::fromStdString(t.names[static_cast<size_t>(gate.detail)]))) << text.toStdString();
  EXPECT_TRUE(view.describe(QPoint(2, 2)).isEmpty());
  const TimelineSpan& dispatch = t.ranks[1].comm.spans.front();
  const QString comm_text = view.describe(QPoint(static_cast<int>(view.x_of((dispatch.start_ns + dispatch.end_ns) / 2.0)),
                                                 view.lane_rect(1, TimelineView::Lane::kComm).center().y()));
  EXPECT_TRUE(comm_text.contains(QStringLiteral("dispatch all-to-all"))) << comm_text.toStdString();

  // Zoom in by 4 around x: the time under x stays there.
  const double at = view.view_begin() + (x - view.lane_rect(0, TimelineView::Lane::kCompute).left()) *
                                            (view.view_end() - view.view_begin()) / lane.width();
  const double length = view.view_end() - view.view_begin();
  view.zoom(4, x);
  EXPECT_NEAR(view.view_end() - view.view_begin(), length / 4, 1);
  EXPECT_NEAR(view.x_of(at), x, 0.01);

  // A wheel notch zooms in by 1.25; a drag of 100 pixels pans by 100 pixels of time.
  const double before_wheel = view.view_end() - view.view_begin();
  QWheelEvent wheel(QPointF(500, 100), view.mapToGlobal(QPointF(500, 100)), QPoint(), QPoint(0, 120), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(&view, &wheel);
  EXPECT_NEAR(view.view_end() - view.view_begin(), before_wheel / 1.25, 1);
  const double begin = view.view_begin(), per_pixel = (view.view_end() - view.view_begin()) / lane.width();
  QTest::mousePress(&view, Qt::LeftButton, Qt::NoModifier, QPoint(600, 100));
  QTest::mouseMove(&view, QPoint(500, 100));
  QTest::mouseRelease(&view, Qt::LeftButton, Qt::NoModifier, QPoint(500, 100));
  EXPECT_NEAR(view.view_begin(), begin + 100 * per_pixel, 1);
  view.reset_view();
  EXPECT_EQ(view.view_begin(), static_cast<double>(t.begin_ns));
}

TEST_F(GuiTrace, TimelineHighlightsTheSelectedLayer) {
  TimelineView view;
  view.resize(1000, 400);
  view.set_timeline(load_timeline(*reader_, {.step_begin = 0, .step_end = 1}));
  const TimelineSpan* wide = nullptr;
  for (const TimelineSpan& s : view.timeline()->ranks[0].compute.spans)
    if (!wide || s.end_ns - s.start_ns > wide->end_ns - wide->start_ns) wide = &s;
  const QPoint centre(static_cast<int>(view.x_of((wide->start_ns + wide->end_ns) / 2.0)),
                      view.lane_rect(0, TimelineView::Lane::kCompute).bottom() - 1);
  const QRgb plain = view.grab().toImage().pixel(centre);
  view.set_highlight_layer(wide->layer);
  EXPECT_EQ(view.grab().toImage().pixel(centre), plain);
  view.set_highlight_layer(wide->layer + 1);
  EXPECT_NE(view.grab().toImage().pixel(centre), plain);  // faded
}

// Traces of moe-engine run under `moeprof run`, with and without chunked overlap (the test
// is skipped where the engine is not built).
class EngineTraces : public ::testing::Test {
 protected:
  std::string record(const std::string& overlap) {
#ifdef MOEPROF_TEST_ENGINE
    const std::string db = dir_.file(overlap + ".db");
    const std::string command = std::string("bash -c '. ") + MOEPROF_TEST_MPIRUN_ENV + " && timeout 240 " + MOEPROF_TEST_CLI +
                                " run -o " + db + " -- mpirun -np 2 " + MOEPROF_TEST_ENGINE +
                                " --preset deepseek-v3 --layers 2 --steps 3 --overlap " + overlap + " >/dev/null 2>&1'";
    return std::system(command.c_str()) == 0 ? db : std::string("failed: ") + command;
#else
    (void)overlap;
    return {};
#endif
  }
  moeprof::testing::TempDir dir_;
};

TEST_F(EngineTraces, ChunkedOverlapIsShadedAndNoOverlapIsNot) {
  std::map<std::string, int> pixels;
  for (const std::string overlap : {"none", "chunks:4"}) {
    const std::string db = record(overlap);
    if (db.empty()) GTEST_SKIP() << "moe-engine is not built";
    ASSERT_EQ(db.find("failed"), std::string::npos) << db;
    std::string error;
    auto reader = store::Reader::open(db, &error);
    ASSERT_TRUE(reader) << error;
    TimelineView view;
    view.resize(1200, 500);
    view.set_timeline(load_timeline(*reader, {}));
    ASSERT_EQ(view.timeline()->ranks.size(), 2u);
    pixels[overlap] = overlap_pixels(view, view.grab().toImage());
    int64_t measured = 0;
    for (const analysis::RankOverlap& r : analysis::compute_overlap(*reader, {})) measured += r.total.overlapped_ns;
    if (measured == 0) {
      EXPECT_EQ(pixels[overlap], 0) << overlap;
    }
  }
  std::printf("overlap pixels: none %d, chunks:4 %d\n", pixels["none"], pixels["chunks:4"]);
  EXPECT_GT(pixels["chunks:4"], 50);
  EXPECT_GT(pixels["chunks:4"], 10 * pixels["none"]);
}

}  // namespace
}  // namespace moeprof::gui
