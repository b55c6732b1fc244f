#include <map>

#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

using Renderer = std::string (*)(const Report&);

const std::map<std::string_view, Renderer>& renderers() {
  static const std::map<std::string_view, Renderer> kRenderers = {
      {"json", render_json}, {"md", render_markdown}, {"html", render_html}, {"pdf", render_pdf}};
  return kRenderers;
}

}  // namespace

bool is_format(std::string_view format) { return renderers().contains(format); }

std::optional<std::string> render(const Report& report, std::string_view format) {
  const auto renderer = renderers().find(format);
  if (renderer == renderers().end()) return std::nullopt;
  return renderer->second(report);
}

}  // namespace moeprof::report
