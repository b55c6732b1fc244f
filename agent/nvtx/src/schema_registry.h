// Payload schemas and enums registered with nvtxPayloadSchemaRegister / nvtxPayloadEnumRegister,
// copied out of the program's attribute structs (which it may free afterwards) and kept per
// domain for the life of the process. Registration is rare and takes a lock; lookups happen
// on every event with a payload and take none: a fixed open-addressing table of published
// pointers, entries never removed or replaced.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nvtx_api.h"

namespace moeprof::nvtx {

struct SchemaEntry {
  uint64_t flags = 0;
  uint64_t type = 0;
  std::string name;
  uint64_t array_detail = 0;  // fixed length, or the index of the entry holding the length
  uint64_t offset = 0;        // of a static schema's entry; computed where the program gave 0
};

struct PayloadSchema {
  std::string name;
  uint64_t type = NVTX_PAYLOAD_SCHEMA_TYPE_STATIC;
  uint64_t flags = 0;
  std::vector<SchemaEntry> entries;
  size_t static_size = 0;  // bytes of one payload of a static schema
  size_t alignment = 1;
};

struct EnumValue {
  std::string name;
  uint64_t value = 0;
  bool is_flag = false;
};

struct PayloadEnum {
  std::string name;
  size_t size = 4;  // bytes of one value
  std::vector<EnumValue> values;
};

// One registered type: a schema or an enum, under (domain, id).
struct RegisteredType {
  const void* domain = nullptr;
  uint64_t id = 0;
  bool is_enum = false;
  PayloadSchema schema;
  PayloadEnum enumeration;
};

class SchemaRegistry {
 public:
  static constexpr size_t kCapacity = 4096;  // registered types per process

  SchemaRegistry();
  ~SchemaRegistry();
  SchemaRegistry(const SchemaRegistry&) = delete;
  SchemaRegistry& operator=(const SchemaRegistry&) = delete;

  // The id the schema is known by (the program's static id, or a new dynamic one), 0 when
  // the attributes are invalid or the table is full. A static id registered twice in one
  // domain keeps its first schema.
  uint64_t register_schema(const void* domain, const nvtxPayloadSchemaAttr_t* attr);
  uint64_t register_enum(const void* domain, const nvtxPayloadEnumAttr_t* attr);

  // The type registered under (domain, id), or null. Lock-free.
  const RegisteredType* find(const void* domain, uint64_t id) const noexcept;

 private:
  bool publish(std::unique_ptr<RegisteredType> type);
  uint64_t publish_under_id(std::unique_ptr<RegisteredType> type, bool has_static_id, uint64_t static_id);
  // Size and alignment of an entry's type (a predefined type or a registered schema/enum).
  bool type_layout(const void* domain, uint64_t type, size_t* size, size_t* align) const;
  void lay_out(const void* domain, PayloadSchema* schema, size_t given_static_size) const;

  std::mutex register_mutex_;
  uint64_t next_dynamic_id_ = NVTX_PAYLOAD_SCHEMA_ID_DYNAMIC_START;
  std::unique_ptr<std::atomic<const RegisteredType*>[]> slots_;
  std::vector<std::unique_ptr<RegisteredType>> owned_;
};

}  // namespace moeprof::nvtx
