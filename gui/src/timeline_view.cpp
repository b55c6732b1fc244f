#include "timeline_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "axis.h"
#include "moeprof/cli/names.h"

namespace moeprof::gui {
namespace {

constexpr int kLabelWidth = 124, kAxisHeight = 26, kRightMargin = 8;
constexpr double kMinSolidPx = 2.0;    // narrower spans merge into runs
constexpr double kMinViewNs = 1000.0;  // zoom stops at a microsecond across
const QColor kOverlapColour(67, 160, 71);

QColor compute_colour(uint8_t kind) {
  switch (static_cast<wire::ComputeKind>(kind)) {
    case wire::ComputeKind::kGate: return {126, 87, 194};
    case wire::ComputeKind::kExpert: return {30, 136, 229};
    case wire::ComputeKind::kSharedExpert: return {0, 172, 193};
    case wire::ComputeKind::kAttention: return {141, 110, 99};
    case wire::ComputeKind::kOther: break;
  }
  return {120, 144, 156};
}

QColor comm_colour(uint8_t phase) {
  switch (static_cast<wire::Phase>(phase)) {
    case wire::Phase::kDispatch: return {251, 140, 0};
    case wire::Phase::kCombine: return {229, 57, 53};
    case wire::Phase::kOther: break;
  }
  return {253, 216, 53};
}

QString duration(double ns) {
  const double a = std::abs(ns);
  if (a >= 1e9) return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 3);
  if (a >= 1e6) return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', 3);
  if (a >= 1e3) return QStringLiteral("%1 µs").arg(ns / 1e3, 0, 'f', 2);
  return QStringLiteral("%1 ns").arg(ns, 0, 'f', 0);
}

QString bytes(double b) {
  if (b >= 1 << 30) return QStringLiteral("%1 GiB").arg(b / (1 << 30), 0, 'f', 2);
  if (b >= 1 << 20) return QStringLiteral("%1 MiB").arg(b / (1 << 20), 0, 'f', 2);
  if (b >= 1 << 10) return QStringLiteral("%1 KiB").arg(b / (1 << 10), 0, 'f', 1);
  return QStringLiteral("%1 B").arg(b, 0, 'f', 0);
}

// A tick's time in the unit of the spacing, with as many decimals as the spacing needs.
QString tick_label(double ns, double spacing) {
  const auto [unit, name] = spacing >= 1e9 ? std::pair(1e9, "s") : spacing >= 1e6 ? std::pair(1e6, "ms")
                          : spacing >= 1e3 ? std::pair(1e3, "µs") : std::pair(1.0, "ns");
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(spacing / unit) - 1e-9)));
  return QStringLiteral("%1 %2").arg(ns / unit, 0, 'f', decimals).arg(QString::fromUtf8(name));
}

// Sub-pixel pieces merged into runs: a piece starting within a pixel of the open run extends
// it; a flush paints the open run with `paint(x, width)`, at least a pixel wide.
class PixelRun {
 public:
  bool continues(double x0) const { return open_ && x0 <= x1_ + 1; }
  void extend(double x1) { x1_ = std::max(x1_, x1); }
  void start(double x0, double x1) {
    open_ = true;
    x0_ = x0;
    x1_ = x1;
  }
  template <class Paint>
  void flush(Paint&& paint) {
    if (open_) paint(x0_, std::max(1.0, x1_ - x0_));
    open_ = false;
  }

 private:
  bool open_ = false;
  double x0_ = 0, x1_ = 0;
};

// First span that may reach `ns`: spans start in order and none is longer than `longest`.
size_t first_visible(const TimelineLane& lane, double ns) {
  const double from = ns - static_cast<double>(lane.longest_ns);
  return static_cast<size_t>(std::lower_bound(lane.spans.begin(), lane.spans.end(), from,
                                              [](const TimelineSpan& s, double t) { return static_cast<double>(s.start_ns) < t; }) -
                             lane.spans.begin());
}

}  // namespace

