#include "moeprof/ingest/stream_decoder.h"

#include <algorithm>

namespace moeprof::ingest {

using wire::ByteSpan;
using wire::RecordType;
using wire::RecordView;

uint64_t IngestTotals::record_total() const {
  uint64_t total = 0;
  for (uint64_t n : records) total += n;
  // Per-frame bookkeeping, not events.
  return total - records[static_cast<uint8_t>(RecordType::kRecorded)];
}

namespace {

std::string as_string(ByteSpan bytes) { return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()); }

}  // namespace

StreamDecoder::StreamDecoder(IngestContext& context, std::string label) : context_(context), label_(std::move(label)) {}

bool StreamDecoder::feed(ByteSpan data) {
  if (failed_ || finished_) return false;
  if (buffered_bytes() == 0) {
    // Nothing pending: decode straight from the caller's bytes and keep only the tail.
    buffer_.clear();
    offset_ = 0;
    const size_t used = consume_frames(data);
    if (failed_) return false;
    buffer_.assign(data.begin() + static_cast<std::ptrdiff_t>(used), data.end());
    return true;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  offset_ += consume_frames(ByteSpan(buffer_).subspan(offset_));
  if (failed_) return false;
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
  return true;
}

size_t StreamDecoder::consume_frames(ByteSpan input) {
  size_t used = 0;
  while (!failed_) {
    wire::FrameHeader header;
    ByteSpan payload;
    size_t frame_size = 0;
    std::string error;
    switch (wire::parse_frame(input.subspan(used), &header, &payload, &frame_size, &error)) {
      case wire::FrameStatus::kNeedMore:
        return used;
      case wire::FrameStatus::kError:
        fail(error);
        return used;
      case wire::FrameStatus::kOk:
        if (!handle_frame(header, payload)) return used;
        used += frame_size;
        break;
    }
  }
  return used;
}

bool StreamDecoder::handle_frame(const wire::FrameHeader& header, ByteSpan payload) {
  if (header.sequence != next_sequence_)
    return fail("frame sequence " + std::to_string(header.sequence) + " where " + std::to_string(next_sequence_) +
                " was due");
  // Check the whole frame's structure first so that a malformed frame stores nothing.
  if (!check_structure(header, payload)) return false;
  wire::RecordIterator records(payload);
  RecordView record;
  while (records.next(&record)) {
    if (!apply(record)) return false;
    ++context_.totals.records[static_cast<uint8_t>(record.type)];
  }
  ++next_sequence_;
  ++context_.totals.frames;
  return true;
}

bool StreamDecoder::check_structure(const wire::FrameHeader& header, ByteSpan payload) {
  const std::string frame = "frame " + std::to_string(header.sequence);
  bool have_hello = identified_;
  uint32_t count = 0;
  wire::RecordIterator records(payload);
  RecordView record;
  while (records.next(&record)) {
    if (record.type == RecordType::kHello) {
      if (have_hello) return fail(frame + " holds a second Hello");
      have_hello = true;
    } else if (!have_hello) {
      return fail("the stream does not start with Hello");
    }
    ++count;
  }
  if (!records.error().empty()) return fail(frame + ": " + records.error());
  if (count != header.record_count)
    return fail(frame + " holds " + std::to_string(count) + " records but its header says " +
                std::to_string(header.record_count));
  return true;
}

bool StreamDecoder::apply(const RecordView& record) {
  switch (record.type) {
    case RecordType::kHello:
      return apply_hello(record);
    case RecordType::kTopology:
      apply_topology(record);
      return true;
    case RecordType::kPlacement:
      return apply_placement(record);
    case RecordType::kStepBegin:
    case RecordType::kStepEnd:
      apply_step_mark(record);
      return true;
    case RecordType::kExpertCounts:
    case RecordType::kExpertDrops:
      return apply_expert_counts(record);
    case RecordType::kRouterDecisions:
      return apply_router_decisions(record);
    case RecordType::kAllToAll:
      return apply_all_to_all(record);
    case RecordType::kComputeSpan:
      apply_compute_span(record);
      return true;
    case RecordType::kMarker:
      apply_marker(record);
      return true;
    case RecordType::kDrops:
      apply_drops(record);
      return true;
    case RecordType::kRange:
      return apply_range(record);
    case RecordType::kGpuKernel:
      return apply_gpu_kernel(record);
    case RecordType::kRecorded:
      apply_recorded(record);
      return true;
    case RecordType::kGoodbye: {
      const auto bye = record.as<wire::Goodbye>();
      process_.clean_exit = true;
      saw_time(bye.ts_ns);
      return true;
    }
  }
  return fail("record type " + std::to_string(static_cast<int>(record.type)) + " is not handled");
}

bool StreamDecoder::apply_hello(const RecordView& record) {
  const auto hello = record.as<wire::Hello>();
  if (hello.host_size > record.var.size()) return fail("Hello's host name overruns its record");
  process_.pid = hello.pid;
  process_.ppid = hello.ppid;
  process_.rank = hello.rank_hint;
  process_.realtime_ns = hello.realtime_ns;
  process_.monotonic_ns = hello.monotonic_ns;
  process_.end_ns = hello.monotonic_ns;
  process_.agent_version = hello.agent_version;
  process_.host = as_string(record.var.first(hello.host_size));
  // The command line travels as argv joined by NUL; the trace shows it joined by spaces.
  process_.command = as_string(record.var.subspan(hello.host_size));
  std::replace(process_.command.begin(), process_.command.end(), '\0', ' ');
  process_.clean_exit = false;
  process_.id = context_.writer.add_process(process_);
  identified_ = true;
  ++context_.totals.streams;
  return true;
}

void StreamDecoder::apply_topology(const RecordView& record) {
  const auto t = record.as<wire::Topology>();
  process_.rank = t.rank;
  process_.local_rank = t.local_rank;
  process_.world_size = t.world_size;
  process_.ep_size = t.ep_size;
  context_.writer.update_process(process_);
  const bool has_shape = t.num_layers > 0 || t.num_experts > 0;
  if (has_shape && (!context_.model_process || *context_.model_process == process_.id)) {
    store::ModelShape model;
    model.name = as_string(record.var);
    model.num_layers = t.num_layers;
    model.num_experts = t.num_experts;
    model.top_k = t.top_k;
    model.num_shared_experts = t.num_shared_experts;
    model.hidden_size = t.hidden_size;
    context_.writer.set_model(model);
    context_.model_process = process_.id;
  }
}

bool StreamDecoder::apply_placement(const RecordView& record) {
  const auto p = record.as<wire::Placement>();
  store::LayerPlacement placement;
  placement.rank = process_.rank;
  placement.layer = p.layer;
  if (!wire::decode_placement(record.var, &placement.slots))
    return fail("malformed placement of layer " + std::to_string(p.layer));
  context_.writer.add_placement(placement);
  return true;
}

void StreamDecoder::apply_step_mark(const RecordView& record) {
  const auto mark = record.as<wire::StepMark>();
  const int64_t step = mark.step;  // a copy: members of packed records cannot bind references
  saw_time(mark.ts_ns);
  // Marks of one step can arrive in either order (they may come from different threads'
  // rings), so a step is stored once both ends are known.
  PendingStep& pending = open_steps_[step];
  if (record.type == RecordType::kStepBegin) {
    pending.has_begin = true;
    pending.begin_ns = mark.ts_ns;
  } else {
    pending.has_end = true;
    pending.end_ns = mark.ts_ns;
  }
  if (pending.has_begin && pending.has_end) {
    store_step(step, pending);
    open_steps_.erase(step);
  }
}

bool StreamDecoder::apply_expert_counts(const RecordView& record) {
  const auto c = record.as<wire::ExpertCounts>();
  saw_time(c.ts_ns);
  load_.rank = process_.rank;
  load_.step = c.step;
  load_.layer = c.layer;
  const bool drops = record.type == RecordType::kExpertDrops;
  if (!wire::decode_counts(record.var, &load_.counts))
    return fail(std::string("malformed expert ") + (drops ? "drops" : "counts") + " of step " + std::to_string(c.step) +
                " layer " + std::to_string(c.layer));
  if (drops)
    context_.writer.add_expert_drops(load_);
  else
    context_.writer.add_expert_load(load_);
  return true;
}

bool StreamDecoder::apply_router_decisions(const RecordView& record) {
  const auto d = record.as<wire::RouterDecisions>();
  saw_time(d.ts_ns);
  routing_.rank = process_.rank;
  routing_.step = d.step;
  routing_.layer = d.layer;
  routing_.token_offset = d.token_offset;
  if (!wire::decode_routing(record.var, &routing_.routing))
    return fail("malformed router decisions of step " + std::to_string(d.step) + " layer " + std::to_string(d.layer));
  context_.writer.add_router_decisions(routing_);
  return true;
}

bool StreamDecoder::apply_all_to_all(const RecordView& record) {
  const auto a = record.as<wire::AllToAll>();
  saw_time(a.end_ns);
  all_to_all_.rank = process_.rank;
  all_to_all_.step = a.step;
  all_to_all_.layer = a.layer;
  all_to_all_.phase = static_cast<wire::Phase>(a.phase);
  all_to_all_.source = static_cast<wire::Source>(a.source);
  all_to_all_.tid = a.tid;
  all_to_all_.start_ns = a.start_ns;
  all_to_all_.end_ns = a.end_ns;
  if (!wire::decode_peer_bytes(record.var, &all_to_all_.peers))
    return fail("malformed all-to-all peer bytes of step " + std::to_string(a.step) + " layer " +
                std::to_string(a.layer));
  context_.writer.add_all_to_all(all_to_all_);
  return true;
}

void StreamDecoder::apply_compute_span(const RecordView& record) {
  const auto s = record.as<wire::ComputeSpan>();
  saw_time(s.end_ns);
  span_.rank = process_.rank;
  span_.step = s.step;
  span_.layer = s.layer;
  span_.kind = static_cast<wire::ComputeKind>(s.kind);
  span_.source = static_cast<wire::Source>(s.source);
  span_.tid = s.tid;
  span_.start_ns = s.start_ns;
  span_.end_ns = s.end_ns;
  span_.name.assign(reinterpret_cast<const char*>(record.var.data()), record.var.size());
  context_.writer.add_compute_span(span_);
}

void StreamDecoder::apply_marker(const RecordView& record) {
  const auto m = record.as<wire::Marker>();
  saw_time(m.ts_ns);
  marker_.rank = process_.rank;
  marker_.step = m.step;
  marker_.tid = m.tid;
  marker_.ts_ns = m.ts_ns;
  marker_.source = static_cast<wire::Source>(m.source);
  marker_.name.assign(reinterpret_cast<const char*>(record.var.data()), record.var.size());
  context_.writer.add_marker(marker_);
}

void StreamDecoder::apply_drops(const RecordView& record) {
  const auto d = record.as<wire::Drops>();
  store::DropCount drops;
  drops.process_id = process_.id;
  drops.rank = process_.rank;
  drops.source = static_cast<wire::Source>(d.source);
  drops.reason = static_cast<wire::DropReason>(d.reason);
  drops.count = d.count;
  context_.writer.add_drops(drops);
  context_.totals.agent_dropped += d.count;
}

bool StreamDecoder::apply_range(const RecordView& record) {
  const auto r = record.as<wire::Range>();
  if (size_t{r.domain_size} + r.name_size > record.var.size())
    return fail("a range's domain and name overrun its record");
  if (r.kind > static_cast<uint8_t>(wire::RangeKind::kCategoryName))
    return fail("a range has unknown kind " + std::to_string(r.kind));
  saw_time(r.end_ns);
  store::Range range;
  range.rank = process_.rank;
  range.tid = r.tid;
  range.start_ns = r.start_ns;
  range.end_ns = r.end_ns;
  range.source = static_cast<wire::Source>(r.source);
  range.step = r.step;
  range.kind = static_cast<wire::RangeKind>(r.kind);
  range.category = r.category;
  range.color = r.color;
  range.domain = as_string(record.var.first(r.domain_size));
  range.name = as_string(record.var.subspan(r.domain_size, r.name_size));
  range.payload = as_string(record.var.subspan(size_t{r.domain_size} + r.name_size));
  context_.writer.add_range(range);
  return true;
}

bool StreamDecoder::apply_gpu_kernel(const RecordView& record) {
  const auto k = record.as<wire::GpuKernel>();
  if (k.compute_kind != wire::kNoComputeKind &&
      (k.compute_kind < 0 || k.compute_kind > static_cast<int8_t>(wire::ComputeKind::kOther)))
    return fail("a GPU kernel has unknown compute kind " + std::to_string(k.compute_kind));
  saw_time(k.end_ns);
  store::GpuKernel kernel;
  kernel.rank = process_.rank;
  kernel.device = k.device;
  kernel.stream = k.stream;
  kernel.correlation_id = k.correlation_id;
  kernel.start_ns = k.start_ns;
  kernel.end_ns = k.end_ns;
  kernel.name = as_string(record.var);
  for (int i = 0; i < 3; ++i) {
    kernel.grid[i] = k.grid[i];
    kernel.block[i] = k.block[i];
  }
  kernel.step = k.step;
  kernel.launch_ns = k.launch_ns;
  kernel.launch_tid = k.launch_tid;
  kernel.layer = k.layer;
  kernel.compute_kind = k.compute_kind;
  context_.writer.add_gpu_kernel(kernel);
  if (k.compute_kind == wire::kNoComputeKind) return true;
  // A kernel classified as MoE compute is the GPU-side compute span the overlap analysis
  // measures all-to-alls against (moeprof.h); its lane is the thread that launched it.
  span_.rank = process_.rank;
  span_.step = k.step;
  span_.layer = k.layer;
  span_.kind = static_cast<wire::ComputeKind>(k.compute_kind);
  span_.source = wire::Source::kCupti;
  span_.tid = k.launch_tid;
  span_.start_ns = k.start_ns;
  span_.end_ns = k.end_ns;
  span_.name = kernel.name;
  context_.writer.add_compute_span(span_);
  return true;
}

void StreamDecoder::apply_recorded(const RecordView& record) {
  const auto r = record.as<wire::Recorded>();
  context_.writer.add_recorded(store::RecordedCount{process_.id, process_.rank, static_cast<wire::Source>(r.source), r.count});
}

void StreamDecoder::store_step(int64_t step, const PendingStep& pending) {
  store::StepSpan span;
  span.rank = process_.rank;
  span.step = step;
  // A step that lost one end (the process died inside it) still shows, bounded by what is
  // known: from its begin to the stream's last event, or as an instant at its end.
  span.start_ns = pending.has_begin ? pending.begin_ns : pending.end_ns;
  span.end_ns = pending.has_end ? pending.end_ns : std::max(pending.begin_ns, process_.end_ns);
  context_.writer.add_step(span);
}

void StreamDecoder::saw_time(int64_t ns) { process_.end_ns = std::max(process_.end_ns, ns); }

void StreamDecoder::finish() {
  if (finished_) return;
  if (!failed_ && buffered_bytes() > 0)
    fail("the stream ended inside a frame (" + std::to_string(buffered_bytes()) + " bytes of it arrived)");
  finished_ = true;
  for (const auto& [step, pending] : open_steps_) store_step(step, pending);
  open_steps_.clear();
  if (identified_) context_.writer.update_process(process_);
}

bool StreamDecoder::fail(const std::string& problem) {
  failed_ = true;
  ++context_.totals.bad_frames;
  store::DropCount drop;
  drop.process_id = process_.id;
  drop.rank = process_.rank;
  drop.source = wire::Source::kAgent;
  drop.reason = wire::DropReason::kBadFrame;
  drop.count = 1;
  context_.writer.add_drops(drop);
  if (context_.log) context_.log("collector: " + describe() + ": " + problem + "; closing the stream");
  return false;
}

std::string StreamDecoder::describe() const {
  if (!identified_) return label_;
  std::string who = "stream of pid " + std::to_string(process_.pid);
  if (process_.rank >= 0) who += " (rank " + std::to_string(process_.rank) + ")";
  return who;
}

}  // namespace moeprof::ingest
