// libmoeprof_nvtx.so: the NVTX capture source. `moeprof run --capture nvtx` names it in
// NVTX_INJECTION64_PATH; the first NVTX call of every NVTX instance in the process (each
// library that embeds the header-only NVTX has its own) loads it and calls
// InitializeInjectionNvtx2, which points that instance's core and domain entry points here.
// The payload extension (schemas, nvtxMarkPayload, ...) loads it the same way and calls
// InitializeInjectionNvtxExtension. Every call after the first reuses the one capture.
//
// Nothing here may fail the application: each handler catches everything, and a handler
// that cannot record returns what NVTX returns without a tool.
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "agent_abi_sink.h"
#include "capture.h"
#include "capture_settings.h"
#include "event_view.h"
#include "nvtx_api.h"
#include "wide_text.h"

#define MOEPROF_NVTX_ENTRY extern "C" __attribute__((visibility("default")))

namespace moeprof::nvtx {
namespace {

// Created on the first initialisation, never destroyed: NVTX calls may come from any thread
// until the process is gone.
NvtxCapture* g_capture = nullptr;
std::once_flag g_capture_once;

NvtxCapture& capture() {
  std::call_once(g_capture_once, [] {
    std::string warnings;
    const CaptureSettings settings = capture_settings_from([](const char* name) -> const char* { return std::getenv(name); }, &warnings);
    if (!warnings.empty()) std::fputs(warnings.c_str(), stderr);
    g_capture = new NvtxCapture(settings, *new AgentAbiSink);
  });
  return *g_capture;
}

thread_local char t_name[MOEPROF_MAX_NAME_BYTES + 1];

template <typename R, typename F>
R guarded(R fallback, F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return fallback;
  }
}

template <typename F>
void guarded_void(F&& f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

const Domain* domain_of(nvtxDomainHandle_t handle) { return g_capture->domain_of(handle); }
const Domain* default_domain() { return g_capture->domain_of(nullptr); }

EventView payload_event(const nvtxPayloadData_t* payloads, size_t count) {
  EventView v;
  v.payloads = count > 0 ? payloads : nullptr;
  v.payload_count = payloads != nullptr ? count : 0;
  return v;
}

// ---- Core (NVTX_CB_MODULE_CORE): the default domain ----
void NVTX_API mark_ex(const nvtxEventAttributes_t* a) {
  guarded_void([&] { g_capture->mark(default_domain(), view_of(a, t_name, sizeof t_name)); });
}
void NVTX_API mark_a(const char* m) { guarded_void([&] { g_capture->mark(default_domain(), view_of_ascii(m)); }); }
void NVTX_API mark_w(const wchar_t* m) {
  guarded_void([&] { g_capture->mark(default_domain(), view_of_wide(m, t_name, sizeof t_name)); });
}
nvtxRangeId_t NVTX_API range_start_ex(const nvtxEventAttributes_t* a) {
  return guarded<nvtxRangeId_t>(0, [&] { return g_capture->start(default_domain(), view_of(a, t_name, sizeof t_name)); });
}
nvtxRangeId_t NVTX_API range_start_a(const char* m) {
  return guarded<nvtxRangeId_t>(0, [&] { return g_capture->start(default_domain(), view_of_ascii(m)); });
}
nvtxRangeId_t NVTX_API range_start_w(const wchar_t* m) {
  return guarded<nvtxRangeId_t>(0,
                                [&] { return g_capture->start(default_domain(), view_of_wide(m, t_name, sizeof t_name)); });
}
void NVTX_API range_end(nvtxRangeId_t id) { guarded_void([&] { g_capture->end(id, nullptr, 0); }); }
int NVTX_API range_push_ex(const nvtxEventAttributes_t* a) {
  return guarded(-1, [&] { return g_capture->push(default_domain(), view_of(a, t_name, sizeof t_name)); });
}
int NVTX_API range_push_a(const char* m) {
  return guarded(-1, [&] { return g_capture->push(default_domain(), view_of_ascii(m)); });
}
int NVTX_API range_push_w(const wchar_t* m) {
  return guarded(-1, [&] { return g_capture->push(default_domain(), view_of_wide(m, t_name, sizeof t_name)); });
}
int NVTX_API range_pop() { return guarded(-1, [&] { return g_capture->pop(default_domain(), nullptr, 0); }); }
void NVTX_API name_category_a(uint32_t category, const char* name) {
  guarded_void([&] { g_capture->name_category(default_domain(), category, name != nullptr ? name : ""); });
}
void NVTX_API name_category_w(uint32_t category, const wchar_t* name) {
  guarded_void([&] { g_capture->name_category(default_domain(), category, utf8_of_wide(name, t_name, sizeof t_name)); });
}

// ---- Core 2 (NVTX_CB_MODULE_CORE2): domains and registered strings ----
void NVTX_API domain_mark_ex(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a) {
  guarded_void([&] { g_capture->mark(domain_of(d), view_of(a, t_name, sizeof t_name)); });
}
nvtxRangeId_t NVTX_API domain_range_start_ex(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a) {
  return guarded<nvtxRangeId_t>(0, [&] { return g_capture->start(domain_of(d), view_of(a, t_name, sizeof t_name)); });
}
void NVTX_API domain_range_end(nvtxDomainHandle_t, nvtxRangeId_t id) {
  guarded_void([&] { g_capture->end(id, nullptr, 0); });
}
int NVTX_API domain_range_push_ex(nvtxDomainHandle_t d, const nvtxEventAttributes_t* a) {
  return guarded(-1, [&] { return g_capture->push(domain_of(d), view_of(a, t_name, sizeof t_name)); });
}
int NVTX_API domain_range_pop(nvtxDomainHandle_t d) {
  return guarded(-1, [&] { return g_capture->pop(domain_of(d), nullptr, 0); });
}
void NVTX_API domain_name_category_a(nvtxDomainHandle_t d, uint32_t category, const char* name) {
  guarded_void([&] { g_capture->name_category(domain_of(d), category, name != nullptr ? name : ""); });
}
void NVTX_API domain_name_category_w(nvtxDomainHandle_t d, uint32_t category, const wchar_t* name) {
  guarded_void([&] { g_capture->name_category(domain_of(d), category, utf8_of_wide(name, t_name, sizeof t_name)); });
}
nvtxStringHandle_t NVTX_API domain_register_string_a(nvtxDomainHandle_t d, const char* text) {
  return guarded<nvtxStringHandle_t>(nullptr, [&] {
    return reinterpret_cast<nvtxStringHandle_t>(
        g_capture->domains().register_string(domain_of(d), text != nullptr ? text : ""));
  });
}
nvtxStringHandle_t NVTX_API domain_register_string_w(nvtxDomainHandle_t d, const wchar_t* text) {
  return guarded<nvtxStringHandle_t>(nullptr, [&] {
    return reinterpret_cast<nvtxStringHandle_t>(
        g_capture->domains().register_string(domain_of(d), utf8_of_wide(text, t_name, sizeof t_name)));
  });
}
nvtxDomainHandle_t NVTX_API domain_create_a(const char* name) {
  return guarded<nvtxDomainHandle_t>(nullptr, [&] {
    return reinterpret_cast<nvtxDomainHandle_t>(g_capture->domains().create(name != nullptr ? name : ""));
  });
}
nvtxDomainHandle_t NVTX_API domain_create_w(const wchar_t* name) {
  return guarded<nvtxDomainHandle_t>(nullptr, [&] {
    return reinterpret_cast<nvtxDomainHandle_t>(g_capture->domains().create(utf8_of_wide(name, t_name, sizeof t_name)));
  });
}
// Handles stay valid (the program may still hold them); destroying records nothing.
void NVTX_API domain_destroy(nvtxDomainHandle_t) {}
void NVTX_API initialize(const void*) {}

// ---- The payload extension (module NVTX_EXT_PAYLOAD_MODULEID) ----
uint64_t NVTX_API schema_register(nvtxDomainHandle_t d, const nvtxPayloadSchemaAttr_t* attr) {
  return guarded<uint64_t>(0, [&] { return g_capture->schemas().register_schema(domain_of(d), attr); });
}
uint64_t NVTX_API enum_register(nvtxDomainHandle_t d, const nvtxPayloadEnumAttr_t* attr) {
  return guarded<uint64_t>(0, [&] { return g_capture->schemas().register_enum(domain_of(d), attr); });
}
void NVTX_API mark_payload(nvtxDomainHandle_t d, const nvtxPayloadData_t* p, size_t n) {
  guarded_void([&] { g_capture->mark(domain_of(d), payload_event(p, n)); });
}
int NVTX_API range_push_payload(nvtxDomainHandle_t d, const nvtxPayloadData_t* p, size_t n) {
  return guarded(-1, [&] { return g_capture->push(domain_of(d), payload_event(p, n)); });
}
int NVTX_API range_pop_payload(nvtxDomainHandle_t d, const nvtxPayloadData_t* p, size_t n) {
  return guarded(-1, [&] { return g_capture->pop(domain_of(d), p, p != nullptr ? n : 0); });
}
nvtxRangeId_t NVTX_API range_start_payload(nvtxDomainHandle_t d, const nvtxPayloadData_t* p, size_t n) {
  return guarded<nvtxRangeId_t>(0, [&] { return g_capture->start(domain_of(d), payload_event(p, n)); });
}
void NVTX_API range_end_payload(nvtxDomainHandle_t, nvtxRangeId_t id, const nvtxPayloadData_t* p, size_t n) {
  guarded_void([&] { g_capture->end(id, p, p != nullptr ? n : 0); });
}
uint8_t NVTX_API domain_is_enabled(nvtxDomainHandle_t) { return 1; }

template <typename F>
NvtxFunctionPointer fn(F* f) {
  return reinterpret_cast<NvtxFunctionPointer>(f);
}

struct Handler {
  unsigned id;
  NvtxFunctionPointer function;
};

// Points the instance's slots we handle at our handlers; false when the module is missing.
bool attach(const NvtxExportTableCallbacks* callbacks, NvtxCallbackModule module, const Handler* handlers,
            size_t count) {
  NvtxFunctionTable table = nullptr;
  unsigned int size = 0;
  if (!callbacks->GetModuleFunctionTable(module, &table, &size) || table == nullptr) return false;
  for (size_t i = 0; i < count; ++i)
    if (handlers[i].id < size && table[handlers[i].id] != nullptr) *table[handlers[i].id] = handlers[i].function;
  return true;
}

int initialize_core(NvtxGetExportTableFunc_t get_export_table) {
  if (get_export_table == nullptr) return 0;
  const auto* callbacks = static_cast<const NvtxExportTableCallbacks*>(get_export_table(NVTX_ETID_CALLBACKS));
  if (callbacks == nullptr || callbacks->struct_size < sizeof(NvtxExportTableCallbacks) ||
      callbacks->GetModuleFunctionTable == nullptr)
    return 0;
  capture();
  const Handler core[] = {
      {NVTX_CBID_CORE_MarkEx, fn(mark_ex)},
      {NVTX_CBID_CORE_MarkA, fn(mark_a)},
      {NVTX_CBID_CORE_MarkW, fn(mark_w)},
      {NVTX_CBID_CORE_RangeStartEx, fn(range_start_ex)},
      {NVTX_CBID_CORE_RangeStartA, fn(range_start_a)},
      {NVTX_CBID_CORE_RangeStartW, fn(range_start_w)},
      {NVTX_CBID_CORE_RangeEnd, fn(range_end)},
      {NVTX_CBID_CORE_RangePushEx, fn(range_push_ex)},
      {NVTX_CBID_CORE_RangePushA, fn(range_push_a)},
      {NVTX_CBID_CORE_RangePushW, fn(range_push_w)},
      {NVTX_CBID_CORE_RangePop, fn(range_pop)},
      {NVTX_CBID_CORE_NameCategoryA, fn(name_category_a)},
      {NVTX_CBID_CORE_NameCategoryW, fn(name_category_w)},
  };
  const Handler core2[] = {
      {NVTX_CBID_CORE2_DomainMarkEx, fn(domain_mark_ex)},
      {NVTX_CBID_CORE2_DomainRangeStartEx, fn(domain_range_start_ex)},
      {NVTX_CBID_CORE2_DomainRangeEnd, fn(domain_range_end)},
      {NVTX_CBID_CORE2_DomainRangePushEx, fn(domain_range_push_ex)},
      {NVTX_CBID_CORE2_DomainRangePop, fn(domain_range_pop)},
      {NVTX_CBID_CORE2_DomainNameCategoryA, fn(domain_name_category_a)},
      {NVTX_CBID_CORE2_DomainNameCategoryW, fn(domain_name_category_w)},
      {NVTX_CBID_CORE2_DomainRegisterStringA, fn(domain_register_string_a)},
      {NVTX_CBID_CORE2_DomainRegisterStringW, fn(domain_register_string_w)},
      {NVTX_CBID_CORE2_DomainCreateA, fn(domain_create_a)},
      {NVTX_CBID_CORE2_DomainCreateW, fn(domain_create_w)},
      {NVTX_CBID_CORE2_DomainDestroy, fn(domain_destroy)},
      {NVTX_CBID_CORE2_Initialize, fn(initialize)},
  };
  if (!attach(callbacks, NVTX_CB_MODULE_CORE, core, std::size(core))) return 0;
  attach(callbacks, NVTX_CB_MODULE_CORE2, core2, std::size(core2));
  return 1;
}

int initialize_extension(nvtxExtModuleInfo_t* info) {
  if (info == nullptr || info->structSize < sizeof(nvtxExtModuleInfo_t)) return 0;
  capture();
  // Other extensions (counters, memory) get no handlers: NVTX turns their calls into no-ops.
  if (info->moduleId != NVTX_EXT_PAYLOAD_MODULEID || info->segmentsCount == 0 || info->segments == nullptr)
    return 1;
  const Handler payload[] = {
      {NVTX3EXT_CBID_nvtxPayloadSchemaRegister, fn(schema_register)},
      {NVTX3EXT_CBID_nvtxPayloadEnumRegister, fn(enum_register)},
      {NVTX3EXT_CBID_nvtxMarkPayload, fn(mark_payload)},
      {NVTX3EXT_CBID_nvtxRangePushPayload, fn(range_push_payload)},
      {NVTX3EXT_CBID_nvtxRangePopPayload, fn(range_pop_payload)},
      {NVTX3EXT_CBID_nvtxRangeStartPayload, fn(range_start_payload)},
      {NVTX3EXT_CBID_nvtxRangeEndPayload, fn(range_end_payload)},
      {NVTX3EXT_CBID_nvtxDomainIsEnabled, fn(domain_is_enabled)},
  };
  nvtxExtModuleSegment_t& segment = info->segments[0];
  for (const Handler& h : payload)
    if (h.id < segment.slotCount && segment.functionSlots != nullptr)
      segment.functionSlots[h.id] = reinterpret_cast<intptr_t>(h.function);
  return 1;
}

}  // namespace
}  // namespace moeprof::nvtx

MOEPROF_NVTX_ENTRY int InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_export_table) {
  return moeprof::nvtx::guarded(0, [&] { return moeprof::nvtx::initialize_core(get_export_table); });
}

MOEPROF_NVTX_ENTRY int InitializeInjectionNvtxExtension(nvtxExtModuleInfo_t* info) {
  return moeprof::nvtx::guarded(0, [&] { return moeprof::nvtx::initialize_extension(info); });
}
