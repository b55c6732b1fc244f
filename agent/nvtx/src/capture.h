// The NVTX source: every NVTX call this library receives, in terms of domains and events,
// turned into agent records. Ranges, marks and category names become records of the trace's
// range table (payloads as JSON); the moeprof domain's payloads become expert counts, router
// decisions and all-to-alls; NCCL's own ncclAlltoAll ranges become all-to-alls too.
//
// Per event: no lock, no allocation (a thread's push/pop arena is allocated on its first
// push). Ranges that do not fit their fixed storage are dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent_sink.h"
#include "capture_settings.h"
#include "domains.h"
#include "event_view.h"
#include "nccl_communicators.h"
#include "nvtx_api.h"
#include "open_range.h"
#include "payload_json.h"
#include "schema_registry.h"
#include "start_end_pool.h"

namespace moeprof::nvtx {

class RangeStack;

class NvtxCapture {
 public:
  NvtxCapture(const CaptureSettings& settings, AgentSink& sink);
  NvtxCapture(const NvtxCapture&) = delete;
  NvtxCapture& operator=(const NvtxCapture&) = delete;

  DomainTable& domains() { return domains_; }
  SchemaRegistry& schemas() { return schemas_; }
  // A program's domain handle (null: the default domain).
  const Domain* domain_of(const void* handle) const {
    return handle != nullptr ? static_cast<const Domain*>(handle) : domains_.default_domain();
  }

  void mark(const Domain* domain, const EventView& event);
  int push(const Domain* domain, const EventView& event);
  // `end_payloads`: nvtxRangePopPayload's, or null.
  int pop(const Domain* domain, const nvtxPayloadData_t* end_payloads, size_t end_count);
  uint64_t start(const Domain* domain, const EventView& event);
  void end(uint64_t id, const nvtxPayloadData_t* end_payloads, size_t end_count);
  void name_category(const Domain* domain, uint32_t category, std::string_view name);

 private:
  struct Opening;
  // Everything about a range known when it opens.
  void open(const Domain* domain, const EventView& event, int32_t kind, Opening* opening);
  void close(const unsigned char* entry, const nvtxPayloadData_t* end_payloads, size_t end_count);
  // The event's payload as JSON into `buffer`; empty when it has none.
  std::string_view payload_json(const Domain* domain, const EventView& event, char* buffer, size_t capacity);
  void learn_nccl_communicator(const Domain* domain, const nvtxPayloadData_t* payloads, size_t count);
  bool moe_mark(const Domain* domain, const EventView& event);
  void record_range(const OpenRangeHeader& header, int64_t end_ns, const char* name, const char* payload);
  RangeStack& thread_stack();

  CaptureSettings settings_;
  AgentSink& sink_;
  DomainTable domains_;
  SchemaRegistry schemas_;
  PayloadDecoder decoder_{schemas_};
  NcclCommunicators nccl_communicators_;
  StartEndPool start_end_;
  uint64_t id_;  // tells this capture's thread stacks from an earlier one's
};

}  // namespace moeprof::nvtx
