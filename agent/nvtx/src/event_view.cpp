#include "event_view.h"

#include <cstring>

#include "domains.h"
#include "wide_text.h"

namespace moeprof::nvtx {
namespace {

// Whether the attributes' stated size covers `field` (an older, shorter struct does not).
template <typename Field>
bool covers(const nvtxEventAttributes_t* a, const Field& field) {
  const size_t end = static_cast<size_t>(reinterpret_cast<const char*>(&field) - reinterpret_cast<const char*>(a)) +
                     sizeof field;
  return a->size >= end;
}

}  // namespace

EventView view_of_ascii(const char* message) noexcept {
  EventView v;
  if (message != nullptr) v.name = message;
  return v;
}

EventView view_of_wide(const wchar_t* message, char* scratch, size_t scratch_size) noexcept {
  EventView v;
  v.name = utf8_of_wide(message, scratch, scratch_size);
  return v;
}

EventView view_of(const nvtxEventAttributes_t* a, char* scratch, size_t scratch_size) noexcept {
  EventView v;
  if (a == nullptr || a->version < 1) return v;
  if (covers(a, a->category)) v.category = a->category;
  if (covers(a, a->color) && a->colorType == NVTX_COLOR_ARGB) v.color = a->color;
  if (covers(a, a->payload)) {
    if (a->payloadType == NVTX_PAYLOAD_TYPE_EXT) {
      // The payload extension: payload.ullValue points at reserved0 nvtxPayloadData_t's.
      v.payloads = reinterpret_cast<const nvtxPayloadData_t*>(static_cast<uintptr_t>(a->payload.ullValue));
      v.payload_count = a->reserved0 > 0 && v.payloads != nullptr ? static_cast<size_t>(a->reserved0) : 0;
      if (v.payload_count == 0) v.payloads = nullptr;
    } else if (a->payloadType >= NVTX_PAYLOAD_TYPE_UNSIGNED_INT64 && a->payloadType <= NVTX_PAYLOAD_TYPE_FLOAT) {
      v.scalar.type = a->payloadType;
      std::memcpy(&v.scalar.bits, &a->payload, sizeof v.scalar.bits);
    }
  }
  if (covers(a, a->message)) {
    switch (a->messageType) {
      case NVTX_MESSAGE_TYPE_ASCII:
        if (a->message.ascii != nullptr) v.name = a->message.ascii;
        break;
      case NVTX_MESSAGE_TYPE_UNICODE: v.name = utf8_of_wide(a->message.unicode, scratch, scratch_size); break;
      case NVTX_MESSAGE_TYPE_REGISTERED:
        if (a->message.registered != nullptr) {
          const auto* s = reinterpret_cast<const RegisteredString*>(a->message.registered);
          v.name = s->text;
          v.name_is_registered = true;
        }
        break;
      default: break;
    }
  }
  return v;
}

}  // namespace moeprof::nvtx