QColor TimelineView::overlap_colour() { return kOverlapColour; }

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(400, 160);
}

void TimelineView::set_timeline(TimelinePtr timeline) {
  timeline_ = std::move(timeline);
  reset_view();
}

void TimelineView::set_highlight_layer(std::optional<int32_t> layer) {
  highlight_ = layer;
  update();
}

void TimelineView::reset_view() {
  if (timeline_ && timeline_->end_ns > timeline_->begin_ns)
    set_view(static_cast<double>(timeline_->begin_ns), static_cast<double>(timeline_->end_ns));
  else
    set_view(0, kMinViewNs);
}

void TimelineView::set_view(double begin_ns, double end_ns) {
  if (end_ns - begin_ns < kMinViewNs) {
    const double middle = (begin_ns + end_ns) / 2;
    begin_ns = middle - kMinViewNs / 2;
    end_ns = middle + kMinViewNs / 2;
  }
  view_begin_ = begin_ns;
  view_end_ = end_ns;
  update();
  Q_EMIT view_changed(view_begin_, view_end_);
}

void TimelineView::zoom(double factor, double x) {
  const double at = ns_of(x);
  set_view(at - (at - view_begin_) / factor, at + (view_end_ - at) / factor);
}

QRect TimelineView::plot_area() const {
  return QRect(kLabelWidth, kAxisHeight, std::max(1, width() - kLabelWidth - kRightMargin), std::max(1, height() - kAxisHeight));
}

double TimelineView::x_of(double ns) const {
  const QRect area = plot_area();
  return area.left() + (ns - view_begin_) * area.width() / (view_end_ - view_begin_);
}

double TimelineView::ns_of(double x) const {
  const QRect area = plot_area();
  return view_begin_ + (x - area.left()) * (view_end_ - view_begin_) / area.width();
}

// Lanes shrink to fit every rank into the height, down to a few pixels each.
TimelineView::Geometry TimelineView::geometry() const {
  const int ranks = timeline_ ? std::max<int>(1, static_cast<int>(timeline_->ranks.size())) : 1;
  const int per_rank = (height() - kAxisHeight - 4) / ranks;  // two lanes, a strip, a gap
  const int lane = std::clamp(per_rank * 3 / 8, 3, 30);
  const int strip = std::max(2, lane / 3);
  return {lane, strip, 2 * lane + strip + std::max(2, lane / 3)};
}

QRect TimelineView::lane_rect(int index, Lane lane) const {
  const Geometry g = geometry();
  const QRect area = plot_area();
  const int top = area.top() + 2 + index * g.block_height;
  switch (lane) {
    case Lane::kCompute: return QRect(area.left(), top, area.width(), g.lane_height);
    case Lane::kComm: return QRect(area.left(), top + g.lane_height, area.width(), g.lane_height);
    case Lane::kOverlap: break;
  }
  return QRect(area.left(), top + 2 * g.lane_height, area.width(), g.strip_height);
}

