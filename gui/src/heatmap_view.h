// A heatmap of a HeatmapModel (layer x expert load, expert x step load): one cell per value,
// coloured on a linear or log scale with a legend, the model's side text at the right of
// each row, its tooltip on hover, and a click selecting a cell. Painted from one image of
// the cells (a pixel each, scaled), so a 61 x 256 map repaints in well under a millisecond.
#pragma once

#include <QImage>
#include <QWidget>
#include <optional>

#include "colour_scale.h"
#include "heatmap_model.h"

namespace moeprof::gui {

class HeatmapView : public QWidget {
  Q_OBJECT

 public:
  explicit HeatmapView(QWidget* parent = nullptr);
  void set_model(HeatmapModel* model);
  void set_scale_mode(ColourScale::Mode mode);
  ColourScale::Mode scale_mode() const { return mode_; }
  // The cell (row, column) under a point, if any.
  std::optional<std::pair<int, int>> cell_at(QPoint point) const;
  // The rectangle a cell is painted in.
  QRect cell_rect(int row, int column) const;
  void select_cell(int row, int column);
  QSize sizeHint() const override { return {900, 600}; }

 Q_SIGNALS:
  void cell_clicked(int row, int column);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void rebuild();
  QRect cells_area() const;

  HeatmapModel* model_ = nullptr;
  ColourScale::Mode mode_ = ColourScale::Mode::kLinear;
  double max_value_ = 0;
  QImage cells_;  // one pixel per cell
  std::optional<std::pair<int, int>> selected_;
};

}  // namespace moeprof::gui
