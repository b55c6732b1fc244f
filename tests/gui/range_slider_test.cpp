// The two-handle step-range slider: values clamp and order, a handle drag moves only that
// end, a band drag keeps the band's length and stops at the ends, a click on the groove
// moves the nearer end, the keys move the band, and a one-value range stays put. Expected
// values come from the widget's geometry: the handles' centres at the range's ends give the
// groove's pixel span, which maps linearly onto [minimum, maximum].
#include <QImage>
#include <QSignalBlocker>
#include <QSignalSpy>
#include <QTest>
#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

#include "range_slider.h"

namespace moeprof::gui {
namespace {

// The pixels of the range's ends, read from the handles' centres with the values there.
struct Groove {
  int left = 0, right = 0;
};

Groove groove_of(RangeSlider& slider) {
  const QSignalBlocker block(slider);
  const int64_t lower = slider.lower(), upper = slider.upper();
  slider.set_values(slider.minimum(), slider.maximum());
  const Groove groove{slider.handle_rect(false).center().x(), slider.handle_rect(true).center().x()};
  slider.set_values(lower, upper);
  return groove;
}

int64_t expected_value(const RangeSlider& slider, Groove groove, int x) {
  const double fraction = std::clamp(double(x - groove.left) / (groove.right - groove.left), 0.0, 1.0);
  return slider.minimum() + std::llround(fraction * double(slider.maximum() - slider.minimum()));
}

int expected_pixel(const RangeSlider& slider, Groove groove, int64_t value) {
  const double fraction = double(value - slider.minimum()) / double(slider.maximum() - slider.minimum());
  return groove.left + int(std::lround(fraction * (groove.right - groove.left)));
}

int handle_x(const RangeSlider& slider, bool upper) { return slider.handle_rect(upper).center().x(); }

// The values of the last values_changed, or (-1, -1) if none came.
std::pair<int64_t, int64_t> last_values(const QSignalSpy& spy) {
  if (spy.isEmpty()) return {-1, -1};
  const QList<QVariant> args = spy.last();
  return {args.at(0).toLongLong(), args.at(1).toLongLong()};
}

TEST(RangeSlider, SetRangeAndValuesClampAndOrder) {
  RangeSlider slider;
  QSignalSpy spy(&slider, &RangeSlider::values_changed);
  slider.set_range(500, 900);
  EXPECT_EQ(slider.minimum(), 500);
  EXPECT_EQ(slider.maximum(), 900);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{500}, int64_t{500}));
  ASSERT_EQ(spy.count(), 1);
  slider.set_values(950, 600);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{600}, int64_t{900}));
  ASSERT_EQ(spy.count(), 2);
  EXPECT_EQ(last_values(spy), std::make_pair(int64_t{600}, int64_t{900}));
  slider.set_values(600, 900);
  EXPECT_EQ(spy.count(), 2);  // unchanged: no signal
  slider.set_range(400, 1000);  // values already inside: no signal
  EXPECT_EQ(spy.count(), 2);
  slider.set_range(700, 800);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{700}, int64_t{800}));
  ASSERT_EQ(spy.count(), 3);
  EXPECT_EQ(last_values(spy), std::make_pair(int64_t{700}, int64_t{800}));
  slider.set_range(10, 5);  // maximum below minimum reads as minimum
  EXPECT_EQ(slider.maximum(), 10);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{10}, int64_t{10}));
}

TEST(RangeSlider, PixelMappingMatchesHandleGeometry) {
  RangeSlider slider;
  slider.resize(500, 22);
  slider.set_range(500, 900);
  const Groove groove = groove_of(slider);
  ASSERT_GT(groove.right - groove.left, 400);  // more pixels than values: each value has its own
  EXPECT_GE(slider.handle_rect(false).left(), 0);  // the end handles stay inside the widget
  EXPECT_LE(slider.handle_rect(true).right(), slider.width() - 1);
  for (const int64_t value : {500, 537, 700, 899, 900}) {
    EXPECT_EQ(slider.pixel_of(value), expected_pixel(slider, groove, value)) << value;
    EXPECT_EQ(slider.value_at(slider.pixel_of(value)), value) << value;
  }
  EXPECT_EQ(slider.value_at(-50), 500);
  EXPECT_EQ(slider.value_at(1000), 900);
}

