// moeprof-gui [FILE.db]
// moeprof-gui --render VIEW --out FILE.png|FILE.svg [--steps A:B] [--rank R] [--layer L] [--log] [--size WxH] FILE.db
#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "main_window.h"
#include "render.h"

namespace {

using moeprof::gui::RenderOptions;

// "A:B" (either side may be empty) into [A, B); false when malformed.
bool parse_steps(const QString& text, RenderOptions* o) {
  const QStringList parts = text.split(':');
  if (parts.size() != 2) return false;
  bool ok = true;
  if (!parts[0].isEmpty()) o->selection.step_begin = parts[0].toLongLong(&ok);
  if (ok && !parts[1].isEmpty()) o->selection.step_end = parts[1].toLongLong(&ok);
  return ok;
}

bool parse_size(const QString& text, RenderOptions* o) {
  const QStringList parts = text.split('x');
  bool w_ok = false, h_ok = false;
  if (parts.size() == 2) o->size = QSize(parts[0].toInt(&w_ok), parts[1].toInt(&h_ok));
  return w_ok && h_ok && o->size.width() >= 100 && o->size.height() >= 100 && o->size.width() <= 16384 &&
         o->size.height() <= 16384;
}

int fail(const QString& message) {
  std::fprintf(stderr, "moeprof-gui: %s\n", message.toLocal8Bit().constData());
  return 2;
}

// Renders print one line on failure: Qt's own debug and warning chatter (about the runtime
// directory of a headless session, say) is not for them.
void quiet_messages(QtMsgType type, const QMessageLogContext&, const QString& message) {
  if (type == QtCriticalMsg || type == QtFatalMsg) std::fprintf(stderr, "moeprof-gui: %s\n", message.toLocal8Bit().constData());
}

}  // namespace

int main(int argc, char** argv) {
  // A render needs no display: use the offscreen platform unless the caller chose one.
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--render") == 0) {
      if (std::getenv("QT_QPA_PLATFORM") == nullptr) setenv("QT_QPA_PLATFORM", "offscreen", 1);
      qInstallMessageHandler(quiet_messages);
    }
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("moeprof"));
  QApplication::setApplicationName(QStringLiteral("moeprof-gui"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("The moeprof trace viewer"));
  parser.addHelpOption();
  const QCommandLineOption render(QStringLiteral("render"), QStringLiteral("Render VIEW (%1) to --out and exit.")
                                                  .arg(moeprof::gui::render_views().join(", ")), QStringLiteral("VIEW"));
  const QCommandLineOption out(QStringLiteral("out"), QStringLiteral("The file a render writes (.png or .svg)."), QStringLiteral("FILE"));
  const QCommandLineOption steps(QStringLiteral("steps"), QStringLiteral("Steps [A, B) of a render."), QStringLiteral("A:B"));
  const QCommandLineOption rank(QStringLiteral("rank"), QStringLiteral("One rank only, for a render."), QStringLiteral("R"));
  const QCommandLineOption layer(QStringLiteral("layer"), QStringLiteral("The layer of the expert-steps view (default 0) or of the a2a view (default: all)."),
                                 QStringLiteral("L"));
  const QCommandLineOption log(QStringLiteral("log"), QStringLiteral("Log colour scale for a render."));
  const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Size of a render (default 1200x800)."), QStringLiteral("WxH"));
  parser.addOptions({render, out, steps, rank, layer, log, size});
  parser.addPositionalArgument(QStringLiteral("trace"), QStringLiteral("A trace (.db) to open."));
  if (!parser.parse(QApplication::arguments())) return fail(parser.errorText());
  if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);
  const QStringList files = parser.positionalArguments();
  if (files.size() > 1) return fail(QStringLiteral("one trace at a time, got %1").arg(files.size()));

  if (parser.isSet(render)) {
    RenderOptions o;
    o.view = parser.value(render);
    o.out = parser.value(out);
    if (files.isEmpty()) return fail(QStringLiteral("--render needs a trace"));
    if (o.out.isEmpty()) return fail(QStringLiteral("--render needs --out FILE"));
    o.trace = files.first();
    if (parser.isSet(steps) && !parse_steps(parser.value(steps), &o))
      return fail(QStringLiteral("--steps must be A:B, not '%1'").arg(parser.value(steps)));
    if (parser.isSet(rank)) {
      bool ok = false;
      o.selection.rank = parser.value(rank).toInt(&ok);
      if (!ok) return fail(QStringLiteral("--rank must be a number, not '%1'").arg(parser.value(rank)));
    }
    if (parser.isSet(layer)) {
      bool ok = false;
      o.layer = parser.value(layer).toInt(&ok);
      o.layer_given = true;
      if (!ok || o.layer < 0) return fail(QStringLiteral("--layer must be a layer number, not '%1'").arg(parser.value(layer)));
    }
    if (parser.isSet(size) && !parse_size(parser.value(size), &o))
      return fail(QStringLiteral("--size must be WxH between 100 and 16384, not '%1'").arg(parser.value(size)));
    o.log_scale = parser.isSet(log);
    QString error;
    return moeprof::gui::render_view(o, &error) ? 0 : fail(error);
  }

  moeprof::gui::MainWindow window;
  window.show();
  if (!files.isEmpty()) window.open_trace(files.first());
  return QApplication::exec();
}
