// A bar chart of a ChartModel: one group per row, its value columns as bars stacked (parts of
// one whole: overlapped + exposed communication) or side by side (before / after), a value
// axis, a legend naming the columns, the model's caption, and the row's numbers on hover.
#pragma once

#include <QWidget>
#include <optional>
#include <vector>

#include "chart_model.h"

namespace moeprof::gui {

class BarChartView : public QWidget {
  Q_OBJECT

 public:
  explicit BarChartView(QWidget* parent = nullptr);
  void set_model(ChartModel* model);
  // Where a row's bar of series `series` is painted (empty for a zero value).
  QRect bar_rect(int row, int series) const;
  std::optional<int> row_at(QPoint point) const;
  QSize sizeHint() const override { return {900, 500}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  QRect plot_area() const;
  double axis_max() const;

  ChartModel* model_ = nullptr;
  std::vector<ChartSeries> series_;  // the model's
};

}  // namespace moeprof::gui
