// Binary NVTX payloads (the payload extension: nvtxPayloadData_t, described by registered
// schemas) turned into JSON text for the trace's range.payload: a schema's payload becomes an
// object of its entries by name, arrays become arrays, char arrays and C strings become
// strings, enums their names. What cannot be decoded (an unregistered schema, a union) is
// null rather than a guess. Inline data is never read past the payload's stated size;
// pointers in payloads are followed as the program promises they are valid during the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "json_writer.h"
#include "nvtx_api.h"
#include "schema_registry.h"

namespace moeprof::nvtx {

class PayloadDecoder {
 public:
  explicit PayloadDecoder(const SchemaRegistry& registry) : registry_(registry) {}

  // One payload: its value; several: an array of them.
  void write(const void* domain, const nvtxPayloadData_t* data, size_t count, JsonWriter& out) const;

  // The integer value of the first-level entry called `name` in a payload of a static schema,
  // if it has one.
  std::optional<uint64_t> integer_entry(const void* domain, const nvtxPayloadData_t& data,
                                        std::string_view name) const;

 private:
  struct Region {
    const unsigned char* base;
    size_t size;  // bytes readable from base; SIZE_MAX behind a pointer (unknown, trusted)
  };
  void write_payload(const void* domain, const nvtxPayloadData_t& data, JsonWriter& out) const;
  void write_schema(const void* domain, const PayloadSchema& schema, Region region, int depth,
                    JsonWriter& out) const;
  // One entry's value (scalar, array or nested schema) at `at` inside `region`; returns the
  // bytes it takes inline (for dynamic layouts), or SIZE_MAX when it runs past the region.
  size_t write_entry(const void* domain, const PayloadSchema& schema, const SchemaEntry& entry, Region region,
                     size_t at, int depth, JsonWriter& out) const;
  void write_scalar(const void* domain, uint64_t type, const unsigned char* p, int depth, JsonWriter& out) const;
  void write_array(const void* domain, uint64_t type, const unsigned char* p, size_t count, size_t element_size,
                   int depth, JsonWriter& out) const;
  bool type_size(const void* domain, uint64_t type, size_t* size, size_t* align) const;

  const SchemaRegistry& registry_;
};

}  // namespace moeprof::nvtx