TEST(RangeSlider, DraggingLowerHandleMovesLowerOnly) {
  RangeSlider slider;
  slider.resize(211, 22);
  slider.set_range(0, 100);
  slider.set_values(20, 80);
  const Groove groove = groove_of(slider);
  QSignalSpy spy(&slider, &RangeSlider::values_changed);
  const QPoint start(handle_x(slider, false), slider.height() / 2);
  QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, start);
  EXPECT_EQ(spy.count(), 0);  // grabbing a handle does not move it
  const int to = groove.left + (groove.right - groove.left) / 2;
  QTest::mouseMove(&slider, QPoint(to, start.y()));
  QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(to, start.y()));
  const int64_t lower = expected_value(slider, groove, to);
  ASSERT_NE(lower, 20);
  EXPECT_EQ(slider.lower(), lower);
  EXPECT_EQ(slider.upper(), 80);
  ASSERT_GE(spy.count(), 1);
  EXPECT_EQ(last_values(spy), std::make_pair(lower, int64_t{80}));

  // Grabbed off-centre, the handle moves by the cursor's travel instead of jumping to it.
  const int centre = handle_x(slider, false);
  QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(centre + 3, start.y()));
  QTest::mouseMove(&slider, QPoint(centre + 3 - 20, start.y()));
  EXPECT_EQ(slider.lower(), expected_value(slider, groove, centre - 20));
  // Dragged past the upper handle, it stops there.
  QTest::mouseMove(&slider, QPoint(slider.width() + 40, start.y()));
  QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(slider.width() + 40, start.y()));
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{80}, int64_t{80}));
  EXPECT_EQ(last_values(spy), std::make_pair(int64_t{80}, int64_t{80}));
}

TEST(RangeSlider, DraggingUpperHandleMovesUpperOnly) {
  RangeSlider slider;
  slider.resize(211, 22);
  slider.set_range(0, 100);
  slider.set_values(40, 44);
  const Groove groove = groove_of(slider);
  const int y = slider.height() / 2;
  const int lower_x = handle_x(slider, false), upper_x = handle_x(slider, true);
  // The handles overlap; a press within both grabs the nearer one.
  const int press = upper_x - 3;
  ASSERT_TRUE(slider.handle_rect(false).contains(press, y));
  ASSERT_LT(upper_x - press, press - lower_x);
  QSignalSpy spy(&slider, &RangeSlider::values_changed);
  QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(press, y));
  QTest::mouseMove(&slider, QPoint(press + 30, y));
  const int64_t upper = expected_value(slider, groove, upper_x + 30);
  ASSERT_NE(upper, 44);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{40}, upper));
  EXPECT_EQ(last_values(spy), std::make_pair(int64_t{40}, upper));
  // Dragged past the lower handle, it stops there.
  QTest::mouseMove(&slider, QPoint(-40, y));
  QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(-40, y));
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{40}, int64_t{40}));
}

TEST(RangeSlider, DraggingBandKeepsLengthAndClampsAtTheEnds) {
  RangeSlider slider;
  slider.resize(260, 22);
  slider.set_range(500, 900);
  slider.set_values(600, 700);
  const Groove groove = groove_of(slider);
  QSignalSpy spy(&slider, &RangeSlider::values_changed);
  const int y = slider.height() / 2;
  const int start = (handle_x(slider, false) + handle_x(slider, true)) / 2;
  QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(start, y));
  EXPECT_EQ(spy.count(), 0);  // a press on the band moves nothing
  QTest::mouseMove(&slider, QPoint(start + 30, y));
  const int64_t moved = std::llround(30.0 * 400 / (groove.right - groove.left));
  ASSERT_GT(moved, 0);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(600 + moved, 700 + moved));
  EXPECT_EQ(last_values(spy), std::make_pair(600 + moved, 700 + moved));
  QTest::mouseMove(&slider, QPoint(start + 1000, y));
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{800}, int64_t{900}));
  QTest::mouseMove(&slider, QPoint(start - 1000, y));
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{500}, int64_t{600}));
  QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(start - 1000, y));
  EXPECT_EQ(last_values(spy), std::make_pair(int64_t{500}, int64_t{600}));
}

TEST(RangeSlider, ClickOnGrooveMovesTheNearerEnd) {
  RangeSlider slider;
  slider.resize(300, 22);
  slider.set_range(0, 10000);
  slider.set_values(1000, 2000);
  const Groove groove = groove_of(slider);
  QSignalSpy spy(&slider, &RangeSlider::values_changed);
  const int y = slider.height() / 2;
  const int right = groove.left + (groove.right - groove.left) * 3 / 4;
  QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(right, y));
  // It moves on the press, before any release.
  const int64_t upper = expected_value(slider, groove, right);
  ASSERT_NE(upper, 2000);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{1000}, upper));
  ASSERT_EQ(spy.count(), 1);
  EXPECT_EQ(last_values(spy), std::make_pair(int64_t{1000}, upper));
  QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(right, y));
  EXPECT_EQ(spy.count(), 1);
  QTest::mouseClick(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(groove.left, y));
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{0}, upper));
}

