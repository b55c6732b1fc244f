// The report as a PDF for reviews, drawn with cairo: A4 landscape pages of the document's
// headings, paragraphs, tables (split across pages with their header repeated) and charts.
#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "document.h"
#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

constexpr double kPageWidth = 842, kPageHeight = 595, kMargin = 36;  // points
constexpr double kContentWidth = kPageWidth - 2 * kMargin;

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

class PdfPages {
 public:
  explicit PdfPages(std::string* out)
      : surface_(cairo_pdf_surface_create_for_stream(append_to_string, out, kPageWidth, kPageHeight),
                 cairo_surface_destroy),
        cr_(cairo_create(surface_.get()), cairo_destroy) {
    cairo_select_font_face(cr(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  }

  void finish() {
    cairo_show_page(cr());
    cairo_surface_finish(surface_.get());
    if (cairo_surface_status(surface_.get()) != CAIRO_STATUS_SUCCESS)
      throw std::runtime_error(std::string("cannot draw the PDF: ") +
                               cairo_status_to_string(cairo_surface_status(surface_.get())));
  }

  void heading(const std::string& s, double size) {
    room_for(size * 2.2 + 80);  // not alone at the foot of a page
    y_ += size * 0.6;
    cairo_select_font_face(cr(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    show(kMargin, y_ + size, s, size);
    cairo_select_font_face(cr(), "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    y_ += size * 1.6;
  }

  void paragraph(const std::string& text) {
    constexpr double size = 9;
    std::string line;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find(' ', pos);
      if (end == std::string::npos) end = text.size();
      const std::string word = text.substr(pos, end - pos);
      const std::string candidate = line.empty() ? word : line + " " + word;
      if (!line.empty() && width_of(candidate, size) > kContentWidth) {
        text_line(line, size);
        line = word;
      } else {
        line = candidate;
      }
      pos = end + 1;
    }
    if (!line.empty()) text_line(line, size);
    y_ += size * 0.6;
  }

  void table(const Table& t) {
    // Columns as wide as their widest text; a font small enough that the table fits the page.
    double size = 8;
    std::vector<double> widths(t.header.size(), 0);
    const auto measure = [&] {
      double total = 0;
      for (size_t c = 0; c < widths.size(); ++c) {
        widths[c] = width_of(t.header[c], size);
        for (const auto& row : t.rows)
          if (c < row.size()) widths[c] = std::max(widths[c], width_of(row[c], size));
        widths[c] += size;
        total += widths[c];
      }
      return total;
    };
    double table_width = measure();
    while (table_width > kContentWidth && size > 4) {
      size -= 0.5;
      table_width = measure();
    }
    const double row_h = size * 1.5;
    const auto draw_row = [&](const std::vector<std::string>& cells, bool header) {
      room_for(row_h);
      if (header) {
        cairo_set_source_rgb(cr(), 0.93, 0.93, 0.93);
        cairo_rectangle(cr(), kMargin, y_, table_width, row_h);
        cairo_fill(cr());
        cairo_set_source_rgb(cr(), 0, 0, 0);
      }
      double x = kMargin;
      for (size_t c = 0; c < widths.size() && c < cells.size(); ++c) {
        // Numbers right-aligned, the first column left-aligned.
        const double w = width_of(cells[c], size);
        show(c == 0 ? x + size / 2 : x + widths[c] - size / 2 - w, y_ + size * 1.1, cells[c], size);
        x += widths[c];
      }
      cairo_set_source_rgb(cr(), 0.8, 0.8, 0.8);
      cairo_set_line_width(cr(), 0.4);
      cairo_move_to(cr(), kMargin, y_ + row_h);
      cairo_line_to(cr(), kMargin + table_width, y_ + row_h);
      cairo_stroke(cr());
      cairo_set_source_rgb(cr(), 0, 0, 0);
      y_ += row_h;
    };
    room_for(row_h * 2);
    draw_row(t.header, true);
    for (const auto& row : t.rows) {
      if (y_ + row_h > kPageHeight - kMargin) {
        new_page();
        draw_row(t.header, true);  // a table split across pages repeats its header
      }
      draw_row(row, false);
    }
    y_ += row_h;
  }

  void figure(const Figure& f) {
    if (const auto* h = std::get_if<Heatmap>(&f.chart)) heatmap(*h);
    if (const auto* l = std::get_if<LineChart>(&f.chart)) line_chart(*l);
    if (const auto* b = std::get_if<BarChart>(&f.chart)) bar_chart(*b);
    paragraph(f.caption);
  }

 private:
  cairo_t* cr() { return cr_.get(); }
  void new_page() {
    cairo_show_page(cr());
    y_ = kMargin;
  }
  void room_for(double h) {
    if (y_ + h > kPageHeight - kMargin && y_ > kMargin) new_page();
  }
  double width_of(const std::string& s, double size) {
    cairo_set_font_size(cr(), size);
    cairo_text_extents_t e;
    cairo_text_extents(cr(), s.c_str(), &e);
    return e.x_advance;
  }
  void show(double x, double baseline, const std::string& s, double size) {
    cairo_set_font_size(cr(), size);
    cairo_move_to(cr(), x, baseline);
    cairo_show_text(cr(), s.c_str());
  }
  void text_line(const std::string& s, double size) {
    room_for(size * 1.4);
    show(kMargin, y_ + size, s, size);
    y_ += size * 1.4;
  }
  void fill(const Rgb& c) { cairo_set_source_rgb(cr(), c.r, c.g, c.b); }

  void heatmap(const Heatmap& h) {
    const size_t rows = h.values.size();
    const double left = kMargin + 24, width = kContentWidth - 24;
    const double height = std::min(360.0, std::max(4.0 * static_cast<double>(rows), 40.0));
    room_for(height + 50);
    // One pixel per cell, scaled up without smoothing: compact, and exact cell edges.
    std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> image(
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, std::max(h.columns, 1), static_cast<int>(std::max<size_t>(rows, 1))),
        cairo_surface_destroy);
    cairo_surface_flush(image.get());
    unsigned char* data = cairo_image_surface_get_data(image.get());
    const int stride = cairo_image_surface_get_stride(image.get());
    for (size_t r = 0; r < rows; ++r) {
      const std::vector<Rgb> colours = h.row_colours(r);
      auto* line = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(stride) * r);
      for (size_t c = 0; c < colours.size(); ++c) {
        const Rgb& col = colours[c];
        line[c] = (static_cast<uint32_t>(col.r * 255 + 0.5) << 16) | (static_cast<uint32_t>(col.g * 255 + 0.5) << 8) |
                  static_cast<uint32_t>(col.b * 255 + 0.5);
      }
    }
    cairo_surface_mark_dirty(image.get());
    cairo_save(cr());
    cairo_translate(cr(), left, y_);
    cairo_scale(cr(), width / std::max(h.columns, 1), height / static_cast<double>(std::max<size_t>(rows, 1)));
    cairo_set_source_surface(cr(), image.get(), 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr()), CAIRO_FILTER_NEAREST);
    cairo_paint(cr());
    cairo_restore(cr());
    cairo_set_source_rgb(cr(), 0, 0, 0);
    const double row_h = height / static_cast<double>(std::max<size_t>(rows, 1));
    const size_t label_every = std::max<size_t>(1, static_cast<size_t>(std::ceil(8 / row_h)));
    for (size_t r = 0; r < rows; r += label_every)
      show(kMargin, y_ + row_h * static_cast<double>(r) + std::min(row_h, 7.0), h.row_labels[r], 6);
    y_ += height;
    show(left, y_ + 9, h.column_name + " 0", 7);
    const std::string last = std::to_string(h.columns - 1);
    show(left + width - width_of(last, 7), y_ + 9, last, 7);
    // The colour scale.
    for (int i = 0; i < 100; ++i) {
      fill(heat_colour(i / 99.0));
      cairo_rectangle(cr(), left + 2.0 * i, y_ + 14, 2.0, 8);
      cairo_fill(cr());
    }
    cairo_set_source_rgb(cr(), 0, 0, 0);
    show(left, y_ + 31, "0", 7);
    show(left + 200 - width_of(">= " + tick_label(h.scale_max) + " x mean", 7), y_ + 31,
         ">= " + tick_label(h.scale_max) + " x mean", 7);
    y_ += 38;
  }

  // Axes with horizontal grid lines at `yt`; returns the y of value v.
  void axes(double left, double top, double width, double height, const std::vector<double>& yt) {
    cairo_set_line_width(cr(), 0.4);
    for (double t : yt) {
      const double y = top + height - (t - yt.front()) / (yt.back() - yt.front()) * height;
      cairo_set_source_rgb(cr(), 0.85, 0.85, 0.85);
      cairo_move_to(cr(), left, y);
      cairo_line_to(cr(), left + width, y);
      cairo_stroke(cr());
      cairo_set_source_rgb(cr(), 0, 0, 0);
      show(left - 4 - width_of(tick_label(t), 7), y + 2.5, tick_label(t), 7);
    }
  }

  void line_chart(const LineChart& c) {
    const double left = kMargin + 40, width = 600, height = 160;
    room_for(height + 50);
    const double top = y_ + 10;
    const std::vector<double> yt = c.y_ticks();
    const auto [x0, x1] = c.x_range();
    const auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * width; };
    const auto sy = [&](double y) { return top + height - (y - yt.front()) / (yt.back() - yt.front()) * height; };
    show(kMargin, y_ + 6, c.y_name, 7);
    axes(left, top, width, height, yt);
    for (double t : axis_ticks(x0, x1, 8))
      if (t >= x0 && t <= x1) show(sx(t) - width_of(tick_label(t), 7) / 2, top + height + 10, tick_label(t), 7);
    show(left + width / 2, top + height + 20, c.x_name, 7);
    for (size_t i = 0; i < c.series.size(); ++i) {
      fill(series_colour(i));
      cairo_set_line_width(cr(), 1);
      for (size_t k = 0; k < c.x.size() && k < c.series[i].y.size(); ++k)
        (k == 0 ? cairo_move_to : cairo_line_to)(cr(), sx(c.x[k]), sy(c.series[i].y[k]));
      cairo_stroke(cr());
      cairo_rectangle(cr(), left + width + 10, top + 12.0 * i, 10, 3);
      cairo_fill(cr());
      cairo_set_source_rgb(cr(), 0, 0, 0);
      show(left + width + 24, top + 12.0 * i + 4, c.series[i].name, 7);
    }
    y_ = top + height + 28;
  }

