// A program written against the NVTX 3 headers only (no moeprof library): ranges, marks,
// domains, registered strings, categories, scalar and schema-described payloads, the moeprof
// domain's MoE events and NCCL's own ranges (as NCCL 2.28 emits them, without NCCL). It
// writes what it did, as ground truth the test compares the trace with, to ARGV[1]/truth.json.
#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvToolsExtPayload.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "moeprof/moeprof_nvtx.h"

extern "C" void nvtx_plugin_work();

namespace {

// Ground truth, one JSON object per line.
std::vector<std::string> g_truth;

std::string quote(const std::string& s) { return "\"" + s + "\""; }

void expect_range(const std::string& kind, const std::string& domain, const std::string& name, uint32_t category,
                  const std::string& category_name, const std::string& payload, const std::string& thread) {
  g_truth.push_back("{\"what\":\"range\",\"kind\":" + quote(kind) + ",\"domain\":" + quote(domain) +
                    ",\"name\":" + quote(name) + ",\"category\":" + std::to_string(category) +
                    ",\"category_name\":" + quote(category_name) + ",\"payload\":" + quote(payload) +
                    ",\"thread\":" + quote(thread) + "}");
}

nvtxEventAttributes_t attributes(const char* message) {
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = message;
  return a;
}

// A payload with a static schema: the kinds of entries real engines use.
struct LayerStats {
  int32_t layer;
  float capacity_factor;
  char tag[8];
  uint64_t tokens[3];
  const char* note;
};

uint64_t register_layer_stats(nvtxDomainHandle_t domain) {
  static const nvtxPayloadSchemaEntry_t entries[] = {
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT32, "layer", nullptr, 0, offsetof(LayerStats, layer), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_FLOAT, "capacity factor", nullptr, 0, offsetof(LayerStats, capacity_factor), nullptr,
       nullptr},
      {NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE, NVTX_PAYLOAD_ENTRY_TYPE_CHAR, "tag", nullptr, 8,
       offsetof(LayerStats, tag), nullptr, nullptr},
      {NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "tokens", nullptr, 3,
       offsetof(LayerStats, tokens), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_CSTRING, "note", nullptr, 0, offsetof(LayerStats, note), nullptr, nullptr},
  };
  nvtxPayloadSchemaAttr_t attr{};
  attr.fieldMask = NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NAME | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_TYPE |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_STATIC_SIZE;
  attr.name = "layer stats";
  attr.type = NVTX_PAYLOAD_SCHEMA_TYPE_STATIC;
  attr.entries = entries;
  attr.numEntries = sizeof entries / sizeof entries[0];
  attr.payloadStaticSize = sizeof(LayerStats);
  return nvtxPayloadSchemaRegister(domain, &attr);
}

// NCCL 2.28's NVTX schemas, with the entry names NCCL gives them.
struct NcclCommInit {
  uint64_t comm;
  int nranks;
  int rank;
  int device;
};
struct NcclAlltoAll {
  uint64_t comm;
  size_t bytes;
};

void register_nccl_schemas(nvtxDomainHandle_t nccl) {
  static const nvtxPayloadSchemaEntry_t init[] = {
      {0, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "NCCL communicator ID", nullptr, 0, offsetof(NcclCommInit, comm), nullptr,
       nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT, "No. of ranks", nullptr, 0, offsetof(NcclCommInit, nranks), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT, "Rank", nullptr, 0, offsetof(NcclCommInit, rank), nullptr, nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_INT, "CUDA device", nullptr, 0, offsetof(NcclCommInit, device), nullptr, nullptr}};
  static const nvtxPayloadSchemaEntry_t a2a[] = {
      {0, NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "NCCL communicator ID", nullptr, 0, offsetof(NcclAlltoAll, comm), nullptr,
       nullptr},
      {0, NVTX_PAYLOAD_ENTRY_TYPE_SIZE, "Message size [bytes]", nullptr, 0, offsetof(NcclAlltoAll, bytes), nullptr,
       nullptr}};
  nvtxPayloadSchemaAttr_t attr{};
  attr.fieldMask = NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_TYPE | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_STATIC_SIZE |
                   NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_SCHEMA_ID;
  attr.type = NVTX_PAYLOAD_SCHEMA_TYPE_STATIC;
  attr.entries = init;
  attr.numEntries = 4;
  attr.payloadStaticSize = sizeof(NcclCommInit);
  attr.schemaId = NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 0;
  nvtxPayloadSchemaRegister(nccl, &attr);
  attr.entries = a2a;
  attr.numEntries = 2;
  attr.payloadStaticSize = sizeof(NcclAlltoAll);
  attr.schemaId = NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30;
  nvtxPayloadSchemaRegister(nccl, &attr);
}

