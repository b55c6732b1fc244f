#include "bar_chart_view.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "axis.h"

namespace moeprof::gui {
namespace {

constexpr int kLeft = 80, kTop = 46, kRight = 16, kBottom = 34;

}  // namespace

BarChartView::BarChartView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(320, 200);
}

void BarChartView::set_model(ChartModel* model) {
  if (model_) disconnect(model_, nullptr, this, nullptr);
  model_ = model;
  series_ = model_ ? model_->series() : std::vector<ChartSeries>();
  if (model_) connect(model_, &QAbstractItemModel::modelReset, this, qOverload<>(&QWidget::update));
  update();
}

QRect BarChartView::plot_area() const {
  return QRect(kLeft, kTop, std::max(1, width() - kLeft - kRight), std::max(1, height() - kTop - kBottom));
}

// The largest bar (a stack's total, or the largest single value), rounded up to a tick.
double BarChartView::axis_max() const {
  double top = 0;
  for (int row = 0; model_ && row < model_->rowCount(); ++row) {
    double stack = 0;
    for (const ChartSeries& s : series_) {
      const double v = model_->value(row, s.column);
      stack = model_->stacked() ? stack + v : std::max(stack, v);
    }
    top = std::max(top, stack);
  }
  const double step = tick_spacing(top, 5);
  return top > 0 ? std::ceil(top / step) * step : 1;
}

QRect BarChartView::bar_rect(int row, int series) const {
  const int rows = model_ ? model_->rowCount() : 0;
  if (row < 0 || row >= rows || series < 0 || series >= static_cast<int>(series_.size())) return {};
  const QRect area = plot_area();
  const double slot = static_cast<double>(area.width()) / rows, max = axis_max();
  const double bar_width = std::max(1.0, slot * 0.8), gap = (slot - bar_width) / 2;
  const auto y_of = [&](double v) { return area.bottom() + 1 - v / max * area.height(); };
  double left = area.left() + row * slot + gap, width = bar_width, below = 0;
  if (!model_->stacked()) {
    width = bar_width / static_cast<double>(series_.size());
    left += series * width;
  } else {
    for (int s = 0; s < series; ++s) below += model_->value(row, series_[static_cast<size_t>(s)].column);
  }
  const double value = model_->value(row, series_[static_cast<size_t>(series)].column);
  if (value <= 0) return {};
  // Edges rounded once, so stacked bars meet without a gap or an overlap.
  const int x0 = static_cast<int>(std::lround(left)), x1 = std::max(x0 + 1, static_cast<int>(std::lround(left + width)) - (width > 4 ? 1 : 0));
  const int y0 = static_cast<int>(std::lround(y_of(below + value))), y1 = static_cast<int>(std::lround(y_of(below)));
  return y1 > y0 ? QRect(QPoint(x0, y0), QPoint(x1 - 1, y1 - 1)) : QRect();
}

std::optional<int> BarChartView::row_at(QPoint point) const {
  const QRect area = plot_area();
  const int rows = model_ ? model_->rowCount() : 0;
  if (rows == 0 || point.x() < area.left() || point.x() > area.right() || point.y() < area.top() || point.y() > area.bottom() + kBottom)
    return std::nullopt;
  return std::clamp((point.x() - area.left()) * rows / area.width(), 0, rows - 1);
}

void BarChartView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().text().color());
  const int rows = model_ ? model_->rowCount() : 0;
  if (rows == 0) {
    p.drawText(rect(), Qt::AlignCenter, model_ && model_->report() ? tr("Nothing to show in this selection") : tr("Loading..."));
    return;
  }
  const QRect area = plot_area();
  const int line = p.fontMetrics().height();
  p.drawText(QRect(8, 4, width() - 16, line), Qt::AlignLeft, model_->caption());
  // Legend.
  int x = kLeft;
  for (const ChartSeries& s : series_) {
    p.fillRect(x, 8 + line, 12, 12, s.colour);
    const QString name = model_->headerData(s.column, Qt::Horizontal).toString();
    p.drawText(QRect(x + 16, 6 + line, 400, line), Qt::AlignLeft, name);
    x += 28 + p.fontMetrics().horizontalAdvance(name);
  }
  // Value axis and grid.
  const double max = axis_max(), step = tick_spacing(max, 5);
  QColor grid = palette().mid().color();
  grid.setAlpha(80);
  for (double v = 0; v <= max * (1 + 1e-9); v += step) {
    const int y = area.bottom() + 1 - static_cast<int>(v / max * area.height());
    p.setPen(grid);
    p.drawLine(area.left(), y, area.right(), y);
    p.setPen(palette().text().color());
    p.drawText(QRect(0, y - line / 2, kLeft - 6, line), Qt::AlignRight | Qt::AlignVCenter, QString::number(v, 'g', 6));
  }
  p.drawText(QRect(4, area.top() - line - 2, kLeft, line), Qt::AlignLeft, model_->unit());
  // Bars, and row labels wherever there is room.
  const int label_every = std::max(1, rows * (p.fontMetrics().horizontalAdvance(QStringLiteral("000")) + 6) / area.width() + 1);
  for (int row = 0; row < rows; ++row) {
    for (size_t s = 0; s < series_.size(); ++s) {
      const QRect bar = bar_rect(row, static_cast<int>(s));
      if (!bar.isEmpty()) p.fillRect(bar, series_[s].colour);
    }
    if (row % label_every == 0) {
      const int centre = area.left() + (2 * row + 1) * area.width() / (2 * rows);
      p.drawText(QRect(centre - 30, area.bottom() + 4, 60, line), Qt::AlignHCenter | Qt::AlignTop,
                 model_->data(model_->index(row, 0)).toString());
    }
  }
  p.drawText(QRect(area.left(), area.bottom() + 4 + line, area.width(), line), Qt::AlignHCenter,
             model_->headerData(0, Qt::Horizontal).toString());
}

bool BarChartView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const auto row = row_at(help->pos())) {
      QStringList lines{QStringLiteral("%1 %2").arg(model_->headerData(0, Qt::Horizontal).toString(),
                                                    model_->data(model_->index(*row, 0)).toString())};
      for (int c = 1; c < model_->columnCount(); ++c)
        lines << QStringLiteral("%1: %2").arg(model_->headerData(c, Qt::Horizontal).toString(),
                                              model_->data(model_->index(*row, c)).toString());
      QToolTip::showText(help->globalPos(), lines.join('\n'), this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace moeprof::gui
