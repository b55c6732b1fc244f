// Maps a value in [0, max] to a heatmap colour, linearly or logarithmically (log keeps cold
// experts apart when a few hot ones dominate), dark blue (none) to yellow (max).
#pragma once

#include <QColor>

namespace moeprof::gui {

class ColourScale {
 public:
  enum class Mode { kLinear, kLog };

  ColourScale(Mode mode, double max) : mode_(mode), max_(max > 0 ? max : 1) {}
  // Position of `value` on the scale, in [0, 1].
  double position(double value) const;
  QColor colour(double value) const { return colour_at(position(value)); }
  static QColor colour_at(double position);
  Mode mode() const { return mode_; }
  double max() const { return max_; }

 private:
  Mode mode_;
  double max_;
};

}  // namespace moeprof::gui