void generic_events() {
  // Default domain: push/pop with a colour, a category and a scalar payload, marks.
  nvtxRangePushA("outer");
  nvtxEventAttributes_t inner = attributes("inner");
  inner.colorType = NVTX_COLOR_ARGB;
  inner.color = 0xFF00AA33;
  inner.category = 3;
  inner.payloadType = NVTX_PAYLOAD_TYPE_INT64;
  inner.payload.llValue = -42;
  nvtxNameCategoryA(3, "sampling");
  g_truth.push_back("{\"what\":\"category\"}");
  nvtxRangePushEx(&inner);
  nvtxRangePop();
  nvtxRangePop();
  expect_range("push_pop", "", "inner", 3, "sampling", "-42", "main");
  expect_range("push_pop", "", "outer", 0, "", "", "main");
  nvtxMarkA("checkpoint");
  expect_range("mark", "", "checkpoint", 0, "", "", "main");
  nvtxMarkW(L"gr\u00fc\u00dfe");  // a wide message: UTF-8 in the trace
  expect_range("mark", "", "gr\xc3\xbc\xc3\x9f" "e", 0, "", "", "main");
  nvtxEventAttributes_t pi = attributes("pi");
  pi.payloadType = NVTX_PAYLOAD_TYPE_DOUBLE;
  pi.payload.dValue = 3.25;
  nvtxMarkEx(&pi);
  expect_range("mark", "", "pi", 0, "", "3.25", "main");

  // A domain with a named category and a registered string.
  nvtxDomainHandle_t engine = nvtxDomainCreateA("engine");
  nvtxDomainNameCategoryA(engine, 7, "attention");
  g_truth.push_back("{\"what\":\"category\"}");
  nvtxStringHandle_t forward = nvtxDomainRegisterStringA(engine, "layer forward");
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  a.message.registered = forward;
  a.category = 7;
  nvtxDomainRangePushEx(engine, &a);
  nvtxDomainRangePop(engine);
  expect_range("push_pop", "engine", "layer forward", 7, "attention", "", "main");

  // A schema-described payload on a domain range, and one on a mark of the extension API.
  const uint64_t schema = register_layer_stats(engine);
  LayerStats stats{5, 1.25f, {'t', 'o', 'p', '2', 0, 0, 0, 0}, {10, 20, 30}, "balanced"};
  nvtxPayloadData_t data{schema, sizeof stats, &stats};
  nvtxEventAttributes_t with_payload = attributes("moe layer");
  with_payload.payloadType = NVTX_PAYLOAD_TYPE_EXT;
  with_payload.reserved0 = 1;
  with_payload.payload.ullValue = reinterpret_cast<uintptr_t>(&data);
  nvtxDomainRangePushEx(engine, &with_payload);
  nvtxDomainRangePop(engine);
  const std::string stats_json =
      "{\\\"layer\\\":5,\\\"capacity factor\\\":1.25,\\\"tag\\\":\\\"top2\\\",\\\"tokens\\\":[10,20,30],"
      "\\\"note\\\":\\\"balanced\\\"}";
  expect_range("push_pop", "engine", "moe layer", 0, "", stats_json, "main");
  nvtxMarkPayload(engine, &data, 1);
  expect_range("mark", "engine", "", 0, "", stats_json, "main");

  // A start/end range opened here and ended on another thread.
  const nvtxRangeId_t id = nvtxDomainRangeStartEx(engine, &a);
  std::thread([&] { nvtxDomainRangeEnd(engine, id); }).join();
  expect_range("start_end", "engine", "layer forward", 7, "attention", "", "main");

  nvtx_plugin_work();
  expect_range("push_pop", "", "from the plugin library", 0, "", "", "main");
}

