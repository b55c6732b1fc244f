#include "payload_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "domains.h"
#include "payload_types.h"
#include "wide_text.h"

namespace moeprof::nvtx {
namespace {

constexpr int kMaxDepth = 8;                     // nested schemas followed
constexpr size_t kMaxElements = 1 << 16;         // elements of one array written
constexpr size_t kMaxTextBytes = 8192;           // bytes of one string read
constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();

template <typename T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

size_t align_up(size_t value, size_t align) { return align <= 1 ? value : (value + align - 1) / align * align; }

double half_to_double(uint16_t h) {
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  double v;
  if (exponent == 0)
    v = std::ldexp(mantissa, -24);
  else if (exponent == 31)
    v = mantissa == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  else
    v = std::ldexp(mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -v : v;
}

void write_hex(const unsigned char* p, size_t size, JsonWriter& out) {
  // Little-endian bytes, most significant first.
  static constexpr char kHex[] = "0123456789abcdef";
  char text[2 + 32 + 1] = {'0', 'x'};
  size_t n = 2;
  for (size_t i = size; i-- > 0 && n + 2 < sizeof text;) {
    text[n++] = kHex[p[i] >> 4];
    text[n++] = kHex[p[i] & 0xF];
  }
  out.string({text, n});
}

// Text of `count` characters of a character type at p (stops at a NUL).
void write_characters(uint64_t type, const unsigned char* p, size_t count, JsonWriter& out) {
  char buffer[kMaxTextBytes];
  size_t size = 0;
  switch (type) {
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR8:
      size = strnlen(reinterpret_cast<const char*>(p), std::min(count, sizeof buffer));
      out.string({reinterpret_cast<const char*>(p), size});
      return;
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR16:
      out.string(utf8_of_utf16(reinterpret_cast<const char16_t*>(p), count, buffer, sizeof buffer));
      return;
    default: {  // wchar_t and char32_t: UTF-32 here
      for (size_t i = 0; i < count; ++i) {
        const char32_t c = load<char32_t>(p + 4 * i);
        if (c == 0) break;
        const size_t n = encode_utf8(c, buffer + size, sizeof buffer - size);
        if (n == 0) break;
        size += n;
      }
      out.string({buffer, size});
      return;
    }
  }
}

bool zero_element(const unsigned char* p, size_t size) {
  for (size_t i = 0; i < size; ++i)
    if (p[i] != 0) return false;
  return true;
}

}  // namespace

bool PayloadDecoder::type_size(const void* domain, uint64_t type, size_t* size, size_t* align) const {
  if (is_registered_type_id(type)) {
    const RegisteredType* t = registry_.find(domain, type);
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

void PayloadDecoder::write(const void* domain, const nvtxPayloadData_t* data, size_t count, JsonWriter& out) const {
  if (data == nullptr || count == 0) {
    out.null();
    return;
  }
  if (count == 1) {
    write_payload(domain, data[0], out);
    return;
  }
  out.begin_array();
  for (size_t i = 0; i < count && i < kMaxElements; ++i) write_payload(domain, data[i], out);
  out.end_array();
}

void PayloadDecoder::write_payload(const void* domain, const nvtxPayloadData_t& data, JsonWriter& out) const {
  const auto* base = static_cast<const unsigned char*>(data.payload);
  if (base == nullptr) {
    out.null();
    return;
  }
  const Region region{base, data.size};
  if (!is_registered_type_id(data.schemaId)) {
    // A predefined type as the whole payload: one value, or an array of them.
    size_t size = 0, align = 1;
    if (!type_size(domain, data.schemaId, &size, &align) || data.size < size) {
      out.null();
      return;
    }
    if (data.size == size)
      write_scalar(domain, data.schemaId, base, 0, out);
    else
      write_array(domain, data.schemaId, base, data.size / size, size, 0, out);
    return;
  }
  const RegisteredType* t = registry_.find(domain, data.schemaId);
  if (t == nullptr) {
    out.null();
  } else if (t->is_enum) {
    write_scalar(domain, data.schemaId, data.size >= t->enumeration.size ? base : nullptr, 0, out);
  } else {
    write_schema(domain, t->schema, region, 0, out);
  }
}

void PayloadDecoder::write_schema(const void* domain, const PayloadSchema& schema, Region region, int depth,
                                  JsonWriter& out) const {
  if (depth > kMaxDepth || (schema.type != NVTX_PAYLOAD_SCHEMA_TYPE_STATIC &&
                            schema.type != NVTX_PAYLOAD_SCHEMA_TYPE_DYNAMIC)) {
    out.null();  // unions are not decoded
    return;
  }
  const bool dynamic = schema.type == NVTX_PAYLOAD_SCHEMA_TYPE_DYNAMIC;
  out.begin_object();
  size_t cursor = 0;
  for (size_t i = 0; i < schema.entries.size(); ++i) {
    const SchemaEntry& e = schema.entries[i];
    size_t at = e.offset;
    if (dynamic) {
      // Dynamic payloads pack entries one after the other (inline arrays take their length).
      size_t size = 0, align = 1;
      if (e.flags & NVTX_PAYLOAD_ENTRY_FLAG_POINTER)
        align = alignof(void*);
      else
        type_size(domain, e.type, &size, &align);
      at = align_up(cursor, align);
    }
    if (e.flags & NVTX_PAYLOAD_ENTRY_FLAG_HIDE) {
      if (dynamic) {
        JsonWriter sink(nullptr, 0);
        const size_t used = write_entry(domain, schema, e, region, at, depth, sink);
        if (used == kUnbounded) break;
        cursor = at + used;
      }
      continue;
    }
    if (e.name.empty()) {
      char key[24];
      const int n = std::snprintf(key, sizeof key, "entry%zu", i);
      out.key({key, static_cast<size_t>(n)});
    } else {
      out.key(e.name);
    }
    const size_t used = write_entry(domain, schema, e, region, at, depth, out);
    if (used == kUnbounded) {
      if (dynamic) break;  // the rest cannot be located
      continue;
    }
    cursor = at + used;
  }
  out.end_object();
}

size_t PayloadDecoder::write_entry(const void* domain, const PayloadSchema& schema, const SchemaEntry& e,
                                   Region region, size_t at, int depth, JsonWriter& out) const {
  const bool pointer = (e.flags & NVTX_PAYLOAD_ENTRY_FLAG_POINTER) != 0;
  const uint64_t array = NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_TYPE(e.flags);
  size_t element = 0, align = 1;
  const bool known = type_size(domain, e.type, &element, &align);
  const bool c_string = e.type == NVTX_PAYLOAD_ENTRY_TYPE_CSTRING || e.type == NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF8 ||
                        e.type == NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF16 ||
                        e.type == NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF32;
  auto fits = [&](size_t bytes) { return at <= region.size && bytes <= region.size - at; };

  // Where the data is: inline at `at`, or behind a pointer stored there.
  const unsigned char* data = nullptr;
  size_t available = 0;
  size_t inline_bytes = 0;
  if (pointer) {
    if (!fits(sizeof(void*))) {
      out.null();
      return kUnbounded;
    }
    data = load<const unsigned char*>(region.base + at);
    available = kUnbounded;
    inline_bytes = sizeof(void*);
    if (data == nullptr) {
      out.null();
      return inline_bytes;
    }
  } else {
    data = region.base + at;
    available = at <= region.size ? region.size - at : 0;
  }
  if (!known || element == 0) {
    out.null();
    return pointer ? inline_bytes : kUnbounded;
  }

  size_t count = 1;
  bool is_array = true;
  switch (array) {
    case NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE: count = e.array_detail; break;
    case NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_LENGTH_INDEX: {
      // The length is another entry of this payload, laid out before this one.
      count = 0;
      if (e.array_detail < schema.entries.size()) {
        const SchemaEntry& length = schema.entries[e.array_detail];
        size_t lsize = 0, lalign = 1;
        uint64_t value = 0;
        if (!(length.flags & NVTX_PAYLOAD_ENTRY_FLAG_POINTER) && type_size(domain, length.type, &lsize, &lalign) &&
            length.offset <= region.size && lsize <= region.size - length.offset &&
            read_integer(length.type, region.base + length.offset, nullptr, &value))
          count = static_cast<size_t>(value);
      }
      break;
    }
    case NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_ZERO_TERMINATED: {
      count = 0;
      const size_t limit = std::min(available / element, kMaxElements);
      while (count < limit && !zero_element(data + count * element, element)) ++count;
      if (!pointer) inline_bytes = std::min(available, (count + 1) * element);
      break;
    }
    case 0: is_array = false; break;
    default:
      out.null();  // lengths taken from another payload are not followed
      return pointer ? inline_bytes : kUnbounded;
  }

  if (c_string && !is_array) {
    // A C string entry holds the pointer itself.
    const unsigned char* text = nullptr;
    if (pointer) {
      text = data;  // a pointer to the pointer was asked for: one more level
      text = load<const unsigned char*>(text);
    } else if (fits(sizeof(void*))) {
      text = load<const unsigned char*>(data);
      inline_bytes = sizeof(void*);
    } else {
      out.null();
      return kUnbounded;
    }
    if (text == nullptr) {
      out.null();
    } else if (e.type == NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF16) {
      char buffer[kMaxTextBytes];
      out.string(utf8_of_utf16(reinterpret_cast<const char16_t*>(text), kMaxTextBytes, buffer, sizeof buffer));
    } else if (e.type == NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF32) {
      write_characters(NVTX_PAYLOAD_ENTRY_TYPE_CHAR32, text, kMaxTextBytes, out);
    } else {
      write_characters(NVTX_PAYLOAD_ENTRY_TYPE_CHAR, text, kMaxTextBytes, out);
    }
    return inline_bytes;
  }

  const size_t bytes = count > available / element ? kUnbounded : count * element;
  if (bytes == kUnbounded) {
    out.null();  // claims more than the payload holds
    return pointer ? inline_bytes : kUnbounded;
  }
  if (!pointer && array != NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_ZERO_TERMINATED) inline_bytes = bytes;
  if (!is_array)
    write_scalar(domain, e.type, data, depth, out);
  else if (is_character(e.type))
    write_characters(e.type, data, count, out);
  else
    write_array(domain, e.type, data, count, element, depth, out);
  return inline_bytes;
}

void PayloadDecoder::write_array(const void* domain, uint64_t type, const unsigned char* p, size_t count,
                                 size_t element_size, int depth, JsonWriter& out) const {
  out.begin_array();
  for (size_t i = 0; i < count && i < kMaxElements && !out.overflowed(); ++i)
    write_scalar(domain, type, p + i * element_size, depth, out);
  out.end_array();
}

void PayloadDecoder::write_scalar(const void* domain, uint64_t type, const unsigned char* p, int depth,
                                  JsonWriter& out) const {
  if (p == nullptr) {
    out.null();
    return;
  }
  int64_t s = 0;
  uint64_t u = 0;
  if (is_registered_type_id(type)) {
    const RegisteredType* t = registry_.find(domain, type);
    if (t == nullptr) {
      out.null();
    } else if (!t->is_enum) {
      write_schema(domain, t->schema, Region{p, t->schema.static_size}, depth + 1, out);
    } else {
      uint64_t value = 0;
      switch (t->enumeration.size) {
        case 1: value = load<uint8_t>(p); break;
        case 2: value = load<uint16_t>(p); break;
        case 4: value = load<uint32_t>(p); break;
        default: value = load<uint64_t>(p); break;
      }
      for (const EnumValue& v : t->enumeration.values) {
        if (!v.is_flag && v.value == value) {
          out.string(v.name);
          return;
        }
      }
      out.unsigned_number(value);
    }
    return;
  }
  if (is_signed_integer(type) && read_integer(type, p, &s, nullptr)) {
    out.signed_number(s);
    return;
  }
  if (is_unsigned_integer(type) && read_integer(type, p, nullptr, &u)) {
    out.unsigned_number(u);
    return;
  }
  switch (type) {
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT:
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_TF32: out.real(load<float>(p)); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_DOUBLE:
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT64: out.real(load<double>(p)); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_LONGDOUBLE: out.real(static_cast<double>(load<long double>(p))); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT16: out.real(half_to_double(load<uint16_t>(p))); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_BF16: {
      const uint32_t bits = static_cast<uint32_t>(load<uint16_t>(p)) << 16;
      float f;
      std::memcpy(&f, &bits, sizeof f);
      out.real(f);
      return;
    }
    case NVTX_PAYLOAD_ENTRY_TYPE_WCHAR:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR8:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR16:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR32: write_characters(type, p, 1, out); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_ADDRESS: write_hex(p, sizeof(void*), out); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_INT128:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT128: write_hex(p, 16, out); return;
    case NVTX_PAYLOAD_ENTRY_TYPE_NVTX_REGISTERED_STRING_HANDLE: {
      const auto* s = load<const RegisteredString*>(p);
      if (s == nullptr)
        out.null();
      else
        out.string(s->text);
      return;
    }
    case NVTX_PAYLOAD_ENTRY_TYPE_CSTRING:
    case NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF8: {
      const auto* text = load<const unsigned char*>(p);
      if (text == nullptr)
        out.null();
      else
        write_characters(NVTX_PAYLOAD_ENTRY_TYPE_CHAR, text, kMaxTextBytes, out);
      return;
    }
    default: out.null(); return;
  }
}

std::optional<uint64_t> PayloadDecoder::integer_entry(const void* domain, const nvtxPayloadData_t& data,
                                                      std::string_view name) const {
  if (data.payload == nullptr || !is_registered_type_id(data.schemaId)) return std::nullopt;
  const RegisteredType* t = registry_.find(domain, data.schemaId);
  if (t == nullptr || t->is_enum || t->schema.type != NVTX_PAYLOAD_SCHEMA_TYPE_STATIC) return std::nullopt;
  for (const SchemaEntry& e : t->schema.entries) {
    if (e.name != name || (e.flags & (NVTX_PAYLOAD_ENTRY_FLAG_POINTER | NVTX_PAYLOAD_ENTRY_FLAG_IS_ARRAY))) continue;
    const PredefinedType type = predefined_type(e.type);
    if (type.size == 0 || e.offset > data.size || type.size > data.size - e.offset) return std::nullopt;
    uint64_t value = 0;
    if (!read_integer(e.type, static_cast<const unsigned char*>(data.payload) + e.offset, nullptr, &value))
      return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace moeprof::nvtx