void TimelineView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().text().color());
  if (!timeline_ || timeline_->span_count == 0) {
    p.drawText(rect(), Qt::AlignCenter, tr("No compute or all-to-all spans in this selection"));
    return;
  }
  paint_axis(p);
  const Geometry g = geometry();
  for (size_t i = 0; i < timeline_->ranks.size(); ++i) {
    const RankTimeline& rank = timeline_->ranks[i];
    const int index = static_cast<int>(i);
    const QRect compute = lane_rect(index, Lane::kCompute), comm = lane_rect(index, Lane::kComm);
    const QRect strip = lane_rect(index, Lane::kOverlap);
    if (compute.top() > height()) break;
    p.setPen(palette().text().color());
    if (g.lane_height >= p.fontMetrics().height() - 4) {
      p.drawText(QRect(4, compute.top(), kLabelWidth - 8, compute.height()), Qt::AlignLeft | Qt::AlignVCenter,
                 tr("rank %1").arg(rank.rank));
      p.drawText(QRect(4, compute.top(), kLabelWidth - 8, compute.height()), Qt::AlignRight | Qt::AlignVCenter, tr("compute"));
      p.drawText(QRect(4, comm.top(), kLabelWidth - 8, comm.height()), Qt::AlignRight | Qt::AlignVCenter, tr("all-to-all"));
    } else if (index % std::max(1, p.fontMetrics().height() / g.block_height + 1) == 0) {
      p.drawText(QRect(4, compute.top(), kLabelWidth - 8, p.fontMetrics().height()), Qt::AlignLeft | Qt::AlignTop,
                 tr("rank %1").arg(rank.rank));
    }
    p.save();
    p.setClipRect(plot_area());
    paint_lane(p, rank.compute, compute, false);
    paint_lane(p, rank.comm, comm, true);
    paint_overlap(p, rank, strip, compute.united(comm));
    paint_steps(p, rank, compute.united(strip));
    p.restore();
  }
}

void TimelineView::paint_axis(QPainter& p) const {
  const QRect area = plot_area();
  const double spacing = std::max(1.0, tick_spacing(view_end_ - view_begin_, area.width() / 110.0));
  const double origin = static_cast<double>(timeline_->begin_ns);
  p.setPen(palette().mid().color());
  p.drawLine(area.left(), kAxisHeight - 1, area.right(), kAxisHeight - 1);
  for (double t = std::ceil((view_begin_ - origin) / spacing) * spacing; t + origin <= view_end_; t += spacing) {
    const int x = static_cast<int>(x_of(t + origin));
    p.setPen(palette().mid().color());
    p.drawLine(x, kAxisHeight - 6, x, kAxisHeight - 1);
    p.setPen(palette().text().color());
    const QString label = tick_label(t, spacing);
    if (x + 3 + p.fontMetrics().horizontalAdvance(label) <= area.right())
      p.drawText(QRect(x + 3, 2, 110, kAxisHeight - 8), Qt::AlignLeft | Qt::AlignVCenter, label);
  }
  QString steps;
  if (timeline_->steps)
    steps = tr("steps %1-%2%3").arg(timeline_->steps->first).arg(timeline_->steps->second).arg(timeline_->cut ? tr(" (cut)") : QString());
  p.drawText(QRect(4, 2, kLabelWidth - 8, kAxisHeight - 4), Qt::AlignLeft | Qt::AlignVCenter, steps);
}

// Spans of at least kMinSolidPx pixels are drawn one by one (named when wide enough);
// narrower ones merge with whatever touches them into one rectangle.
void TimelineView::paint_lane(QPainter& p, const TimelineLane& lane, const QRect& where, bool comm) const {
  const double left = where.left(), right = where.right() + 1, top = where.top() + 1, h = where.height() - 1;
  PixelRun run;
  QColor run_colour;
  const auto paint_run = [&](double x, double w) { p.fillRect(QRectF(x, top, w, h), run_colour); };
  const auto colour_of = [&](const TimelineSpan& s) {
    QColor c = comm ? comm_colour(s.kind) : compute_colour(s.kind);
    if (highlight_ && *highlight_ != s.layer) c.setAlpha(70);
    return c;
  };
  const bool labels = where.height() >= p.fontMetrics().height() - 2;
  for (size_t i = first_visible(lane, view_begin_); i < lane.spans.size(); ++i) {
    const TimelineSpan& s = lane.spans[i];
    if (static_cast<double>(s.start_ns) >= view_end_) break;
    const double x0 = std::max(left - 1, x_of(static_cast<double>(s.start_ns)));
    const double x1 = std::min(right + 1, x_of(static_cast<double>(s.end_ns)));
    if (x1 < left) continue;
    if (x1 - x0 >= kMinSolidPx) {
      run.flush(paint_run);
      const QRectF r(x0, top, x1 - x0 - (x1 - x0 > 4 ? 1 : 0), h);  // a pixel gap between wide spans
      p.fillRect(r, colour_of(s));
      if (labels && r.width() > 48) {
        p.setPen(Qt::white);
        const QString text = comm ? QString::fromStdString(cli::phase_name(static_cast<wire::Phase>(s.kind)))
                                  : s.detail >= 0 ? name_of(s) : kind_name(s);
        p.drawText(r.adjusted(3, 0, -2, 0), Qt::AlignVCenter | Qt::AlignLeft,
                   p.fontMetrics().elidedText(QStringLiteral("%1 L%2").arg(text).arg(s.layer), Qt::ElideRight, static_cast<int>(r.width()) - 5));
      }
    } else if (run.continues(x0)) {
      run.extend(x1);
      if (run_colour.alpha() < 255) run_colour = colour_of(s);  // a highlighted span shows through its run
    } else {
      run.flush(paint_run);
      run_colour = colour_of(s);
      run.start(x0, x1);
    }
  }
  run.flush(paint_run);
}

