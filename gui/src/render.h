// Headless renders: one view of a trace drawn into a PNG or SVG file without showing a window
// (`moeprof-gui --render VIEW --out FILE trace.db`), for reports, the README and tests.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>
#include <optional>

#include "trace_queries.h"

class QWidget;

namespace moeprof::gui {

struct RenderOptions {
  QString view;   // one of render_views()
  QString out;    // .png or .svg
  QString trace;
  LoadSelection selection;
  int32_t layer = 0;         // of the expert-steps view, and of the a2a view when given
  bool layer_given = false;  // the a2a view shows all layers otherwise
  bool log_scale = false;
  QSize size{1200, 800};
};

// Draws a widget as it is into a file: SVG when the name ends in .svg, else PNG. false and a
// one-line `error` when the file cannot be written.
bool save_widget(QWidget& widget, const QString& path, QString* error);

// The views --render draws.
QStringList render_views();
// false and a one-line `error` on a bad view, file or trace.
bool render_view(const RenderOptions& options, QString* error);

}  // namespace moeprof::gui
