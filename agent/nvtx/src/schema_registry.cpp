#include "schema_registry.h"

#include <algorithm>

#include "payload_types.h"

namespace moeprof::nvtx {
namespace {

constexpr size_t kMaxEntries = 1024;

size_t slot_of(const void* domain, uint64_t id) {
  uint64_t h = reinterpret_cast<uintptr_t>(domain) * 0x9E3779B97F4A7C15ull ^ id * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  return static_cast<size_t>(h % SchemaRegistry::kCapacity);
}

std::string copy_text(const char* text) { return text == nullptr ? std::string() : std::string(text); }

size_t align_up(size_t value, size_t align) { return align <= 1 ? value : (value + align - 1) / align * align; }

}  // namespace

SchemaRegistry::SchemaRegistry() : slots_(new std::atomic<const RegisteredType*>[kCapacity]) {
  for (size_t i = 0; i < kCapacity; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
}

SchemaRegistry::~SchemaRegistry() = default;

const RegisteredType* SchemaRegistry::find(const void* domain, uint64_t id) const noexcept {
  for (size_t probe = 0, i = slot_of(domain, id); probe < kCapacity; ++probe, i = (i + 1) % kCapacity) {
    const RegisteredType* t = slots_[i].load(std::memory_order_acquire);
    if (t == nullptr) return nullptr;
    if (t->domain == domain && t->id == id) return t;
  }
  return nullptr;
}

bool SchemaRegistry::publish(std::unique_ptr<RegisteredType> type) {
  for (size_t probe = 0, i = slot_of(type->domain, type->id); probe < kCapacity; ++probe, i = (i + 1) % kCapacity) {
    if (slots_[i].load(std::memory_order_relaxed) != nullptr) continue;
    slots_[i].store(type.get(), std::memory_order_release);
    owned_.push_back(std::move(type));
    return true;
  }
  return false;
}

bool SchemaRegistry::type_layout(const void* domain, uint64_t type, size_t* size, size_t* align) const {
  if (is_registered_type_id(type)) {
    const RegisteredType* t = find(domain, type);
    if (t == nullptr) return false;
    *size = t->is_enum ? t->enumeration.size : t->schema.static_size;
    *align = t->is_enum ? t->enumeration.size : t->schema.alignment;
    return *size != 0;
  }
  const PredefinedType t = predefined_type(type);
  *size = t.size;
  *align = t.align;
  return t.size != 0;
}

void SchemaRegistry::lay_out(const void* domain, PayloadSchema* schema, size_t given_static_size) const {
  // Entries the program left at offset 0 (after the first) sit where a C compiler would put
  // them: the next multiple of their alignment.
  size_t end = 0;
  size_t max_align = 1;
  for (size_t i = 0; i < schema->entries.size(); ++i) {
    SchemaEntry& e = schema->entries[i];
    size_t size = 0, align = 1;
    if (e.flags & NVTX_PAYLOAD_ENTRY_FLAG_POINTER) {
      size = sizeof(void*);
      align = alignof(void*);
    } else if (!type_layout(domain, e.type, &size, &align)) {
      size = 0;
      align = 1;
    }
    if (!(e.flags & NVTX_PAYLOAD_ENTRY_FLAG_POINTER) &&
        NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_TYPE(e.flags) == NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE)
      size *= e.array_detail;
    max_align = std::max(max_align, align);
    if (i > 0 && e.offset == 0) e.offset = align_up(end, align);
    end = std::max<size_t>(end, e.offset + size);
  }
  schema->alignment = max_align;
  schema->static_size = given_static_size != 0 ? given_static_size : align_up(end, max_align);
}

uint64_t SchemaRegistry::publish_under_id(std::unique_ptr<RegisteredType> type, bool has_static_id,
                                          uint64_t static_id) {
  // Called with register_mutex_ held.
  if (has_static_id) {
    // The program's own ids live in [static start, dynamic start); ours above.
    if (!is_registered_type_id(static_id) || static_id >= NVTX_PAYLOAD_SCHEMA_ID_DYNAMIC_START) return 0;
    if (find(type->domain, static_id) != nullptr) return static_id;
    type->id = static_id;
  } else {
    type->id = next_dynamic_id_++;
  }
  const uint64_t id = type->id;
  return publish(std::move(type)) ? id : 0;
}

uint64_t SchemaRegistry::register_schema(const void* domain, const nvtxPayloadSchemaAttr_t* attr) {
  if (attr == nullptr) return 0;
  const uint64_t mask = attr->fieldMask;
  if (!(mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES) || attr->entries == nullptr) return 0;
  const size_t count = (mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES) ? attr->numEntries : 0;
  if (count == 0 || count > kMaxEntries) return 0;

  auto type = std::make_unique<RegisteredType>();
  type->domain = domain;
  PayloadSchema& s = type->schema;
  if (mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NAME) s.name = copy_text(attr->name);
  if (mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_TYPE) s.type = attr->type;
  if (mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_FLAGS) s.flags = attr->flags;
  s.entries.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const nvtxPayloadSchemaEntry_t& in = attr->entries[i];
    s.entries.push_back(SchemaEntry{in.flags, in.type, copy_text(in.name), in.arrayOrUnionDetail, in.offset});
  }

  const std::lock_guard<std::mutex> lock(register_mutex_);
  lay_out(domain, &s, (mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_STATIC_SIZE) ? attr->payloadStaticSize : 0);
  return publish_under_id(std::move(type), (mask & NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_SCHEMA_ID) != 0, attr->schemaId);
}

uint64_t SchemaRegistry::register_enum(const void* domain, const nvtxPayloadEnumAttr_t* attr) {
  if (attr == nullptr) return 0;
  const uint64_t mask = attr->fieldMask;
  if (!(mask & NVTX_PAYLOAD_ENUM_ATTR_FIELD_ENTRIES) || attr->entries == nullptr) return 0;
  const size_t count = (mask & NVTX_PAYLOAD_ENUM_ATTR_FIELD_NUM_ENTRIES) ? attr->numEntries : 0;
  if (count == 0 || count > kMaxEntries) return 0;

  auto type = std::make_unique<RegisteredType>();
  type->domain = domain;
  type->is_enum = true;
  PayloadEnum& e = type->enumeration;
  if (mask & NVTX_PAYLOAD_ENUM_ATTR_FIELD_NAME) e.name = copy_text(attr->name);
  if (mask & NVTX_PAYLOAD_ENUM_ATTR_FIELD_SIZE) e.size = attr->sizeOfEnum;
  if (e.size != 1 && e.size != 2 && e.size != 4 && e.size != 8) return 0;
  for (size_t i = 0; i < count; ++i)
    e.values.push_back(EnumValue{copy_text(attr->entries[i].name), attr->entries[i].value, attr->entries[i].isFlag != 0});

  const std::lock_guard<std::mutex> lock(register_mutex_);
  return publish_under_id(std::move(type), (mask & NVTX_PAYLOAD_ENUM_ATTR_FIELD_SCHEMA_ID) != 0, attr->schemaId);
}

}  // namespace moeprof::nvtx
