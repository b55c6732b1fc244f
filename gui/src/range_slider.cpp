#include "range_slider.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace moeprof::gui {
namespace {

// Odd, so a handle's centre column is exactly its value's pixel.
constexpr int kHandleWidth = 11;
constexpr int kGrooveHeight = 4;

}  // namespace

RangeSlider::RangeSlider(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void RangeSlider::set_range(int64_t minimum, int64_t maximum) {
  minimum_ = minimum;
  maximum_ = std::max(minimum, maximum);
  set_values(lower_, upper_);
  update();
}

void RangeSlider::set_values(int64_t lower, int64_t upper) {
  if (lower > upper) std::swap(lower, upper);
  lower = std::clamp(lower, minimum_, maximum_);
  upper = std::clamp(upper, minimum_, maximum_);
  if (lower == lower_ && upper == upper_) return;
  lower_ = lower;
  upper_ = upper;
  update();
  Q_EMIT values_changed(lower_, upper_);
}

// The groove runs between the handles' centres at the range's ends, so the end handles stay
// whole inside the widget.
int RangeSlider::groove_left() const { return kHandleWidth / 2; }
int RangeSlider::groove_right() const { return std::max(groove_left() + 1, width() - 1 - kHandleWidth / 2); }

// The mapping goes through double: a difference of int64 values, or its product with a
// pixel count, can overflow.
int RangeSlider::pixel_of(int64_t value) const {
  if (maximum_ == minimum_) return groove_left();
  const double fraction = (double(value) - double(minimum_)) / (double(maximum_) - double(minimum_));
  return groove_left() + int(std::lround(std::clamp(fraction, 0.0, 1.0) * (groove_right() - groove_left())));
}

int64_t RangeSlider::value_at(int x) const {
  const double fraction = std::clamp(double(x - groove_left()) / (groove_right() - groove_left()), 0.0, 1.0);
  const double value = double(minimum_) + fraction * (double(maximum_) - double(minimum_));
  if (value <= double(minimum_)) return minimum_;
  if (value >= double(maximum_)) return maximum_;
  return std::clamp(int64_t(std::llround(value)), minimum_, maximum_);
}

QRect RangeSlider::handle_rect(bool upper_handle) const {
  const int x = pixel_of(upper_handle ? upper_ : lower_);
  return QRect(x - kHandleWidth / 2, 1, kHandleWidth, std::max(1, height() - 2));
}

void RangeSlider::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QRect groove(groove_left(), height() / 2 - kGrooveHeight / 2, groove_right() - groove_left() + 1, kGrooveHeight);
  p.setPen(palette().dark().color());
  p.setBrush(palette().base());
  p.drawRoundedRect(QRectF(groove).adjusted(0.5, 0.5, -0.5, -0.5), 2, 2);
  const int lower_x = pixel_of(lower_), upper_x = pixel_of(upper_);
  p.fillRect(QRect(lower_x, groove.top(), upper_x - lower_x + 1, groove.height()), palette().highlight());
  // Focus shows on the handles' outline: the widget has no frame to show it on.
  p.setPen(hasFocus() ? palette().highlight().color() : palette().dark().color());
  p.setBrush(palette().button());
  for (const bool upper : {false, true}) p.drawRoundedRect(QRectF(handle_rect(upper)).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
}

void RangeSlider::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
  const int x = event->position().toPoint().x();
  const int lower_x = pixel_of(lower_), upper_x = pixel_of(upper_);
  press_x_ = x;
  press_lower_ = lower_;
  press_upper_ = upper_;
  grab_offset_ = 0;
  const int to_lower = std::abs(x - lower_x), to_upper = std::abs(x - upper_x);
  if (std::min(to_lower, to_upper) <= kHandleWidth / 2) {
    if (lower_x == upper_x)
      drag_ = x < lower_x ? Drag::kLower : x > upper_x ? Drag::kUpper : Drag::kEither;
    else
      drag_ = to_lower <= to_upper ? Drag::kLower : Drag::kUpper;
    grab_offset_ = x - (drag_ == Drag::kUpper ? upper_x : lower_x);
  } else if (x > lower_x && x < upper_x) {
    drag_ = Drag::kBand;
  } else {
    // A press on the bare groove moves the nearer end there and keeps dragging it.
    drag_ = x < lower_x ? Drag::kLower : Drag::kUpper;
    drag_to(x);
  }
}

void RangeSlider::mouseMoveEvent(QMouseEvent* event) {
  if (drag_ != Drag::kNone) drag_to(event->position().toPoint().x());
}

void RangeSlider::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return QWidget::mouseReleaseEvent(event);
  if (drag_ != Drag::kNone) drag_to(event->position().toPoint().x());
  drag_ = Drag::kNone;
}

void RangeSlider::drag_to(int x) {
  if (drag_ == Drag::kEither) {
    if (x == press_x_) return;
    drag_ = x < press_x_ ? Drag::kLower : Drag::kUpper;
  }
  // A handle stops at the other one rather than crossing it.
  if (drag_ == Drag::kLower) {
    set_values(std::min(value_at(x - grab_offset_), upper_), upper_);
  } else if (drag_ == Drag::kUpper) {
    set_values(lower_, std::max(value_at(x - grab_offset_), lower_));
  } else if (drag_ == Drag::kBand) {
    const double per_pixel = (double(maximum_) - double(minimum_)) / (groove_right() - groove_left());
    const double delta = std::clamp((x - press_x_) * per_pixel, double(minimum_) - double(press_lower_),
                                    double(maximum_) - double(press_upper_));
    const int64_t steps = std::llround(delta);
    const int64_t limited = std::clamp(steps, minimum_ - press_lower_, maximum_ - press_upper_);
    set_values(press_lower_ + limited, press_upper_ + limited);
  }
}

void RangeSlider::shift_band(int64_t delta) {
  delta = std::clamp(delta, minimum_ - lower_, maximum_ - upper_);
  set_values(lower_ + delta, upper_ + delta);
}

void RangeSlider::keyPressEvent(QKeyEvent* event) {
  const int64_t page = std::max<int64_t>(1, (maximum_ - minimum_) / 10);
  switch (event->key()) {
    case Qt::Key_Left: shift_band(-1); break;
    case Qt::Key_Right: shift_band(1); break;
    case Qt::Key_PageDown: shift_band(-page); break;
    case Qt::Key_PageUp: shift_band(page); break;
    case Qt::Key_Home: shift_band(minimum_ - lower_); break;
    case Qt::Key_End: shift_band(maximum_ - upper_); break;
    default: return QWidget::keyPressEvent(event);
  }
  event->accept();
}

}  // namespace moeprof::gui
