// The per-rank timeline: for every rank a compute lane and an all-to-all lane, the time
// where the two overlap shaded in a strip below them, and step starts as vertical markers.
// The wheel zooms around the pointer, a drag pans, hovering names the span under the
// pointer. Level of detail keeps a frame cheap whatever the zoom: spans narrower than a
// couple of pixels merge into one rectangle per run of touching pixels, so a frame draws at
// most a few rectangles per pixel column and lane (1 M spans paint in milliseconds), and only
// the spans inside the view are visited (binary search on start time).
#pragma once

#include <QWidget>
#include <optional>

#include "timeline_data.h"

namespace moeprof::gui {

class TimelineView : public QWidget {
  Q_OBJECT

 public:
  enum class Lane { kCompute, kComm, kOverlap };

  explicit TimelineView(QWidget* parent = nullptr);
  void set_timeline(TimelinePtr timeline);
  const Timeline* timeline() const { return timeline_.get(); }
  // Spans of this layer stand out, the others fade (linked selection); nullopt: none.
  void set_highlight_layer(std::optional<int32_t> layer);
  // The visible time, [begin, end) in trace nanoseconds.
  void set_view(double begin_ns, double end_ns);
  double view_begin() const { return view_begin_; }
  double view_end() const { return view_end_; }
  void reset_view();
  // Zooms by `factor` (> 1: in) keeping the time under x where it is.
  void zoom(double factor, double x);
  // Where lane `lane` of the `index`-th rank is drawn.
  QRect lane_rect(int index, Lane lane) const;
  double x_of(double ns) const;
  // What is under a point (the hover text), empty when nothing is.
  QString describe(QPoint point) const;
  QSize sizeHint() const override { return {1100, 600}; }
  // The solid colour of the overlap strips.
  static QColor overlap_colour();

 Q_SIGNALS:
  void view_changed(double begin_ns, double end_ns);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  struct Geometry {
    int lane_height, strip_height, block_height;
  };
  Geometry geometry() const;
  QRect plot_area() const;
  double ns_of(double x) const;
  void paint_axis(class QPainter& p) const;
  void paint_lane(class QPainter& p, const TimelineLane& lane, const QRect& where, bool comm) const;
  void paint_overlap(class QPainter& p, const RankTimeline& rank, const QRect& strip, const QRect& lanes) const;
  void paint_steps(class QPainter& p, const RankTimeline& rank, const QRect& block) const;
  // A compute span's name (empty when unnamed) and kind.
  QString name_of(const TimelineSpan& compute) const;
  static QString kind_name(const TimelineSpan& compute);
  const TimelineSpan* span_at(const TimelineLane& lane, double ns, double tolerance_ns) const;

  TimelinePtr timeline_;
  std::optional<int32_t> highlight_;
  double view_begin_ = 0, view_end_ = 1;
  std::optional<double> drag_x_;  // where a pan started
  double drag_begin_ = 0;
};

}  // namespace moeprof::gui
