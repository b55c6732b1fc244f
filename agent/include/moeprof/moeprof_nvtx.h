/* The moeprof NVTX domain: MoE events reported with the NVTX 3 headers alone.
 *
 * An engine that already uses NVTX (or must not link moeprof) includes this header and calls
 * the helpers below; nothing of moeprof is linked. Under `moeprof run --capture nvtx` the
 * moeprof NVTX injection library turns these events into the same trace records the agent's
 * C API makes (expert counts, router decisions, all-to-alls, counted under source "nvtx");
 * under any other NVTX tool they are ordinary marks and ranges of the domain "moeprof" whose
 * binary payloads are described by the schemas registered here (Nsight Systems shows them).
 *
 * The events:
 *   - expert counts: a mark whose payload is a moeprof_nvtx_expert_counts
 *     (schema MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS);
 *   - router decisions: a mark with a moeprof_nvtx_router_decisions
 *     (schema MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS);
 *   - an all-to-all: a push/pop (or start/end) range whose opening event carries a
 *     moeprof_nvtx_all_to_all (schema MOEPROF_NVTX_SCHEMA_ALL_TO_ALL); the range's times are
 *     the all-to-all's. The arrays are read when the range opens.
 * Arrays are read during the NVTX call only; the caller keeps ownership.
 *
 * Schema ids are static ids of this domain (NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + n); structs
 * and ids only grow. */
#ifndef MOEPROF_MOEPROF_NVTX_H
#define MOEPROF_MOEPROF_NVTX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvToolsExtPayload.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOEPROF_NVTX_DOMAIN "moeprof"

#define MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS (NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 1)
#define MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS (NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 2)
#define MOEPROF_NVTX_SCHEMA_ALL_TO_ALL (NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 3)

/* The all-to-all phases (the agent's moeprof_phase values). */
#define MOEPROF_NVTX_PHASE_DISPATCH 0
#define MOEPROF_NVTX_PHASE_COMBINE 1
#define MOEPROF_NVTX_PHASE_OTHER 2

/* Tokens routed to each expert of one MoE layer in the current step. */
typedef struct moeprof_nvtx_expert_counts {
  int32_t layer;
  uint32_t num_experts;
  const uint32_t* counts; /* num_experts entries */
} moeprof_nvtx_expert_counts;

/* Top-k choices of a batch of tokens (token-major: token t's at [t*top_k, (t+1)*top_k)). */
typedef struct moeprof_nvtx_router_decisions {
  int32_t layer;
  uint32_t token_offset;  /* the batch's first token within (step, layer) */
  uint32_t num_tokens;
  uint32_t top_k;
  uint32_t num_choices;   /* num_tokens * top_k: the length of both arrays */
  uint32_t reserved;
  const int32_t* expert_ids;
  const float* gate_weights; /* may be NULL */
} moeprof_nvtx_router_decisions;

/* Bytes this rank sends to and receives from each peer in one all-to-all. */
typedef struct moeprof_nvtx_all_to_all {
  int32_t layer;          /* -1: unknown */
  int32_t phase;          /* MOEPROF_NVTX_PHASE_* */
  uint32_t num_peers;
  uint32_t reserved;
  const int32_t* peers;   /* global ranks; NULL: peers 0 .. num_peers-1 */
  const uint64_t* send_bytes; /* num_peers entries */
  const uint64_t* recv_bytes; /* num_peers entries */
} moeprof_nvtx_all_to_all;

#define MOEPROF_NVTX_ENTRY_(flags, type, name, detail, st, field) \
  { (flags), (type), (name), NULL, (detail), offsetof(st, field), NULL, NULL }
#define MOEPROF_NVTX_ARRAY_ (NVTX_PAYLOAD_ENTRY_FLAG_POINTER | NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_LENGTH_INDEX)

static const nvtxPayloadSchemaEntry_t moeprof_nvtx_expert_counts_entries_[] = {
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "layer", 0, moeprof_nvtx_expert_counts, layer),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "num_experts", 0, moeprof_nvtx_expert_counts, num_experts),
    MOEPROF_NVTX_ENTRY_(MOEPROF_NVTX_ARRAY_, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "counts", 1, moeprof_nvtx_expert_counts,
                        counts)};

static const nvtxPayloadSchemaEntry_t moeprof_nvtx_router_decisions_entries_[] = {
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "layer", 0, moeprof_nvtx_router_decisions, layer),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "token_offset", 0, moeprof_nvtx_router_decisions,
                        token_offset),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "num_tokens", 0, moeprof_nvtx_router_decisions, num_tokens),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "top_k", 0, moeprof_nvtx_router_decisions, top_k),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "num_choices", 0, moeprof_nvtx_router_decisions,
                        num_choices),
    MOEPROF_NVTX_ENTRY_(NVTX_PAYLOAD_ENTRY_FLAG_HIDE, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "reserved", 0,
                        moeprof_nvtx_router_decisions, reserved),
    MOEPROF_NVTX_ENTRY_(MOEPROF_NVTX_ARRAY_, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "expert_ids", 4,
                        moeprof_nvtx_router_decisions, expert_ids),
    MOEPROF_NVTX_ENTRY_(MOEPROF_NVTX_ARRAY_, NVTX_PAYLOAD_ENTRY_TYPE_FLOAT, "gate_weights", 4,
                        moeprof_nvtx_router_decisions, gate_weights)};

