// The report as JSON (schemas/report.schema.json): every number the other formats show.
#include "moeprof/cli/json_writer.h"
#include "moeprof/report/report.h"

namespace moeprof::report {
namespace {

using cli::JsonWriter;

template <class Values>
void array(JsonWriter& j, const Values& values) {
  j.begin_array();
  for (const auto& v : values) j.value(v);
  j.end_array();
}

void comm_fields(JsonWriter& j, const analysis::OverlapStats& c) {
  j.key("comm_ns").value(c.comm_ns).key("compute_ns").value(c.compute_ns);
  j.key("overlapped_ns").value(c.overlapped_ns).key("exposed_comm_ns").value(c.exposed_comm_ns);
  j.key("overlap").value(c.overlap()).key("comm_share").value(c.comm_share());
  j.key("exposed_share").value(c.exposed_share());
}

void load_fields(JsonWriter& j, const analysis::LoadStats& s) {
  j.key("tokens").value(s.total).key("mean").value(s.mean).key("max").value(s.max).key("min").value(s.min);
  j.key("imbalance").value(s.imbalance).key("balancedness").value(s.balancedness);
  j.key("cv").value(s.cv).key("gini").value(s.gini).key("entropy").value(s.entropy);
  j.key("p50").value(s.p50).key("p95").value(s.p95).key("p99").value(s.p99);
  j.key("hottest_1pct_share").value(s.hottest_1pct_share).key("hottest_10pct_share").value(s.hottest_10pct_share);
  j.key("dead_experts");
  array(j, s.dead_experts);
}

void trend_fields(JsonWriter& j, const analysis::LoadTrend& t) {
  j.key("drift");
  if (t.defined)
    j.value(t.drift);
  else
    j.null();
  j.key("collapsed_experts");
  array(j, t.collapsed);
}

template <class T>
void optional_value(JsonWriter& j, const std::optional<T>& v) {
  if (v)
    j.value(*v);
  else
    j.null();
}

}  // namespace

std::string render_json(const Report& r) {
  JsonWriter j;
  j.begin_object().key("moeprof_report_version").value(1);
  j.key("run").begin_object().key("command").value(r.run.command).key("host").value(r.run.host);
  j.key("exit_code").value(r.run.exit_code).key("finalized").value(r.run.finalized).end_object();
  j.key("model");
  if (r.model) {
    j.begin_object().key("name").value(r.model->name).key("num_layers").value(r.model->num_layers);
    j.key("num_experts").value(r.model->num_experts).key("top_k").value(r.model->top_k);
    j.key("num_shared_experts").value(r.model->num_shared_experts).end_object();
  } else {
    j.null();
  }
  j.key("window").begin_object();
  j.key("step_begin");
  optional_value(j, r.options.step_begin);
  j.key("step_end");
  optional_value(j, r.options.step_end);
  j.key("first_step");
  optional_value(j, r.first_step);
  j.key("last_step");
  optional_value(j, r.last_step);
  j.key("layers").begin_array();
  for (int32_t l : r.options.layers) j.value(l);
  j.end_array().key("ranks").begin_array();
  for (int32_t rank : r.options.ranks) j.value(rank);
  j.end_array().end_object();

  j.key("summary").begin_object();
  j.key("num_ranks").value(r.num_ranks);
  load_fields(j, r.all_layers);
  j.key("overload_factor").value(r.overload_factor).key("drop_target").value(r.options.drop_target);
  j.key("capacity_factor").value(r.capacity_factor).key("tokens_per_s").value(r.tokens_per_s);
  trend_fields(j, r.trend);
  j.key("tokens_per_rank");
  array(j, r.tokens_per_rank);
  j.key("expert_slots_per_rank");
  array(j, r.expert_slots);
  j.key("bytes_per_expert");
  if (r.bytes_per_expert > 0) {
    j.value(r.bytes_per_expert).key("expert_weight_bytes_per_rank").begin_array();
    for (int64_t slots : r.expert_slots) j.value(static_cast<double>(slots) * r.bytes_per_expert);
    j.end_array();
  } else {
    j.null().key("expert_weight_bytes_per_rank").null();
  }
  comm_fields(j, r.comm);
  j.key("placement").begin_object();
  j.key("busiest_before").value(r.busiest_before).key("busiest_after").value(r.busiest_after);
  j.key("balancedness_before").value(r.balancedness_before).key("balancedness_after").value(r.balancedness_after);
  j.key("tokens_per_rank_after");
  array(j, r.tokens_per_rank_after);
  j.end_object().end_object();

  j.key("layers").begin_array();
  for (const LayerReport& l : r.layers) {
    j.begin_object().key("layer").value(l.layer);
    load_fields(j, l.load);
    j.key("dropped_tokens").value(l.dropped_tokens).key("overload_factor").value(l.overload_factor);
    j.key("capacity_factor").value(l.capacity_factor);
    comm_fields(j, l.comm);
    trend_fields(j, l.trend);
    j.key("tokens_per_expert");
    array(j, l.tokens_per_expert);
    j.key("utilisation");
    array(j, l.utilisation);
    j.key("tokens_per_rank");
    array(j, l.tokens_per_rank);
    j.key("routed_tokens").value(l.routed_tokens).key("top_pairs").begin_array();
    for (const analysis::ExpertPair& p : l.top_pairs)
      j.begin_object().key("a").value(p.a).key("b").value(p.b).key("tokens").value(p.count).end_object();
    j.end_array().end_object();
  }
  j.end_array();

  j.key("over_time").begin_array();
  for (const TrendPoint& p : r.over_time) {
    j.begin_object().key("first_step").value(p.first_step).key("last_step").value(p.last_step);
    j.key("tokens").value(p.tokens).key("imbalance_mean").value(p.imbalance_mean);
    j.key("imbalance_max").value(p.imbalance_max).end_object();
  }
  j.end_array();

  j.key("all_to_all").begin_array();
  for (const analysis::AllToAllStats& a : r.all_to_all) {
    j.begin_object().key("layer").value(a.layer).key("phase").value(static_cast<int>(a.phase));
    j.key("count").value(a.count).key("total_ns").value(a.total_ns).key("bytes_sent").value(a.bytes_sent);
    j.key("network_bytes_sent").value(a.network_bytes_sent);
    j.key("bandwidth_bytes_per_s").value(a.bandwidth_bytes_per_s()).end_object();
  }
  j.end_array();

  const analysis::VolumeMatrix& v = r.dispatch_volume;
  j.key("dispatch_volume").begin_object().key("ranks").value(v.size).key("bytes").begin_array();
  for (int32_t from = 0; from < v.size; ++from) {
    j.begin_array();
    for (int32_t to = 0; to < v.size; ++to) j.value(v.at(from, to));
    j.end_array();
  }
  j.end_array().end_object();

  j.key("ranks").begin_array();
  for (const analysis::RankOverlap& o : r.rank_comm) {
    j.begin_object().key("rank").value(o.rank);
    comm_fields(j, o.total);
    j.end_object();
  }
  j.end_array();

  j.key("stragglers").begin_object().key("instances").value(r.stragglers.instances).key("ranks").begin_array();
  for (const analysis::RankStraggling& s : r.stragglers.ranks) {
    j.begin_object().key("rank").value(s.rank).key("instances").value(s.instances);
    j.key("times_last").value(s.times_last).key("wait_caused_ns").value(s.wait_caused_ns).end_object();
  }
  j.end_array().end_object();
  j.end_object();
  return j.str();
}

}  // namespace moeprof::report