// Overlap: a solid strip below the lanes, and a light wash over them, merged to pixels.
void TimelineView::paint_overlap(QPainter& p, const RankTimeline& rank, const QRect& strip, const QRect& lanes) const {
  QColor wash = kOverlapColour;
  wash.setAlpha(60);
  PixelRun run;
  const auto paint_run = [&](double x, double w) {
    p.fillRect(QRectF(x, strip.top(), w, strip.height()), kOverlapColour);
    p.fillRect(QRectF(x, lanes.top(), w, lanes.height()), wash);
  };
  const auto from = std::lower_bound(rank.overlap.begin(), rank.overlap.end(), view_begin_,
                                     [](const analysis::Interval& i, double t) { return static_cast<double>(i.end_ns) < t; });
  for (auto it = from; it != rank.overlap.end() && static_cast<double>(it->start_ns) < view_end_; ++it) {
    const double x0 = x_of(static_cast<double>(it->start_ns)), x1 = x_of(static_cast<double>(it->end_ns));
    if (run.continues(x0)) {
      run.extend(x1);
    } else {
      run.flush(paint_run);
      run.start(x0, x1);
    }
  }
  run.flush(paint_run);
}

// A thin line at each step start, thinned out where steps are closer than a few pixels.
void TimelineView::paint_steps(QPainter& p, const RankTimeline& rank, const QRect& block) const {
  QColor line = palette().text().color();
  line.setAlpha(110);
  p.setPen(line);
  double last_x = -1e9, last_label = -1e9;
  const auto from = std::lower_bound(rank.step_starts.begin(), rank.step_starts.end(), view_begin_,
                                     [](const auto& s, double t) { return static_cast<double>(s.second) < t; });
  const bool labels = block.height() >= 2 * p.fontMetrics().height() - 6;
  for (auto it = from; it != rank.step_starts.end() && static_cast<double>(it->second) < view_end_; ++it) {
    const double x = x_of(static_cast<double>(it->second));
    if (x - last_x < 4) continue;
    p.drawLine(QPointF(x, block.top()), QPointF(x, block.bottom()));
    last_x = x;
    if (labels && x - last_label > 60) {
      p.drawText(QRectF(x + 2, block.top(), 58, p.fontMetrics().height()), Qt::AlignLeft | Qt::AlignTop,
                 tr("step %1").arg(it->first));
      last_label = x;
    }
  }
}

QString TimelineView::name_of(const TimelineSpan& compute) const {
  return compute.detail >= 0 ? QString::fromStdString(timeline_->names[static_cast<size_t>(compute.detail)]) : QString();
}

QString TimelineView::kind_name(const TimelineSpan& compute) {
  return QString::fromStdString(cli::compute_kind_name(static_cast<wire::ComputeKind>(compute.kind)));
}

