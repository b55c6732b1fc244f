// A horizontal slider with two handles selecting an inclusive range [lower, upper] of steps
// within [minimum, maximum]. Qt has no two-handle slider, and two QSliders side by side let
// the ends cross and cannot drag the selected range as one piece.
#pragma once

#include <QWidget>
#include <cstdint>

namespace moeprof::gui {

class RangeSlider : public QWidget {
  Q_OBJECT

 public:
  explicit RangeSlider(QWidget* parent = nullptr);
  // Clamps the current values into the range; a maximum below the minimum reads as the minimum.
  void set_range(int64_t minimum, int64_t maximum);
  // Clamps and orders the values; emits values_changed only if they changed.
  void set_values(int64_t lower, int64_t upper);
  int64_t minimum() const { return minimum_; }
  int64_t maximum() const { return maximum_; }
  int64_t lower() const { return lower_; }
  int64_t upper() const { return upper_; }
  // The rectangle a handle is painted in; its centre column is the pixel of its value.
  QRect handle_rect(bool upper_handle) const;
  // The x pixel of a value, and the value nearest an x pixel (clamped into the range).
  int pixel_of(int64_t value) const;
  int64_t value_at(int x) const;
  QSize sizeHint() const override { return {200, 22}; }
  QSize minimumSizeHint() const override { return {60, 22}; }

 Q_SIGNALS:
  void values_changed(int64_t lower, int64_t upper);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  // kEither: both handles on one spot, so which one moves waits for the drag's direction.
  enum class Drag { kNone, kLower, kUpper, kEither, kBand };
  void drag_to(int x);
  void shift_band(int64_t delta);
  int groove_left() const;
  int groove_right() const;

  int64_t minimum_ = 0, maximum_ = 0, lower_ = 0, upper_ = 0;
  Drag drag_ = Drag::kNone;
  int press_x_ = 0;
  // Press x minus the grabbed handle's centre, so a handle grabbed off-centre does not jump.
  int grab_offset_ = 0;
  // The values at the press: a band drag moves from them, so rounding does not accumulate.
  int64_t press_lower_ = 0, press_upper_ = 0;
};

}  // namespace moeprof::gui
