// What HeatmapView paints: a table model whose first value_columns() columns are cells with
// a value each, a label per row, a text beside each row, and a caption for the legend.
#pragma once

#include <QAbstractTableModel>
#include <QString>

namespace moeprof::gui {

class HeatmapModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Roles {
    kTokensRole = Qt::UserRole + 1,  // double: the cell's tokens
    kShareRole,                      // double: the cell's share of its layer's tokens
    kFirstFreeRole,                  // roles of a derived model start here
  };

  using QAbstractTableModel::QAbstractTableModel;
  virtual int value_columns() const = 0;
  virtual double value(int row, int column) const = 0;
  virtual QString row_label(int row) const { return QString::number(row); }
  virtual QString side_text(int row) const = 0;  // beside the row (its imbalance, its share)
  virtual QString side_title() const = 0;
  virtual QString caption() const = 0;           // what rows, columns and colours are

 protected:
  // data() of a cell of `tokens`, `share` of its layer's: the text, both numbers, and a
  // tooltip naming the cell (`where`) with both.
  static QVariant token_cell(int role, double tokens, double share, const QString& where);
};

}  // namespace moeprof::gui