const TimelineSpan* TimelineView::span_at(const TimelineLane& lane, double ns, double tolerance_ns) const {
  const TimelineSpan* best = nullptr;
  double best_distance = tolerance_ns;
  for (size_t i = first_visible(lane, ns - tolerance_ns); i < lane.spans.size(); ++i) {
    const TimelineSpan& s = lane.spans[i];
    if (static_cast<double>(s.start_ns) > ns + tolerance_ns) break;
    const double distance = ns < s.start_ns ? s.start_ns - ns : ns >= s.end_ns ? ns - s.end_ns : 0;
    if (distance < best_distance || (distance == 0 && !best)) {
      best = &s;
      best_distance = distance;
    }
  }
  return best;
}

QString TimelineView::describe(QPoint point) const {
  if (!timeline_ || !plot_area().contains(point)) return {};
  const double ns = ns_of(point.x());
  const double tolerance = 2 * (view_end_ - view_begin_) / plot_area().width();
  for (size_t i = 0; i < timeline_->ranks.size(); ++i) {
    const RankTimeline& rank = timeline_->ranks[i];
    const int index = static_cast<int>(i);
    const auto where = [&](const TimelineSpan& s) {
      return tr("rank %1, step %2, layer %3\n").arg(rank.rank).arg(s.step).arg(s.layer);
    };
    if (lane_rect(index, Lane::kCompute).contains(point)) {
      const TimelineSpan* s = span_at(rank.compute, ns, tolerance);
      if (!s) return {};
      return where(*s) + tr("%1 (%2): %3").arg(name_of(*s), kind_name(*s), duration(static_cast<double>(s->end_ns - s->start_ns)));
    }
    if (lane_rect(index, Lane::kComm).contains(point)) {
      const TimelineSpan* s = span_at(rank.comm, ns, tolerance);
      if (!s) return {};
      return where(*s) + tr("%1 all-to-all: %2, %3 sent")
                             .arg(QString::fromStdString(cli::phase_name(static_cast<wire::Phase>(s->kind))),
                                  duration(static_cast<double>(s->end_ns - s->start_ns)), bytes(static_cast<double>(s->detail)));
    }
    if (lane_rect(index, Lane::kOverlap).contains(point)) {
      const auto it = std::lower_bound(rank.overlap.begin(), rank.overlap.end(), ns - tolerance,
                                       [](const analysis::Interval& v, double t) { return static_cast<double>(v.end_ns) < t; });
      if (it == rank.overlap.end() || static_cast<double>(it->start_ns) > ns + tolerance) return {};
      return tr("rank %1: all-to-all overlapping compute for %2").arg(rank.rank).arg(duration(static_cast<double>(it->end_ns - it->start_ns)));
    }
  }
  return {};
}

void TimelineView::wheelEvent(QWheelEvent* event) {
  const double notches = event->angleDelta().y() / 120.0;
  if (notches != 0) zoom(std::pow(1.25, notches), event->position().x());
  event->accept();
}

void TimelineView::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  drag_x_ = event->position().x();
  drag_begin_ = view_begin_;
  setCursor(Qt::ClosedHandCursor);
}

void TimelineView::mouseMoveEvent(QMouseEvent* event) {
  if (drag_x_) {
    const double shift = (event->position().x() - *drag_x_) * (view_end_ - view_begin_) / plot_area().width();
    const double length = view_end_ - view_begin_;
    set_view(drag_begin_ - shift, drag_begin_ - shift + length);
    return;
  }
  const QString text = describe(event->position().toPoint());
  if (text.isEmpty())
    QToolTip::hideText();
  else
    QToolTip::showText(event->globalPosition().toPoint(), text, this);
}

void TimelineView::mouseReleaseEvent(QMouseEvent*) {
  drag_x_.reset();
  unsetCursor();
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent*) { reset_view(); }

}  // namespace moeprof::gui