void moe_events() {
  // The moeprof domain: expert counts, router decisions and an all-to-all.
  const uint32_t counts[4] = {5, 0, 9, 2};
  const moeprof_nvtx_expert_counts c{1, 4, counts};
  moeprof_nvtx_expert_counts_mark(&c);
  g_truth.push_back("{\"what\":\"counts\",\"layer\":1,\"counts\":[5,0,9,2]}");
  const int32_t ids[6] = {0, 2, 2, 3, 0, 2};
  const float weights[6] = {0.5f, 0.5f, 0.75f, 0.25f, 0.5f, 0.5f};
  const moeprof_nvtx_router_decisions r{1, 0, 3, 2, 6, 0, ids, weights};
  moeprof_nvtx_router_decisions_mark(&r);
  g_truth.push_back("{\"what\":\"routing\",\"layer\":1,\"tokens\":3,\"top_k\":2}");
  const int32_t peers[3] = {0, 2, 3};
  const uint64_t send[3] = {100, 2048, 0};
  const uint64_t recv[3] = {300, 4096, 64};
  const moeprof_nvtx_all_to_all all{1, MOEPROF_NVTX_PHASE_COMBINE, 3, 0, peers, send, recv};
  moeprof_nvtx_all_to_all_push(&all);
  moeprof_nvtx_all_to_all_pop();
  for (int i = 0; i < 3; ++i)
    g_truth.push_back("{\"what\":\"a2a\",\"layer\":1,\"phase\":\"combine\",\"peer\":" + std::to_string(peers[i]) +
                      ",\"send\":" + std::to_string(send[i]) + ",\"recv\":" + std::to_string(recv[i]) + "}");
}

void nccl_events() {
  // What NCCL 2.28 emits around ncclCommInitRank and ncclAlltoAll, in its domain.
  nvtxDomainHandle_t nccl = nvtxDomainCreateA("NCCL");
  register_nccl_schemas(nccl);
  nvtxEventAttributes_t init{};
  init.version = NVTX_VERSION;
  init.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  init.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  init.message.registered = nvtxDomainRegisterStringA(nccl, "ncclCommInitRank");
  nvtxDomainRangePushEx(nccl, &init);
  // The communicator exists once the call is done: NCCL adds the payload when it pops.
  const NcclCommInit shape{0xC0FFEE, 4, 1, 0};
  const nvtxPayloadData_t init_data{NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 0, sizeof shape, &shape};
  nvtxRangePopPayload(nccl, &init_data, 1);

  const NcclAlltoAll a2a{0xC0FFEE, 1 << 20};
  const nvtxPayloadData_t a2a_data{NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 30, sizeof a2a, &a2a};
  nvtxEventAttributes_t call{};
  call.version = NVTX_VERSION;
  call.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  call.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  call.message.registered = nvtxDomainRegisterStringA(nccl, "ncclAlltoAll");
  call.payloadType = NVTX_PAYLOAD_TYPE_EXT;
  call.reserved0 = 1;
  call.payload.ullValue = reinterpret_cast<uintptr_t>(&a2a_data);
  nvtxDomainRangePushEx(nccl, &call);
  nvtxDomainRangePop(nccl);
  for (int peer = 0; peer < shape.nranks; ++peer)
    g_truth.push_back("{\"what\":\"a2a\",\"layer\":-1,\"phase\":\"other\",\"peer\":" + std::to_string(peer) +
                      ",\"send\":" + std::to_string(a2a.bytes) + ",\"recv\":" + std::to_string(a2a.bytes) + "}");
  expect_range("push_pop", "NCCL", "ncclCommInitRank", 0, "",
               "{\\\"NCCL communicator ID\\\":12648430,\\\"No. of ranks\\\":4,\\\"Rank\\\":1,\\\"CUDA device\\\":0}",
               "main");
  expect_range("push_pop", "NCCL", "ncclAlltoAll", 0, "",
               "{\\\"NCCL communicator ID\\\":12648430,\\\"Message size [bytes]\\\":1048576}", "main");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  generic_events();
  moe_events();
  nccl_events();
  std::ofstream out(std::string(argv[1]) + "/truth.json");
  for (const std::string& line : g_truth) out << line << "\n";
  return out ? 0 : 1;
}
