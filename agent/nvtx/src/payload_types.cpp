#include "payload_types.h"

#include <cstring>

namespace moeprof::nvtx {
namespace {

template <typename T>
constexpr PredefinedType of() {
  return PredefinedType{static_cast<uint16_t>(sizeof(T)), static_cast<uint16_t>(alignof(T))};
}

template <typename T>
T load(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // payload fields need not be aligned
  return v;
}

}  // namespace

PredefinedType predefined_type(uint64_t type) noexcept {
  switch (type) {
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR: return of<char>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UCHAR: return of<unsigned char>();
    case NVTX_PAYLOAD_ENTRY_TYPE_SHORT: return of<short>();
    case NVTX_PAYLOAD_ENTRY_TYPE_USHORT: return of<unsigned short>();
    case NVTX_PAYLOAD_ENTRY_TYPE_INT: return of<int>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT: return of<unsigned int>();
    case NVTX_PAYLOAD_ENTRY_TYPE_LONG: return of<long>();
    case NVTX_PAYLOAD_ENTRY_TYPE_ULONG: return of<unsigned long>();
    case NVTX_PAYLOAD_ENTRY_TYPE_LONGLONG: return of<long long>();
    case NVTX_PAYLOAD_ENTRY_TYPE_ULONGLONG: return of<unsigned long long>();
    case NVTX_PAYLOAD_ENTRY_TYPE_INT8: return of<int8_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT8: return of<uint8_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_INT16: return of<int16_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT16: return of<uint16_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_INT32: return of<int32_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT32: return of<uint32_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_INT64: return of<int64_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT64: return of<uint64_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT: return of<float>();
    case NVTX_PAYLOAD_ENTRY_TYPE_DOUBLE: return of<double>();
    case NVTX_PAYLOAD_ENTRY_TYPE_LONGDOUBLE: return of<long double>();
    case NVTX_PAYLOAD_ENTRY_TYPE_SIZE: return of<size_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_ADDRESS: return of<void*>();
    case NVTX_PAYLOAD_ENTRY_TYPE_WCHAR: return of<wchar_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR8: return of<unsigned char>();
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR16: return of<char16_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR32: return of<char32_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_BYTE: return of<uint8_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_INT128:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT128: return of<__int128>();
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT16:
    case NVTX_PAYLOAD_ENTRY_TYPE_BF16: return of<uint16_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_TF32: return of<float>();
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT64: return of<double>();
    case NVTX_PAYLOAD_ENTRY_TYPE_FLOAT128: return of<__int128>();
    case NVTX_PAYLOAD_ENTRY_TYPE_CATEGORY:
    case NVTX_PAYLOAD_ENTRY_TYPE_COLOR_ARGB:
    case NVTX_PAYLOAD_ENTRY_TYPE_PID_UINT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_TID_UINT32: return of<uint32_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_SCOPE_ID:
    case NVTX_PAYLOAD_ENTRY_TYPE_PID_UINT64:
    case NVTX_PAYLOAD_ENTRY_TYPE_TID_UINT64: return of<uint64_t>();
    case NVTX_PAYLOAD_ENTRY_TYPE_CSTRING:
    case NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF8:
    case NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF16:
    case NVTX_PAYLOAD_ENTRY_TYPE_CSTRING_UTF32:
    case NVTX_PAYLOAD_ENTRY_TYPE_NVTX_REGISTERED_STRING_HANDLE: return of<void*>();
    case NVTX_PAYLOAD_ENTRY_TYPE_UNION_SELECTOR: return of<uint64_t>();
    default: return {};
  }
}

bool is_signed_integer(uint64_t type) noexcept {
  switch (type) {
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR:
    case NVTX_PAYLOAD_ENTRY_TYPE_SHORT:
    case NVTX_PAYLOAD_ENTRY_TYPE_INT:
    case NVTX_PAYLOAD_ENTRY_TYPE_LONG:
    case NVTX_PAYLOAD_ENTRY_TYPE_LONGLONG:
    case NVTX_PAYLOAD_ENTRY_TYPE_INT8:
    case NVTX_PAYLOAD_ENTRY_TYPE_INT16:
    case NVTX_PAYLOAD_ENTRY_TYPE_INT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_INT64: return true;
    default: return false;
  }
}

bool is_unsigned_integer(uint64_t type) noexcept {
  switch (type) {
    case NVTX_PAYLOAD_ENTRY_TYPE_UCHAR:
    case NVTX_PAYLOAD_ENTRY_TYPE_USHORT:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT:
    case NVTX_PAYLOAD_ENTRY_TYPE_ULONG:
    case NVTX_PAYLOAD_ENTRY_TYPE_ULONGLONG:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT8:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT16:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_UINT64:
    case NVTX_PAYLOAD_ENTRY_TYPE_SIZE:
    case NVTX_PAYLOAD_ENTRY_TYPE_BYTE:
    case NVTX_PAYLOAD_ENTRY_TYPE_CATEGORY:
    case NVTX_PAYLOAD_ENTRY_TYPE_COLOR_ARGB:
    case NVTX_PAYLOAD_ENTRY_TYPE_PID_UINT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_TID_UINT32:
    case NVTX_PAYLOAD_ENTRY_TYPE_SCOPE_ID:
    case NVTX_PAYLOAD_ENTRY_TYPE_PID_UINT64:
    case NVTX_PAYLOAD_ENTRY_TYPE_TID_UINT64:
    case NVTX_PAYLOAD_ENTRY_TYPE_UNION_SELECTOR: return true;
    default: return false;
  }
}

bool is_character(uint64_t type) noexcept {
  switch (type) {
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR8:
    case NVTX_PAYLOAD_ENTRY_TYPE_WCHAR:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR16:
    case NVTX_PAYLOAD_ENTRY_TYPE_CHAR32: return true;
    default: return false;
  }
}

bool read_integer(uint64_t type, const void* p, int64_t* as_signed, uint64_t* as_unsigned) noexcept {
  const PredefinedType t = predefined_type(type);
  const bool is_signed = is_signed_integer(type);
  if (!is_signed && !is_unsigned_integer(type)) return false;
  int64_t s = 0;
  uint64_t u = 0;
  switch (t.size) {
    case 1:
      s = load<int8_t>(p);
      u = load<uint8_t>(p);
      break;
    case 2:
      s = load<int16_t>(p);
      u = load<uint16_t>(p);
      break;
    case 4:
      s = load<int32_t>(p);
      u = load<uint32_t>(p);
      break;
    case 8:
      s = load<int64_t>(p);
      u = load<uint64_t>(p);
      break;
    default: return false;
  }
  // A signed type's value as unsigned (and the reverse) keeps the same bits of the full width.
  if (as_signed != nullptr) *as_signed = is_signed ? s : static_cast<int64_t>(u);
  if (as_unsigned != nullptr) *as_unsigned = is_signed ? static_cast<uint64_t>(s) : u;
  return true;
}

}  // namespace moeprof::nvtx
