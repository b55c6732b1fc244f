// The report as Markdown: the document's paragraphs and tables (its charts are in the HTML
// and PDF reports; their numbers are in the tables and the JSON).
#include <string>

#include "document.h"
#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

std::string table_row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + c + " |";
  return out + "\n";
}

struct MarkdownBlock {
  std::string& md;
  void operator()(const std::string& paragraph) const { md += paragraph + "\n\n"; }
  void operator()(const Table& t) const {
    md += table_row(t.header) + "|";
    for (size_t i = 0; i < t.header.size(); ++i) md += "---|";
    md += "\n";
    for (const auto& row : t.rows) md += table_row(row);
    md += "\n";
  }
  void operator()(const Figure& f) const { md += "_Chart: " + f.caption + " (in the HTML and PDF reports)._\n\n"; }
};

}  // namespace

std::string render_markdown(const Report& r) {
  const Document d = layout_report(r);
  std::string md = "# " + d.title + "\n\n";
  for (const Section& s : d.sections) {
    md += "## " + s.title + "\n\n";
    for (const Block& b : s.blocks) std::visit(MarkdownBlock{md}, b);
  }
  return md;
}

}  // namespace moeprof::report
