#include <map>

#include "moeprof/report/report.h"

namespace moeprof::report {

std::optional<std::string> render(const Report& report, std::string_view format) {
  using Renderer = std::string (*)(const Report&);
  static const std::map<std::string_view, Renderer> kRenderers = {
      {"json", render_json}, {"md", render_markdown}, {"html", render_html}, {"pdf", render_pdf}};
  const auto renderer = kRenderers.find(format);
  if (renderer == kRenderers.end()) return std::nullopt;
  return renderer->second(report);
}

}  // namespace moeprof::report
