// Turns one agent stream (the bytes of one connection) into store rows: buffers bytes,
// checks and decodes frames, maps every record to the store writer. No sockets here, so the
// whole protocol logic is testable by feeding bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "moeprof/store/rows.h"
#include "moeprof/store/writer.h"
#include "moeprof/wire/codec.h"

namespace moeprof::ingest {

// What the streams of one trace delivered, for the summary of `moeprof run`.
struct IngestTotals {
  uint64_t streams = 0;                           // streams that said Hello
  uint64_t frames = 0;                            // frames accepted
  uint64_t bad_frames = 0;                        // frames rejected (their streams closed)
  uint64_t records[wire::kRecordTypeCount] = {};  // records stored, by RecordType
  uint64_t agent_dropped = 0;                     // sum of the agents' Drops records

  uint64_t record_total() const;  // every record but the frames' Recorded counts
};

// Shared by every stream of one trace. Used from one thread (the collector's).
struct IngestContext {
  explicit IngestContext(store::Writer& w, std::function<void(const std::string&)> log_line = {})
      : writer(w), log(std::move(log_line)) {}
  store::Writer& writer;
  std::function<void(const std::string&)> log;  // one line per problem; may be empty
  // The process whose Topology with a model shape came first: its shape is the trace's, as it
  // last reported it (adapters that discover layers one by one report a growing shape).
  std::optional<int64_t> model_process;
  IngestTotals totals;
};

class StreamDecoder {
 public:
  // `label` names the stream in log lines until its Hello names the process.
  StreamDecoder(IngestContext& context, std::string label);
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // Consumes the next bytes of the stream. false once the stream is broken (bad frame,
  // wrong sequence, malformed record): the problem was logged and counted as a dropped
  // frame, and the caller should close the connection. Records of earlier frames stay.
  bool feed(wire::ByteSpan data);
  // The stream ended (closed by the agent or cut off): an incomplete trailing frame is
  // counted as dropped, unmatched steps are stored, and the process row gets its end time
  // and whether it said Goodbye. Call once.
  void finish();

  bool failed() const { return failed_; }
  bool said_goodbye() const { return process_.clean_exit; }
  int64_t process_id() const { return process_.id; }  // meaningful after Hello
  size_t buffered_bytes() const { return buffer_.size() - offset_; }

 private:
  struct PendingStep {
    bool has_begin = false, has_end = false;
    int64_t begin_ns = 0, end_ns = 0;
  };

  // Consumes the complete frames at the start of `input`; returns how many bytes they took
  // (stops early, with failed_ set, at a bad frame).
  size_t consume_frames(wire::ByteSpan input);
  bool handle_frame(const wire::FrameHeader& header, wire::ByteSpan payload);
  bool check_structure(const wire::FrameHeader& header, wire::ByteSpan payload);
  bool apply(const wire::RecordView& record);
  bool apply_hello(const wire::RecordView& record);
  void apply_topology(const wire::RecordView& record);
  bool apply_placement(const wire::RecordView& record);
  void apply_step_mark(const wire::RecordView& record);
  bool apply_expert_counts(const wire::RecordView& record);
  bool apply_router_decisions(const wire::RecordView& record);
  bool apply_all_to_all(const wire::RecordView& record);
  void apply_compute_span(const wire::RecordView& record);
  void apply_marker(const wire::RecordView& record);
  void apply_drops(const wire::RecordView& record);
  bool apply_range(const wire::RecordView& record);
  bool apply_gpu_kernel(const wire::RecordView& record);
  void apply_recorded(const wire::RecordView& record);
  void store_step(int64_t step, const PendingStep& pending);
  void saw_time(int64_t ns);
  // Logs, counts one dropped frame, marks the stream broken; returns false.
  bool fail(const std::string& problem);
  std::string describe() const;

  IngestContext& context_;
  std::string label_;
  wire::Bytes buffer_;  // bytes of an incomplete frame, from offset_
  size_t offset_ = 0;
  uint64_t next_sequence_ = 0;
  bool failed_ = false;
  bool finished_ = false;
  bool identified_ = false;  // Hello seen
  store::ProcessInfo process_;
  std::map<int64_t, PendingStep> open_steps_;
  // Reused for every record of their kind, so steady-state decoding does not allocate.
  store::ExpertLoad load_;
  store::RouterDecisionBatch routing_;
  store::AllToAllEvent all_to_all_;
  store::ComputeSpan span_;
  store::Marker marker_;
};

}  // namespace moeprof::ingest