static const nvtxPayloadSchemaEntry_t moeprof_nvtx_all_to_all_entries_[] = {
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "layer", 0, moeprof_nvtx_all_to_all, layer),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "phase", 0, moeprof_nvtx_all_to_all, phase),
    MOEPROF_NVTX_ENTRY_(0, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "num_peers", 0, moeprof_nvtx_all_to_all, num_peers),
    MOEPROF_NVTX_ENTRY_(NVTX_PAYLOAD_ENTRY_FLAG_HIDE, NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "reserved", 0,
                        moeprof_nvtx_all_to_all, reserved),
    MOEPROF_NVTX_ENTRY_(MOEPROF_NVTX_ARRAY_, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "peers", 2, moeprof_nvtx_all_to_all,
                        peers),
    MOEPROF_NVTX_ENTRY_(MOEPROF_NVTX_ARRAY_, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "send_bytes", 2,
                        moeprof_nvtx_all_to_all, send_bytes),
    MOEPROF_NVTX_ENTRY_(MOEPROF_NVTX_ARRAY_, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "recv_bytes", 2,
                        moeprof_nvtx_all_to_all, recv_bytes)};

static inline void moeprof_nvtx_register_schema_(nvtxDomainHandle_t domain, const char* name, uint64_t id,
                                                 const nvtxPayloadSchemaEntry_t* entries, size_t count,
                                                 size_t size) {
  nvtxPayloadSchemaAttr_t attr;
  memset(&attr, 0, sizeof attr);
  attr.fieldMask = NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NAME | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_TYPE |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_STATIC_SIZE | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_SCHEMA_ID;
  attr.name = name;
  attr.type = NVTX_PAYLOAD_SCHEMA_TYPE_STATIC;
  attr.entries = entries;
  attr.numEntries = count;
  attr.payloadStaticSize = size;
  attr.schemaId = id;
  nvtxPayloadSchemaRegister(domain, &attr);
}

/* The moeprof domain, created (and its schemas registered) on first use. */
static inline nvtxDomainHandle_t moeprof_nvtx_domain(void) {
  static nvtxDomainHandle_t domain = NULL;
  if (domain == NULL) {
    nvtxDomainHandle_t d = nvtxDomainCreateA(MOEPROF_NVTX_DOMAIN);
    moeprof_nvtx_register_schema_(d, "moeprof expert counts", MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS,
                                  moeprof_nvtx_expert_counts_entries_,
                                  sizeof moeprof_nvtx_expert_counts_entries_ / sizeof(nvtxPayloadSchemaEntry_t),
                                  sizeof(moeprof_nvtx_expert_counts));
    moeprof_nvtx_register_schema_(d, "moeprof router decisions", MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS,
                                  moeprof_nvtx_router_decisions_entries_,
                                  sizeof moeprof_nvtx_router_decisions_entries_ / sizeof(nvtxPayloadSchemaEntry_t),
                                  sizeof(moeprof_nvtx_router_decisions));
    moeprof_nvtx_register_schema_(d, "moeprof all-to-all", MOEPROF_NVTX_SCHEMA_ALL_TO_ALL,
                                  moeprof_nvtx_all_to_all_entries_,
                                  sizeof moeprof_nvtx_all_to_all_entries_ / sizeof(nvtxPayloadSchemaEntry_t),
                                  sizeof(moeprof_nvtx_all_to_all));
    domain = d;
  }
  return domain;
}

/* Event attributes carrying one binary payload (`data` must outlive the NVTX call). */
static inline nvtxEventAttributes_t moeprof_nvtx_attributes_(const char* message, nvtxPayloadData_t* data) {
  nvtxEventAttributes_t a;
  memset(&a, 0, sizeof a);
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = message;
  a.payloadType = NVTX_PAYLOAD_TYPE_EXT;
  a.reserved0 = 1; /* one nvtxPayloadData_t */
  a.payload.ullValue = (uint64_t)(uintptr_t)data;
  return a;
}

static inline void moeprof_nvtx_expert_counts_mark(const moeprof_nvtx_expert_counts* counts) {
  nvtxPayloadData_t data = {MOEPROF_NVTX_SCHEMA_EXPERT_COUNTS, sizeof *counts, counts};
  nvtxEventAttributes_t a = moeprof_nvtx_attributes_("expert counts", &data);
  nvtxDomainMarkEx(moeprof_nvtx_domain(), &a);
}

static inline void moeprof_nvtx_router_decisions_mark(const moeprof_nvtx_router_decisions* decisions) {
  nvtxPayloadData_t data = {MOEPROF_NVTX_SCHEMA_ROUTER_DECISIONS, sizeof *decisions, decisions};
  nvtxEventAttributes_t a = moeprof_nvtx_attributes_("router decisions", &data);
  nvtxDomainMarkEx(moeprof_nvtx_domain(), &a);
}

/* Opens an all-to-all range on this thread; close it with moeprof_nvtx_all_to_all_pop(). */
static inline void moeprof_nvtx_all_to_all_push(const moeprof_nvtx_all_to_all* a2a) {
  nvtxPayloadData_t data = {MOEPROF_NVTX_SCHEMA_ALL_TO_ALL, sizeof *a2a, a2a};
  nvtxEventAttributes_t a = moeprof_nvtx_attributes_("all-to-all", &data);
  nvtxDomainRangePushEx(moeprof_nvtx_domain(), &a);
}

static inline void moeprof_nvtx_all_to_all_pop(void) { nvtxDomainRangePop(moeprof_nvtx_domain()); }

#ifdef __cplusplus
}
#endif

#endif /* MOEPROF_MOEPROF_NVTX_H */