TEST(RangeSlider, CoincidentHandlesFollowTheDragDirection) {
  RangeSlider slider;
  slider.resize(211, 22);
  slider.set_range(0, 100);
  const int y = slider.height() / 2;
  for (const int direction : {1, -1}) {
    slider.set_values(50, 50);
    const Groove groove = groove_of(slider);
    const int centre = handle_x(slider, false);
    QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(centre, y));
    QTest::mouseMove(&slider, QPoint(centre + 40 * direction, y));
    QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(centre + 40 * direction, y));
    const int64_t moved = expected_value(slider, groove, centre + 40 * direction);
    ASSERT_NE(moved, 50);
    if (direction > 0)
      EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{50}, moved));
    else
      EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(moved, int64_t{50}));
  }
}

TEST(RangeSlider, KeysMoveTheBand) {
  RangeSlider slider;
  slider.set_range(0, 100);
  slider.set_values(10, 20);
  QSignalSpy spy(&slider, &RangeSlider::values_changed);
  using V = std::pair<int64_t, int64_t>;
  const auto values = [&] { return V{slider.lower(), slider.upper()}; };
  QTest::keyClick(&slider, Qt::Key_Right);
  EXPECT_EQ(values(), V(11, 21));
  EXPECT_EQ(last_values(spy), V(11, 21));
  QTest::keyClick(&slider, Qt::Key_Left);
  EXPECT_EQ(values(), V(10, 20));
  QTest::keyClick(&slider, Qt::Key_PageUp);
  EXPECT_EQ(values(), V(20, 30));
  QTest::keyClick(&slider, Qt::Key_PageDown);
  EXPECT_EQ(values(), V(10, 20));
  QTest::keyClick(&slider, Qt::Key_End);
  EXPECT_EQ(values(), V(90, 100));
  const int signals_before = spy.count();
  QTest::keyClick(&slider, Qt::Key_Right);  // already at the end
  EXPECT_EQ(values(), V(90, 100));
  EXPECT_EQ(spy.count(), signals_before);
  QTest::keyClick(&slider, Qt::Key_Home);
  EXPECT_EQ(values(), V(0, 10));
  EXPECT_EQ(last_values(spy), V(0, 10));
  EXPECT_EQ(slider.focusPolicy(), Qt::StrongFocus);
}

TEST(RangeSlider, DegenerateRangeStaysPut) {
  RangeSlider slider;
  slider.resize(200, 22);
  slider.set_range(7, 7);
  slider.set_values(3, 12);
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{7}, int64_t{7}));
  EXPECT_EQ(slider.handle_rect(false), slider.handle_rect(true));
  EXPECT_TRUE(slider.rect().contains(slider.handle_rect(false)));
  const int y = slider.height() / 2;
  for (const int x : {-10, 0, slider.handle_rect(false).center().x(), 100, 199, 400}) {
    QTest::mousePress(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(x, y));
    QTest::mouseMove(&slider, QPoint(x + 37, y));
    QTest::mouseMove(&slider, QPoint(x - 91, y));
    QTest::mouseRelease(&slider, Qt::LeftButton, Qt::NoModifier, QPoint(x - 91, y));
  }
  for (const Qt::Key key : {Qt::Key_Left, Qt::Key_Right, Qt::Key_PageUp, Qt::Key_PageDown, Qt::Key_Home, Qt::Key_End})
    QTest::keyClick(&slider, key);
  EXPECT_FALSE(slider.grab().isNull());
  slider.resize(1, 1);  // no groove at all
  EXPECT_FALSE(slider.grab().isNull());
  EXPECT_EQ(std::make_pair(slider.lower(), slider.upper()), std::make_pair(int64_t{7}, int64_t{7}));
}

TEST(RangeSlider, PaintsTheBandInTheHighlightColour) {
  RangeSlider slider;
  slider.resize(300, 22);
  slider.set_range(0, 1000);
  slider.set_values(200, 800);
  const QImage image = slider.grab().toImage();
  const int y = slider.height() / 2;
  const QColor highlight = slider.palette().highlight().color();
  EXPECT_EQ(QColor(image.pixel((handle_x(slider, false) + handle_x(slider, true)) / 2, y)), highlight);
  // Outside the band, between the groove's start and the lower handle, the groove is not highlighted.
  EXPECT_NE(QColor(image.pixel(slider.handle_rect(false).left() / 2, y)), highlight);
  EXPECT_NE(QColor(image.pixel((slider.handle_rect(true).right() + slider.width()) / 2, y)), highlight);
  // The handles are painted over the band's ends.
  EXPECT_EQ(QColor(image.pixel(handle_x(slider, false), y)), slider.palette().button().color());
  EXPECT_EQ(QColor(image.pixel(handle_x(slider, true), y)), slider.palette().button().color());
}

}  // namespace
}  // namespace moeprof::gui
