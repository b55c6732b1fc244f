// The report as Markdown for reviews: the JSON's key numbers in tables.
#include <cstdio>
#include <string>

#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

// Numbers to 4 decimals, the same text in every table (tests match it against the JSON).
std::string num(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  return buffer;
}
std::string ms(int64_t ns) { return num(static_cast<double>(ns) / 1e6); }

}  // namespace

std::string render_markdown(const Report& r) {
  std::string md = "# moeprof load report\n\n";
  md += "- Command: `" + r.run.command + "` on " + r.run.host + "\n";
  if (r.model)
    md += "- Model: " + r.model->name + " (" + std::to_string(r.model->num_layers) + " layers, " +
          std::to_string(r.model->num_experts) + " experts, top-" + std::to_string(r.model->top_k) + ")\n";
  md += "- Steps with expert load: " +
        (r.first_step ? std::to_string(*r.first_step) + " to " + std::to_string(*r.last_step) : std::string("none")) +
        "; EP ranks: " + std::to_string(r.num_ranks) + "\n\n";

  md += "## Summary\n\n| metric | value |\n|---|---|\n";
  const analysis::LoadStats& s = r.all_layers;
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"imbalance (max/mean)", s.imbalance}, {"balancedness (mean/max)", s.balancedness},
        {"cv", s.cv}, {"gini", s.gini}, {"entropy", s.entropy}, {"overload factor", r.overload_factor},
        {"capacity factor", r.capacity_factor}, {"tokens/s", r.tokens_per_s}, {"overlap", r.comm.overlap()},
        {"exposed comm share", r.comm.exposed_share()}, {"busiest rank before placement", r.busiest_before},
        {"busiest rank after placement", r.busiest_after}})
    md += std::string("| ") + name + " | " + num(value) + " |\n";
  md += "| exposed comm (ms) | " + ms(r.comm.exposed_comm_ns) + " |\n";
  md += "\nCapacity factor: the smallest that drops at most " + num(r.options.drop_target * 100) +
        " % of the routed tokens.\n\n";

  md += "## Layers\n\n| layer | tokens | imbalance | balancedness | cv | gini | entropy | p99 | dead | dropped | "
        "overload | capacity | overlap | exposed comm (ms) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const LayerReport& l : r.layers)
    md += "| " + std::to_string(l.layer) + " | " + num(l.load.total) + " | " + num(l.load.imbalance) + " | " +
          num(l.load.balancedness) + " | " + num(l.load.cv) + " | " + num(l.load.gini) + " | " + num(l.load.entropy) +
          " | " + num(l.load.p99) + " | " + std::to_string(l.load.dead_experts.size()) + " | " + num(l.dropped_tokens) +
          " | " + num(l.overload_factor) + " | " + num(l.capacity_factor) + " | " + num(l.comm.overlap()) + " | " +
          ms(l.comm.exposed_comm_ns) + " |\n";

  md += "\n## All-to-all\n\n| layer | phase | events | time (ms) | bytes sent | bandwidth (GB/s) |\n|---|---|---|---|---|---|\n";
  for (const analysis::AllToAllStats& a : r.all_to_all)
    md += "| " + std::to_string(a.layer) + " | " + std::to_string(static_cast<int>(a.phase)) + " | " +
          std::to_string(a.count) + " | " + ms(a.total_ns) + " | " + std::to_string(a.bytes_sent) + " | " +
          num(a.bandwidth_bytes_per_s() / 1e9) + " |\n";

  md += "\n## Stragglers\n\n| rank | instances | times last | wait caused (ms) |\n|---|---|---|---|\n";
  for (const analysis::RankStraggling& st : r.stragglers.ranks)
    md += "| " + std::to_string(st.rank) + " | " + std::to_string(st.instances) + " | " + std::to_string(st.times_last) +
          " | " + ms(st.wait_caused_ns) + " |\n";
  return md;
}

}  // namespace moeprof::report
