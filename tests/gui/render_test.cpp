// Renders look at pixels: a hot expert's cell is drawn in a different colour from a cold
// one, with the colour of its value on the scale; headless renders write real PNG/SVG files
// and refuse bad views and bad traces with one line.
#include <QFile>
#include <QImage>
#include <algorithm>
#include <set>

#include "colour_scale.h"
#include "gui_fixture.h"
#include "heatmap_view.h"
#include "layer_load_model.h"
#include "render.h"

namespace moeprof::gui {
namespace {

using testing::GuiTrace;

QRgb pixel_at_centre(const QImage& image, const QRect& cell) { return image.pixel(cell.center()); }

TEST_F(GuiTrace, HeatmapPaintsHotAndColdExpertsInTheirColours) {
  LayerLoadModel model;
  model.set_load(load_layer_load(*reader_, {}));
  HeatmapView view;
  view.set_model(&model);
  view.resize(900, 500);
  const analysis::ExpertLoadMatrix& m = model.load().matrix;
  double global_max = 0;
  for (const auto& row : m.tokens) global_max = std::max(global_max, *std::max_element(row.begin(), row.end()));
  const QImage linear = view.grab().toImage();
  view.set_scale_mode(ColourScale::Mode::kLog);
  const QImage log = view.grab().toImage();
  for (int layer = 0; layer < m.num_layers; ++layer) {
    const auto& row = m.tokens[layer];
    const int hot = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
    const int cold = static_cast<int>(std::min_element(row.begin(), row.end()) - row.begin());
    ASSERT_GT(row[hot], 2 * row[cold]) << "the trace should be skewed";
    const QRgb hot_pixel = pixel_at_centre(linear, view.cell_rect(layer, hot));
    const QRgb cold_pixel = pixel_at_centre(linear, view.cell_rect(layer, cold));
    EXPECT_NE(hot_pixel, cold_pixel) << "layer " << layer;
    EXPECT_EQ(QColor(hot_pixel), ColourScale(ColourScale::Mode::kLinear, global_max).colour(row[hot]));
    EXPECT_EQ(QColor(cold_pixel), ColourScale(ColourScale::Mode::kLinear, global_max).colour(row[cold]));
    // The log scale lifts cold experts off the bottom of the scale.
    EXPECT_EQ(QColor(pixel_at_centre(log, view.cell_rect(layer, cold))),
              ColourScale(ColourScale::Mode::kLog, global_max).colour(row[cold]));
  }
  // A cell under a point is the cell painted there.
  const QRect r = view.cell_rect(3, 5);
  EXPECT_EQ(view.cell_at(r.center()), std::make_pair(3, 5));
  EXPECT_EQ(view.cell_at(QPoint(1, 1)), std::nullopt);
}

TEST(ColourScale, RunsFromDarkToBrightAndLogLiftsSmallValues) {
  const ColourScale linear(ColourScale::Mode::kLinear, 100), log(ColourScale::Mode::kLog, 100);
  EXPECT_LT(linear.colour(0).lightness(), linear.colour(100).lightness());
  EXPECT_DOUBLE_EQ(linear.position(50), 0.5);
  EXPECT_GT(log.position(5), linear.position(5));
  EXPECT_DOUBLE_EQ(log.position(100), 1.0);
  EXPECT_DOUBLE_EQ(linear.position(1000), 1.0);  // clamped
}

TEST_F(GuiTrace, HeadlessRendersWritePngAndSvg) {
  for (const QString& view : render_views()) {
    RenderOptions o;
    o.view = view;
    o.trace = QString::fromStdString(path_);
    o.out = QString::fromStdString(dir_.file(view.toStdString() + ".png"));
    o.size = QSize(640, 400);
    QString error;
    ASSERT_TRUE(render_view(o, &error)) << error.toStdString();
    const QImage image(o.out);
    ASSERT_FALSE(image.isNull()) << view.toStdString();
    EXPECT_EQ(image.size(), o.size);
    // Not a blank page: many colours.
    std::set<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
      for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    EXPECT_GT(colours.size(), 3u) << view.toStdString();
  }
  RenderOptions o;
  o.view = QStringLiteral("heatmap");
  o.trace = QString::fromStdString(path_);
  o.out = QString::fromStdString(dir_.file("h.svg"));
  QString error;
  ASSERT_TRUE(render_view(o, &error)) << error.toStdString();
  QFile svg(o.out);
  ASSERT_TRUE(svg.open(QIODevice::ReadOnly));
  EXPECT_TRUE(svg.readAll().contains("<svg"));
}

TEST_F(GuiTrace, HeadlessRendersRefuseBadViewsAndFiles) {
  RenderOptions o;
  o.trace = QString::fromStdString(path_);
  o.out = QString::fromStdString(dir_.file("x.png"));
  o.view = QStringLiteral("sideways");
  QString error;
  EXPECT_FALSE(render_view(o, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("unknown view 'sideways'"))) << error.toStdString();
  o.view = QStringLiteral("heatmap");
  o.trace = QString::fromStdString(dir_.file("missing.db"));
  EXPECT_FALSE(render_view(o, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("missing.db: no such file"))) << error.toStdString();
  QFile text(QString::fromStdString(dir_.file("notes.db")));
  ASSERT_TRUE(text.open(QIODevice::WriteOnly));
  text.write(QByteArray(5000, 'x'));
  text.close();
  o.trace = text.fileName();
  EXPECT_FALSE(render_view(o, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("not a moeprof trace"))) << error.toStdString();
  o.trace = QString::fromStdString(path_);
  o.out = QString::fromStdString(dir_.file("no-such-dir/x.png"));
  EXPECT_FALSE(render_view(o, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("cannot write"))) << error.toStdString();
  EXPECT_FALSE(QFile::exists(QString::fromStdString(dir_.file("x.png"))));
}

}  // namespace
}  // namespace moeprof::gui
