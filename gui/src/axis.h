// Axis ticks shared by the charts and the timeline.
#pragma once

#include <cmath>

namespace moeprof::gui {

// A round tick spacing (1, 2 or 5 times a power of ten) that gives about `ticks` ticks over
// `span`; 1 for an empty span.
inline double tick_spacing(double span, double ticks) {
  const double raw = span / (ticks > 1 ? ticks : 1);
  if (!(raw > 0)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

}  // namespace moeprof::gui
