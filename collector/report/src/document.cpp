#include "document.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace moeprof::report {
namespace {

std::string ms(int64_t ns) { return format_number(static_cast<double>(ns) / 1e6); }
std::string gib(double bytes) { return format_number(bytes / (1024.0 * 1024.0 * 1024.0)); }
std::string integer(int64_t v) { return std::to_string(v); }

std::string join(const std::vector<int32_t>& values) {
  std::string out;
  for (int32_t v : values) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out.empty() ? "none" : out;
}

std::string drift(const analysis::LoadTrend& t) { return t.defined ? format_number(t.drift) : "-"; }

Section run_section(const Report& r) {
  Section s{"Run", {}};
  s.blocks.emplace_back("Command: " + r.run.command + " on " + r.run.host + ".");
  if (r.model)
    s.blocks.emplace_back("Model: " + r.model->name + " (" + integer(r.model->num_layers) + " layers, " +
                          integer(r.model->num_experts) + " experts, top-" + integer(r.model->top_k) + ").");
  s.blocks.emplace_back(
      "Steps with expert load: " +
      (r.first_step ? integer(*r.first_step) + " to " + integer(*r.last_step) : std::string("none")) +
      "; EP ranks: " + integer(r.num_ranks) + ".");
  return s;
}

Section summary_section(const Report& r) {
  Section s{"Summary", {}};
  Table t{{"metric", "value"}, {}};
  const analysis::LoadStats& l = r.all_layers;
  for (const auto& [name, value] : std::initializer_list<std::pair<const char*, double>>{
           {"imbalance (max/mean)", l.imbalance},
           {"balancedness (mean/max)", l.balancedness},
           {"cv", l.cv},
           {"gini", l.gini},
           {"entropy", l.entropy},
           {"hottest 10% of experts' share", l.hottest_10pct_share},
           {"overload factor", r.overload_factor},
           {"capacity factor", r.capacity_factor},
           {"tokens/s", r.tokens_per_s},
           {"overlap", r.comm.overlap()},
           {"exposed comm share", r.comm.exposed_share()},
           {"busiest rank before placement", r.busiest_before},
           {"busiest rank after placement", r.busiest_after}})
    t.rows.push_back({name, format_number(value)});
  t.rows.push_back({"exposed comm (ms)", ms(r.comm.exposed_comm_ns)});
  t.rows.push_back({"drift (earlier vs later half)", drift(r.trend)});
  t.rows.push_back({"collapsed experts (all layers)", join(r.trend.collapsed)});
  s.blocks.emplace_back(std::move(t));
  s.blocks.emplace_back("Capacity factor: the smallest that drops at most " + format_number(r.options.drop_target * 100) +
                        " % of the routed tokens. Drift: the share of tokens that moved to other experts between "
                        "the window's earlier and later half.");
  return s;
}

Section load_section(const Report& r) {
  Section s{"Expert load", {}};
  Heatmap heat{"layer", "expert", {}, 0, {}, 4};
  for (const LayerReport& l : r.layers) {
    heat.row_labels.push_back(integer(l.layer));
    heat.values.push_back(l.tokens_per_expert);
    heat.columns = std::max(heat.columns, static_cast<int32_t>(l.tokens_per_expert.size()));
  }
  if (heat.columns > 0)
    s.blocks.emplace_back(Figure{"Tokens per expert and layer, as a multiple of the layer's mean (colour scale 0 to 4)",
                                 std::move(heat)});
  if (r.over_time.size() >= 2) {
    LineChart chart{"step", "imbalance (max/mean)", {}, {{"mean over layers", {}}, {"worst layer", {}}}};
    for (const TrendPoint& p : r.over_time) {
      chart.x.push_back(static_cast<double>(p.first_step));
      chart.series[0].y.push_back(p.imbalance_mean);
      chart.series[1].y.push_back(p.imbalance_max);
    }
    s.blocks.emplace_back(Figure{"Imbalance over the window's steps", std::move(chart)});
  }
  Table t{{"layer", "tokens", "imbalance", "balancedness", "cv", "gini", "entropy", "p99", "dead", "dropped",
           "overload", "capacity", "drift", "collapsed", "overlap", "exposed comm (ms)"},
          {}};
  for (const LayerReport& l : r.layers)
    t.rows.push_back({integer(l.layer), format_number(l.load.total), format_number(l.load.imbalance),
                      format_number(l.load.balancedness), format_number(l.load.cv), format_number(l.load.gini),
                      format_number(l.load.entropy), format_number(l.load.p99),
                      integer(static_cast<int64_t>(l.load.dead_experts.size())), format_number(l.dropped_tokens),
                      format_number(l.overload_factor), format_number(l.capacity_factor), drift(l.trend),
                      integer(static_cast<int64_t>(l.trend.collapsed.size())), format_number(l.comm.overlap()),
                      ms(l.comm.exposed_comm_ns)});
  s.blocks.emplace_back(std::move(t));
  return s;
}

Section rank_section(const Report& r) {
  Section s{"Ranks", {}};
  BarChart bars{"tokens", {}, r.tokens_per_rank};
  for (size_t i = 0; i < r.tokens_per_rank.size(); ++i) bars.labels.push_back(integer(static_cast<int64_t>(i)));
  if (!bars.values.empty()) s.blocks.emplace_back(Figure{"Tokens per rank under the recorded placement", std::move(bars)});
  Table t{{"rank", "tokens", "tokens after the suggested placement", "expert slots", "expert weights (GiB)"}, {}};
  for (size_t i = 0; i < r.tokens_per_rank.size(); ++i) {
    const int64_t slots = i < r.expert_slots.size() ? r.expert_slots[i] : 0;
    t.rows.push_back({integer(static_cast<int64_t>(i)), format_number(r.tokens_per_rank[i]),
                      i < r.tokens_per_rank_after.size() ? format_number(r.tokens_per_rank_after[i]) : "-", integer(slots),
                      r.bytes_per_expert > 0 ? gib(static_cast<double>(slots) * r.bytes_per_expert) : "-"});
  }
  s.blocks.emplace_back(std::move(t));
  s.blocks.emplace_back(r.bytes_per_expert > 0
                            ? "Expert weights at " + format_number(r.options.bytes_per_weight) + " bytes per weight: " +
                                  gib(r.bytes_per_expert) + " GiB per routed expert."
                            : std::string("Expert weights: the model's expert size is not known."));
  s.blocks.emplace_back("Suggested placement (no redundant slots): the busiest rank would go from " +
                        format_number(r.busiest_before) + " to " + format_number(r.busiest_after) +
                        " tokens summed over layers; balancedness from " + format_number(r.balancedness_before) +
                        " to " + format_number(r.balancedness_after) + ".");
  return s;
}

std::optional<Section> coactivation_section(const Report& r) {
  Table t{{"layer", "experts", "tokens together", "share of tokens"}, {}};
  for (const LayerReport& l : r.layers)
    for (const analysis::ExpertPair& p : l.top_pairs)
      t.rows.push_back({integer(l.layer), integer(p.a) + " + " + integer(p.b), integer(static_cast<int64_t>(p.count)),
                        format_number(static_cast<double>(p.count) / static_cast<double>(l.routed_tokens))});
  if (t.rows.empty()) return std::nullopt;
  return Section{"Co-activation", {std::string("Expert pairs chosen together for the same token, most frequent first."),
                                   std::move(t)}};
}

Section communication_section(const Report& r) {
  Section s{"Communication", {}};
  Table a2a{{"layer", "phase", "events", "time (ms)", "bytes sent", "bandwidth (GB/s)"}, {}};
  for (const analysis::AllToAllStats& a : r.all_to_all)
    a2a.rows.push_back({integer(a.layer), integer(static_cast<int>(a.phase)), integer(a.count), ms(a.total_ns),
                        integer(static_cast<int64_t>(a.bytes_sent)), format_number(a.bandwidth_bytes_per_s() / 1e9)});
  s.blocks.emplace_back(std::move(a2a));
  Table ranks{{"rank", "comm (ms)", "overlap", "exposed comm (ms)", "comm share", "exposed share"}, {}};
  for (const analysis::RankOverlap& o : r.rank_comm)
    ranks.rows.push_back({integer(o.rank), ms(o.total.comm_ns), format_number(o.total.overlap()),
                          ms(o.total.exposed_comm_ns), format_number(o.total.comm_share()),
                          format_number(o.total.exposed_share())});
  if (!ranks.rows.empty()) {
    s.blocks.emplace_back(std::string("Per rank: time communicating, the share of it hidden behind compute (overlap), "
                                      "and what is exposed, also as shares of step time."));
    s.blocks.emplace_back(std::move(ranks));
  }
  const analysis::VolumeMatrix& v = r.dispatch_volume;
  if (v.size > 0) {
    Heatmap heat{"from rank", "to rank", {}, v.size, {}, 2};
    Table volume{{"from rank"}, {}};
    for (int32_t to = 0; to < v.size; ++to) volume.header.push_back("to " + integer(to));
    for (int32_t from = 0; from < v.size; ++from) {
      heat.row_labels.push_back(integer(from));
      std::vector<double>& values = heat.values.emplace_back();
      std::vector<std::string>& row = volume.rows.emplace_back(std::vector<std::string>{integer(from)});
      for (int32_t to = 0; to < v.size; ++to) {
        values.push_back(static_cast<double>(v.at(from, to)));
        row.push_back(integer(static_cast<int64_t>(v.at(from, to))));
      }
    }
    s.blocks.emplace_back(Figure{"Bytes dispatched from each rank (row) to each rank (column), as a multiple of the "
                                 "row's mean (colour scale 0 to 2)",
                                 std::move(heat)});
    s.blocks.emplace_back(std::string("Bytes dispatched, rank to rank (the combine sends them back):"));
    s.blocks.emplace_back(std::move(volume));
  }
  Table stragglers{{"rank", "instances", "times last", "wait caused (ms)"}, {}};
  for (const analysis::RankStraggling& st : r.stragglers.ranks)
    stragglers.rows.push_back(
        {integer(st.rank), integer(st.instances), integer(st.times_last), ms(st.wait_caused_ns)});
  s.blocks.emplace_back(std::string("Stragglers: the ranks the others waited for in an all-to-all."));
  s.blocks.emplace_back(std::move(stragglers));
  return s;
}

}  // namespace

