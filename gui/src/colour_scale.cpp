#include "colour_scale.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace moeprof::gui {

double ColourScale::position(double value) const {
  const double v = std::clamp(value, 0.0, max_);
  return mode_ == Mode::kLinear ? v / max_ : std::log1p(v) / std::log1p(max_);
}

QColor ColourScale::colour_at(double position) {
  // A perceptually ordered ramp (stops close to viridis).
  static constexpr std::array<std::array<int, 3>, 5> kStops{
      {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  const double x = std::clamp(position, 0.0, 1.0) * (kStops.size() - 1);
  const auto i = std::min(static_cast<size_t>(x), kStops.size() - 2);
  const double f = x - static_cast<double>(i);
  const auto mix = [&](int c) { return static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c]))); };
  return QColor(mix(0), mix(1), mix(2));
}

}  // namespace moeprof::gui
