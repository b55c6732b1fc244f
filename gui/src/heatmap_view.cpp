#include "heatmap_view.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

namespace moeprof::gui {
namespace {

// Margins around the cells: layer labels left, imbalance right, legend below.
constexpr int kLeft = 64, kTop = 22, kRight = 88, kBottom = 56;

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(320, 200);
}

void HeatmapView::set_model(HeatmapModel* model) {
  if (model_) disconnect(model_, nullptr, this, nullptr);
  model_ = model;
  if (model_) connect(model_, &QAbstractItemModel::modelReset, this, &HeatmapView::rebuild);
  rebuild();
}

void HeatmapView::set_scale_mode(ColourScale::Mode mode) {
  mode_ = mode;
  rebuild();
}

void HeatmapView::rebuild() {
  cells_ = QImage();
  max_value_ = 0;
  const int rows = model_ ? model_->rowCount() : 0, columns = model_ ? model_->value_columns() : 0;
  if (rows > 0 && columns > 0) {
    for (int row = 0; row < rows; ++row)
      for (int column = 0; column < columns; ++column) max_value_ = std::max(max_value_, model_->value(row, column));
    const ColourScale scale(mode_, max_value_);
    cells_ = QImage(columns, rows, QImage::Format_RGB32);
    for (int row = 0; row < rows; ++row) {
      auto* line = reinterpret_cast<QRgb*>(cells_.scanLine(row));
      for (int column = 0; column < columns; ++column) line[column] = scale.colour(model_->value(row, column)).rgb();
    }
  }
  update();
}

QRect HeatmapView::cells_area() const {
  return QRect(kLeft, kTop, std::max(1, width() - kLeft - kRight), std::max(1, height() - kTop - kBottom));
}

QRect HeatmapView::cell_rect(int row, int column) const {
  const QRect area = cells_area();
  const int rows = std::max(1, cells_.height()), columns = std::max(1, cells_.width());
  const int x0 = area.left() + column * area.width() / columns, x1 = area.left() + (column + 1) * area.width() / columns;
  const int y0 = area.top() + row * area.height() / rows, y1 = area.top() + (row + 1) * area.height() / rows;
  return QRect(QPoint(x0, y0), QPoint(x1 - 1, y1 - 1));
}

std::optional<std::pair<int, int>> HeatmapView::cell_at(QPoint point) const {
  const QRect area = cells_area();
  if (cells_.isNull() || !area.contains(point)) return std::nullopt;
  const int column = (point.x() - area.left()) * cells_.width() / area.width();
  const int row = (point.y() - area.top()) * cells_.height() / area.height();
  return std::make_pair(std::clamp(row, 0, cells_.height() - 1), std::clamp(column, 0, cells_.width() - 1));
}

void HeatmapView::select_cell(int row, int column) {
  selected_ = std::make_pair(row, column);
  update();
}

void HeatmapView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().text().color());
  if (cells_.isNull()) {
    p.drawText(rect(), Qt::AlignCenter, tr("No expert load in this selection"));
    return;
  }
  const QRect area = cells_area();
  p.drawImage(area, cells_);  // nearest-neighbour: each cell a solid block
  const int rows = cells_.height();
  const int label_every = std::max(1, rows * p.fontMetrics().height() / std::max(1, area.height()) + 1);
  for (int row = 0; row < rows; ++row) {
    const QRect r = cell_rect(row, 0);
    if (row % label_every == 0)
      p.drawText(QRect(0, r.top(), kLeft - 6, std::max(r.height(), p.fontMetrics().height())),
                 Qt::AlignRight | Qt::AlignTop, model_->row_label(row));
    if (row % label_every == 0 || r.height() >= p.fontMetrics().height())
      p.drawText(QRect(area.right() + 6, r.top(), kRight - 6, std::max(r.height(), p.fontMetrics().height())),
                 Qt::AlignLeft | Qt::AlignTop, model_->side_text(row));
  }
  p.drawText(QRect(area.right() + 6, 0, kRight, kTop - 2), Qt::AlignLeft | Qt::AlignBottom, model_->side_title());
  if (selected_) {
    p.setPen(QPen(Qt::white, 2));
    p.drawRect(cell_rect(selected_->first, selected_->second).adjusted(-1, -1, 1, 1));
    p.setPen(palette().text().color());
  }
  // Legend: the scale from 0 to the largest cell.
  const QRect legend(area.left(), area.bottom() + 12, std::min(area.width(), 300), 12);
  for (int x = 0; x < legend.width(); ++x)
    p.fillRect(legend.left() + x, legend.top(), 1, legend.height(),
               ColourScale::colour_at(static_cast<double>(x) / std::max(1, legend.width() - 1)));
  const QString scale_name = mode_ == ColourScale::Mode::kLog ? tr("log scale") : tr("linear scale");
  p.drawText(QRect(legend.left(), legend.bottom() + 2, legend.width(), 16), Qt::AlignLeft, QStringLiteral("0"));
  p.drawText(QRect(legend.left(), legend.bottom() + 2, legend.width(), 16), Qt::AlignRight,
             QString::number(max_value_, 'f', 0));
  p.drawText(QRect(legend.right() + 12, legend.top() - 2, width() - legend.right() - 12, 16), Qt::AlignLeft,
             tr("%1 (%2)").arg(model_->caption(), scale_name));
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
  if (const auto cell = cell_at(event->position().toPoint())) {
    select_cell(cell->first, cell->second);
    Q_EMIT cell_clicked(cell->first, cell->second);
  }
}

bool HeatmapView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const auto cell = cell_at(help->pos()); cell && model_)
      QToolTip::showText(help->globalPos(), model_->data(model_->index(cell->first, cell->second), Qt::ToolTipRole).toString(), this);
    else
      QToolTip::hideText();
    return true;
  }
  return QWidget::event(event);
}

}  // namespace moeprof::gui
