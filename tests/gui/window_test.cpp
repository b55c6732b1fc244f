// The window driven as a person would: open a trace, change the step range and rank, click a
// heatmap cell, export the view; a bad file shows an error instead of crashing; a trace still
// being written is refreshed until it is finished.
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTest>
#include <cstdio>
#include <filesystem>
#include <sqlite3.h>

#include "gui_fixture.h"
#include "main_window.h"
#include "range_slider.h"
#include "moeprof/analysis/expert_load_matrix.h"
#include "moeprof/store/writer.h"

namespace moeprof::gui {
namespace {

using testing::GuiTrace;

TEST_F(GuiTrace, OpenSelectAndExport) {
  MainWindow window;
  window.show();
  QSignalSpy opened(&window, &MainWindow::trace_opened), shown(&window, &MainWindow::load_shown),
      volume(&window, &MainWindow::volume_shown);
  window.open_trace(QString::fromStdString(path_));
  ASSERT_TRUE(opened.wait(10000));
  ASSERT_TRUE(shown.count() > 0 || shown.wait(10000));
  EXPECT_EQ(window.layer_load_model().rowCount(), 6);
  ASSERT_TRUE(volume.count() > 0 || volume.wait(10000));
  EXPECT_EQ(window.volume_model().rowCount(), 2);  // ranks
  EXPECT_FALSE(window.volume_model().volume().layer);  // all layers
  EXPECT_EQ(window.layer_load_model().load().matrix.tokens, analysis::expert_load_matrix(*reader_, {.step_begin = 0, .step_end = 40}).tokens);

  shown.clear();
  LoadSelection s;
  s.step_begin = 10;
  s.step_end = 20;
  s.rank = 1;
  window.set_selection(s);
  ASSERT_TRUE(shown.wait(10000));
  EXPECT_EQ(window.layer_load_model().load().selection, s);
  EXPECT_EQ(window.layer_load_model().load().matrix.tokens,
            analysis::expert_load_matrix(*reader_, {.rank = 1, .step_begin = 10, .step_end = 20}).tokens);
  EXPECT_EQ(window.step_slider().lower(), 10);  // the slider shows the range
  EXPECT_EQ(window.step_slider().upper(), 19);
  EXPECT_EQ(window.step_slider().maximum(), 39);

  // Dragging the slider's band two steps on loads steps [12, 22).
  shown.clear();
  RangeSlider& slider = window.step_slider();
  const QPoint grab((slider.handle_rect(false).center().x() + slider.handle_rect(true).center().x()) / 2, slider.height() / 2);
  QTest::mousePress(&slider, Qt::LeftButton, {}, grab);
  QTest::mouseMove(&slider, grab + QPoint(slider.pixel_of(2) - slider.pixel_of(0), 0));
  QTest::mouseRelease(&slider, Qt::LeftButton, {}, grab + QPoint(slider.pixel_of(2) - slider.pixel_of(0), 0));
  ASSERT_TRUE(shown.wait(10000));
  s.step_begin = 12;
  s.step_end = 22;
  EXPECT_EQ(window.layer_load_model().load().selection, s);

  // Linked selection: a layer x expert cell picks that layer for the load over time.
  QSignalSpy clicked(&window.heatmap(), &HeatmapView::cell_clicked);
  QSignalSpy over_time(&window, &MainWindow::expert_steps_shown);
  QTest::mouseClick(&window.heatmap(), Qt::LeftButton, {}, window.heatmap().cell_rect(2, 4).center());
  ASSERT_EQ(clicked.count(), 1);
  EXPECT_EQ(clicked.at(0).at(0).toInt(), 2);
  EXPECT_EQ(clicked.at(0).at(1).toInt(), 4);
  EXPECT_EQ(window.selected_layer(), 2);
  while (window.expert_steps_model().steps().layer != 2) ASSERT_TRUE(over_time.wait(10000));
  EXPECT_EQ(window.expert_steps_model().steps().selection, s);
  EXPECT_EQ(window.expert_steps_model().rowCount(), 8);
  while (window.volume_model().volume().layer != 2) ASSERT_TRUE(volume.wait(10000));  // the a2a matrix follows the layer

  QString error;
  const QString png = QString::fromStdString(dir_.file("view.png"));
  ASSERT_TRUE(window.export_view(png, &error)) << error.toStdString();
  EXPECT_FALSE(QImage(png).isNull());
  const QString svg = QString::fromStdString(dir_.file("view.svg"));
  ASSERT_TRUE(window.export_view(svg, &error)) << error.toStdString();
  QFile file(svg);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  EXPECT_TRUE(file.readAll().contains("<svg"));
}

// The heavy views load when their tab is shown; the report export writes what `moeprof
// report` writes for the same selection.
TEST_F(GuiTrace, TimelineCommunicationAndReportExport) {
  MainWindow window;
  window.show();
  QSignalSpy opened(&window, &MainWindow::trace_opened), timeline(&window, &MainWindow::timeline_shown),
      report(&window, &MainWindow::report_shown), exported(&window, &MainWindow::report_exported);
  window.open_trace(QString::fromStdString(path_));
  ASSERT_TRUE(opened.wait(10000));
  LoadSelection s;
  s.step_begin = 4;
  s.step_end = 12;
  window.set_selection(s);
  EXPECT_FALSE(timeline.wait(500));  // not in view: not loaded
  window.show_tab(QStringLiteral("Timeline"));
  ASSERT_TRUE(timeline.wait(10000));
  ASSERT_NE(window.timeline_view().timeline(), nullptr);
  EXPECT_EQ(window.timeline_view().timeline()->steps, std::make_pair(int64_t{4}, int64_t{11}));
  // A heatmap click highlights that layer's spans.
  QTest::mouseClick(&window.heatmap(), Qt::LeftButton, {}, window.heatmap().cell_rect(3, 1).center());

  window.show_tab(QStringLiteral("Communication"));
  ASSERT_TRUE(report.wait(10000));
  EXPECT_EQ(window.comm_model().rowCount(), 6);
  EXPECT_EQ(window.comm_model().report()->options.step_begin, 4);
  EXPECT_EQ(window.placement_model().rowCount(), 2);

  const QString json = QString::fromStdString(dir_.file("report.json"));
  window.export_report(json);
  if (exported.isEmpty()) {
    ASSERT_TRUE(exported.wait(10000));
  }
  ASSERT_TRUE(exported.at(0).at(1).toBool()) << window.last_error().toStdString();
  QFile file(json);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const std::string expected = report::render_json(report::build_report(*reader_, report_options({.step_begin = 4, .step_end = 12})));
  EXPECT_EQ(file.readAll().toStdString(), expected);

  // Another selection: the export waits for that selection's report.
  s.rank = 1;
  window.set_selection(s);
  exported.clear();
  const QString md = QString::fromStdString(dir_.file("report.md"));
  window.export_report(md);
  if (exported.isEmpty()) {
    ASSERT_TRUE(exported.wait(10000));
  }
  ASSERT_TRUE(exported.at(0).at(1).toBool()) << window.last_error().toStdString();
  QFile markdown(md);
  ASSERT_TRUE(markdown.open(QIODevice::ReadOnly));
  EXPECT_EQ(markdown.readAll().toStdString(),
            report::render_markdown(report::build_report(*reader_, {.step_begin = 4, .step_end = 12, .layers = {}, .ranks = {1}})));

  exported.clear();
  window.export_report(QString::fromStdString(dir_.file("report.txt")));
  ASSERT_EQ(exported.count(), 1);
  EXPECT_FALSE(exported.at(0).at(1).toBool());
  EXPECT_TRUE(window.last_error().contains(QStringLiteral(".json, .md, .html or .pdf")));
}

TEST_F(GuiTrace, ABadFileShowsAnErrorAndTheWindowStays) {
  MainWindow window;
  QSignalSpy failed(&window, &MainWindow::error_shown);
  window.open_trace(QString::fromStdString(dir_.file("missing.db")));
  ASSERT_TRUE(failed.wait(10000));
  EXPECT_TRUE(window.last_error().contains(QStringLiteral("no such file"))) << window.last_error().toStdString();
  // A file that is not a trace, and a trace of a newer moeprof: a dialog each, no crash.
  const std::string text_file = dir_.file("notes.db");
  std::FILE* f = std::fopen(text_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("these are not the traces you are looking for\n", f);
  std::fclose(f);
  failed.clear();
  window.open_trace(QString::fromStdString(text_file));
  ASSERT_TRUE(failed.wait(10000));
  EXPECT_TRUE(window.last_error().contains(QStringLiteral("not a moeprof trace"))) << window.last_error().toStdString();
  const std::string newer = dir_.file("newer.db");
  std::filesystem::copy_file(path_, newer);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  failed.clear();
  window.open_trace(QString::fromStdString(newer));
  ASSERT_TRUE(failed.wait(10000));
  EXPECT_TRUE(window.last_error().contains(QStringLiteral("newer moeprof"))) << window.last_error().toStdString();
  // The same window then opens a good trace.
  QSignalSpy opened(&window, &MainWindow::trace_opened);
  window.open_trace(QString::fromStdString(path_));
  ASSERT_TRUE(opened.wait(10000));
}

}  // namespace
}  // namespace moeprof::gui

namespace moeprof::gui {
namespace {

TEST(LiveTrace, ATraceBeingWrittenIsRefreshedUntilItIsFinished) {
  moeprof::testing::TempDir dir;
  const std::string path = dir.file("live.db");
  std::string error;
  auto writer = store::Writer::create(path, &error);
  ASSERT_TRUE(writer) << error;
  writer->set_model({"tiny", 1, 2, 1, 0, 8});
  const auto write_step = [&](int64_t step) {
    writer->add_step({0, step, step * 100, step * 100 + 50});
    writer->add_expert_load({0, step, 0, {static_cast<uint32_t>(step + 1), 1}});
    ASSERT_TRUE(writer->commit(&error)) << error;
  };
  write_step(0);
  write_step(1);

  MainWindow window;
  QSignalSpy opened(&window, &MainWindow::trace_opened), shown(&window, &MainWindow::load_shown);
  window.open_trace(QString::fromStdString(path));
  ASSERT_TRUE(opened.wait(10000));
  ASSERT_TRUE(shown.count() > 0 || shown.wait(10000));
  EXPECT_TRUE(window.is_live());
  EXPECT_EQ(window.layer_load_model().load().matrix.tokens[0], (std::vector<double>{1 + 2, 2}));

  write_step(2);  // the run goes on
  shown.clear();
  window.refresh();
  ASSERT_TRUE(shown.wait(10000));
  EXPECT_EQ(window.layer_load_model().load().matrix.tokens[0], (std::vector<double>{1 + 2 + 3, 3}));

  store::RunInfo run;
  run.exit_code = 0;
  ASSERT_TRUE(writer->finalize(run, &error)) << error;
  shown.clear();
  window.refresh();
  ASSERT_TRUE(shown.wait(10000));
  EXPECT_FALSE(window.is_live());  // finished: no more refreshing
}

}  // namespace
}  // namespace moeprof::gui