std::string format_number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

Rgb heat_colour(double t) {
  // Stops of a perceptually ordered dark-to-light scale.
  static constexpr Rgb kStops[] = {{0.07, 0.06, 0.28}, {0.13, 0.36, 0.55}, {0.13, 0.62, 0.53}, {0.55, 0.80, 0.27},
                                   {0.99, 0.91, 0.15}};
  constexpr int kLast = static_cast<int>(std::size(kStops)) - 1;
  const double x = std::clamp(t, 0.0, 1.0) * kLast;
  const int i = std::min(static_cast<int>(x), kLast - 1);
  const double f = x - i;
  const Rgb& a = kStops[i];
  const Rgb& b = kStops[i + 1];
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

std::vector<double> axis_ticks(double low, double high, int count) {
  if (!(high > low)) high = low + 1;
  const double raw = (high - low) / std::max(count, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  // From the last multiple of step at or below low to the first at or above high.
  std::vector<double> ticks{std::floor(low / step) * step};
  while (ticks.size() < 2 || ticks.back() < high - step * 1e-9) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string tick_label(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

Rgb series_colour(size_t i) {
  // #1f77b4, #d62728, #2ca02c, #9467bd.
  static constexpr Rgb kColours[] = {{0x1f / 255.0, 0x77 / 255.0, 0xb4 / 255.0},
                                     {0xd6 / 255.0, 0x27 / 255.0, 0x28 / 255.0},
                                     {0x2c / 255.0, 0xa0 / 255.0, 0x2c / 255.0},
                                     {0x94 / 255.0, 0x67 / 255.0, 0xbd / 255.0}};
  return kColours[i % std::size(kColours)];
}

std::vector<Rgb> Heatmap::row_colours(size_t row) const {
  const std::vector<double>& v = values[row];
  double total = 0;
  for (double x : v) total += x;
  const double mean = v.empty() ? 0 : total / static_cast<double>(v.size());
  std::vector<Rgb> out;
  out.reserve(v.size());
  for (double x : v) out.push_back(heat_colour((mean > 0 ? x / mean : 0) / scale_max));
  return out;
}

std::pair<double, double> LineChart::x_range() const {
  const double low = x.empty() ? 0 : x.front();
  return {low, std::max(x.empty() ? low : x.back(), low + 1)};
}

std::vector<double> LineChart::y_ticks() const {
  double low = 1, high = 1;
  for (const Series& s : series)
    for (double v : s.y) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  return axis_ticks(low, high, 5);
}

std::vector<double> BarChart::y_ticks() const {
  return axis_ticks(0, values.empty() ? 1 : *std::max_element(values.begin(), values.end()), 4);
}

Document layout_report(const Report& r) {
  Document d{"moeprof load report", {}};
  d.sections.push_back(run_section(r));
  d.sections.push_back(summary_section(r));
  d.sections.push_back(load_section(r));
  d.sections.push_back(rank_section(r));
  if (std::optional<Section> c = coactivation_section(r)) d.sections.push_back(std::move(*c));
  d.sections.push_back(communication_section(r));
  return d;
}

}  // namespace moeprof::report