  void bar_chart(const BarChart& b) {
    const double left = kMargin + 50, height = 120;
    const double bar_w = std::clamp(600.0 / std::max<size_t>(b.values.size(), 1), 3.0, 40.0);
    room_for(height + 40);
    const double top = y_ + 10;
    const std::vector<double> yt = b.y_ticks();
    show(kMargin, y_ + 6, b.y_name, 7);
    axes(left, top, bar_w * static_cast<double>(b.values.size()), height, yt);
    for (size_t i = 0; i < b.values.size(); ++i) {
      const double x = left + bar_w * static_cast<double>(i), h = b.values[i] / yt.back() * height;
      fill(series_colour(0));
      cairo_rectangle(cr(), x + 0.5, top + height - h, bar_w - 1, h);
      cairo_fill(cr());
      cairo_set_source_rgb(cr(), 0, 0, 0);
      if (bar_w >= 12 || i % 8 == 0) show(x + bar_w / 2 - width_of(b.labels[i], 7) / 2, top + height + 10, b.labels[i], 7);
    }
    y_ = top + height + 18;
  }

  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface_;
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr_;
  double y_ = kMargin;
};

}  // namespace

std::string render_pdf(const Report& r) {
  const Document d = layout_report(r);
  std::string pdf;
  {
    PdfPages pages(&pdf);
    pages.heading(d.title, 16);
    for (const Section& s : d.sections) {
      pages.heading(s.title, 12);
      for (const Block& b : s.blocks) {
        if (const auto* p = std::get_if<std::string>(&b)) pages.paragraph(*p);
        if (const auto* t = std::get_if<Table>(&b)) pages.table(*t);
        if (const auto* f = std::get_if<Figure>(&b)) pages.figure(*f);
      }
    }
    pages.finish();
  }
  return pdf;
}

}  // namespace moeprof::report
