// Schema registration and binary payloads decoded to JSON, read back with a JSON parser and
// compared with the values the test put into the payload.
#include "payload_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

#include "domains.h"

namespace moeprof::nvtx {
namespace {

using nlohmann::json;

class PayloadTest : public ::testing::Test {
 protected:
  DomainTable domains;
  SchemaRegistry registry;
  PayloadDecoder decoder{registry};
  const Domain* domain = domains.create("d");

  uint64_t schema(const nvtxPayloadSchemaEntry_t* entries, size_t n, uint64_t type = NVTX_PAYLOAD_SCHEMA_TYPE_STATIC,
                  size_t static_size = 0, uint64_t id = 0) {
    nvtxPayloadSchemaAttr_t attr{};
    attr.fieldMask = NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_TYPE | NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_ENTRIES |
                     NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_NUM_ENTRIES;
    attr.type = type;
    attr.entries = entries;
    attr.numEntries = n;
    if (static_size) {
      attr.fieldMask |= NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_STATIC_SIZE;
      attr.payloadStaticSize = static_size;
    }
    if (id) {
      attr.fieldMask |= NVTX_PAYLOAD_SCHEMA_ATTR_FIELD_SCHEMA_ID;
      attr.schemaId = id;
    }
    return registry.register_schema(domain, &attr);
  }

  json decode(uint64_t id, const void* payload, size_t size) {
    const nvtxPayloadData_t data{id, size, payload};
    char buffer[4096];
    JsonWriter out(buffer, sizeof buffer);
    decoder.write(domain, &data, 1, out);
    EXPECT_FALSE(out.overflowed());
    return json::parse(std::string(out.text()));
  }
};

nvtxPayloadSchemaEntry_t entry(uint64_t type, const char* name, uint64_t offset, uint64_t flags = 0,
                               uint64_t detail = 0) {
  return nvtxPayloadSchemaEntry_t{flags, type, name, nullptr, detail, offset, nullptr, nullptr};
}

struct Mixed {
  int8_t i8;
  uint16_t u16;
  int32_t i32;
  uint64_t u64;
  float f;
  double d;
  char text[6];
  size_t size;
};

TEST_F(PayloadTest, StaticSchemaEntriesDecodeToTheirValues) {
  const nvtxPayloadSchemaEntry_t e[] = {
      entry(NVTX_PAYLOAD_ENTRY_TYPE_INT8, "i8", offsetof(Mixed, i8)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT16, "u16", offsetof(Mixed, u16)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_INT32, "i32", offsetof(Mixed, i32)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "u64", offsetof(Mixed, u64)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_FLOAT, "f", offsetof(Mixed, f)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_DOUBLE, "d", offsetof(Mixed, d)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_CHAR, "text", offsetof(Mixed, text), NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE, 6),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_SIZE, "size", offsetof(Mixed, size)),
  };
  const uint64_t id = schema(e, std::size(e));
  ASSERT_GE(id, NVTX_PAYLOAD_SCHEMA_ID_DYNAMIC_START);  // we handed out its id
  const Mixed m{-5, 65535, -70000, 1ull << 63, 0.25f, -1e300, {'h', 'e', 'l', 'l', 'o', 0}, 12345};
  const json j = decode(id, &m, sizeof m);
  EXPECT_EQ(j["i8"], m.i8);
  EXPECT_EQ(j["u16"], m.u16);
  EXPECT_EQ(j["i32"], m.i32);
  EXPECT_EQ(j["u64"].get<uint64_t>(), m.u64);
  EXPECT_EQ(j["f"].get<double>(), m.f);
  EXPECT_EQ(j["d"].get<double>(), m.d);
  EXPECT_EQ(j["text"], "hello");
  EXPECT_EQ(j["size"], m.size);
  // The same entries whose offsets the program left at 0: laid out as a C compiler would.
  nvtxPayloadSchemaEntry_t zero[std::size(e)];
  for (size_t i = 0; i < std::size(e); ++i) {
    zero[i] = e[i];
    zero[i].offset = 0;
  }
  EXPECT_EQ(decode(schema(zero, std::size(zero)), &m, sizeof m), j);
}

struct WithArrays {
  uint32_t count;
  const int32_t* values;
  const char* label;
  const void* handle;
  uint64_t fixed[2];
};

TEST_F(PayloadTest, PointersArraysStringsAndRegisteredStrings) {
  const nvtxPayloadSchemaEntry_t e[] = {
      entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "count", offsetof(WithArrays, count)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_INT32, "values", offsetof(WithArrays, values),
            NVTX_PAYLOAD_ENTRY_FLAG_POINTER | NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_LENGTH_INDEX, 0),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_CSTRING, "label", offsetof(WithArrays, label)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_NVTX_REGISTERED_STRING_HANDLE, "handle", offsetof(WithArrays, handle)),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "fixed", offsetof(WithArrays, fixed),
            NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_FIXED_SIZE, 2),
  };
  const uint64_t id = schema(e, std::size(e));
  const int32_t values[3] = {-1, 0, 7};
  const RegisteredString* handle = domains.register_string(domain, "registered");
  const WithArrays w{3, values, "a \"label\"", handle, {11, 12}};
  const json j = decode(id, &w, sizeof w);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["values"], json::array({-1, 0, 7}));
  EXPECT_EQ(j["label"], "a \"label\"");
  EXPECT_EQ(j["handle"], "registered");
  EXPECT_EQ(j["fixed"], json::array({11, 12}));
  WithArrays nulls{0, nullptr, nullptr, nullptr, {0, 0}};
  const json n = decode(id, &nulls, sizeof nulls);
  EXPECT_TRUE(n["values"].is_null());
  EXPECT_TRUE(n["label"].is_null());
  EXPECT_TRUE(n["handle"].is_null());
}

struct Inner {
  int16_t a;
  int16_t b;
};
struct Outer {
  uint8_t kind;
  Inner inner;
  uint32_t state;
};

TEST_F(PayloadTest, NestedSchemasAndEnums) {
  const nvtxPayloadSchemaEntry_t inner[] = {entry(NVTX_PAYLOAD_ENTRY_TYPE_INT16, "a", 0),
                                            entry(NVTX_PAYLOAD_ENTRY_TYPE_INT16, "b", 2)};
  const uint64_t inner_id = schema(inner, 2, NVTX_PAYLOAD_SCHEMA_TYPE_STATIC, sizeof(Inner),
                                   NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 1);
  ASSERT_EQ(inner_id, NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 1);
  const nvtxPayloadEnum_t states[] = {{"idle", 0, 0}, {"busy", 2, 0}};
  nvtxPayloadEnumAttr_t attr{};
  attr.fieldMask = NVTX_PAYLOAD_ENUM_ATTR_FIELD_ENTRIES | NVTX_PAYLOAD_ENUM_ATTR_FIELD_NUM_ENTRIES |
                   NVTX_PAYLOAD_ENUM_ATTR_FIELD_SIZE;
  attr.entries = states;
  attr.numEntries = 2;
  attr.sizeOfEnum = 4;
  const uint64_t enum_id = registry.register_enum(domain, &attr);
  ASSERT_NE(enum_id, 0u);
  const nvtxPayloadSchemaEntry_t outer[] = {entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT8, "kind", offsetof(Outer, kind)),
                                            entry(inner_id, "inner", offsetof(Outer, inner)),
                                            entry(enum_id, "state", offsetof(Outer, state))};
  const uint64_t id = schema(outer, 3);
  Outer o{9, {-3, 4}, 2};
  json j = decode(id, &o, sizeof o);
  EXPECT_EQ(j["kind"], 9);
  EXPECT_EQ(j["inner"], (json{{"a", -3}, {"b", 4}}));
  EXPECT_EQ(j["state"], "busy");
  o.state = 5;  // no name: the number
  EXPECT_EQ(decode(id, &o, sizeof o)["state"], 5);
}

TEST_F(PayloadTest, ShortPayloadsUnknownSchemasAndPredefinedTypes) {
  const nvtxPayloadSchemaEntry_t e[] = {entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "first", 0),
                                        entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT32, "second", 4)};
  const uint64_t id = schema(e, 2);
  const uint32_t both[2] = {1, 2};
  const json j = decode(id, both, 4);  // only the first entry is inside the payload
  EXPECT_EQ(j["first"], 1);
  EXPECT_TRUE(j["second"].is_null());
  EXPECT_TRUE(decode(NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 999, both, sizeof both).is_null());
  EXPECT_EQ(decode(NVTX_PAYLOAD_ENTRY_TYPE_UINT32, both, 4), 1);
  EXPECT_EQ(decode(NVTX_PAYLOAD_ENTRY_TYPE_UINT32, both, 8), json::array({1, 2}));
  // Several payloads: an array of them.
  const nvtxPayloadData_t two[2] = {{NVTX_PAYLOAD_ENTRY_TYPE_UINT32, 4, &both[0]}, {id, sizeof both, both}};
  char buffer[256];
  JsonWriter out(buffer, sizeof buffer);
  decoder.write(domain, two, 2, out);
  EXPECT_EQ(json::parse(std::string(out.text())), (json::array({1, json{{"first", 1}, {"second", 2}}})));
}

TEST_F(PayloadTest, DynamicSchemasPackEntriesOneAfterAnother) {
  // uint16 n, then n inline uint8 values, then a zero-terminated string.
  const nvtxPayloadSchemaEntry_t e[] = {
      entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT16, "n", 0),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT8, "bytes", 0, NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_LENGTH_INDEX, 0),
      entry(NVTX_PAYLOAD_ENTRY_TYPE_CHAR, "name", 0, NVTX_PAYLOAD_ENTRY_FLAG_ARRAY_ZERO_TERMINATED),
  };
  const uint64_t id = schema(e, 3, NVTX_PAYLOAD_SCHEMA_TYPE_DYNAMIC);
  const unsigned char data[] = {3, 0, 7, 8, 9, 'a', 'b', 0};
  const json j = decode(id, data, sizeof data);
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["bytes"], json::array({7, 8, 9}));
  EXPECT_EQ(j["name"], "ab");
}

TEST_F(PayloadTest, RegistrationRulesAndIntegerEntries) {
  const nvtxPayloadSchemaEntry_t e[] = {entry(NVTX_PAYLOAD_ENTRY_TYPE_UINT64, "comm", 0),
                                        entry(NVTX_PAYLOAD_ENTRY_TYPE_INT, "ranks", 8)};
  const uint64_t fixed = NVTX_PAYLOAD_SCHEMA_ID_STATIC_START + 5;
  EXPECT_EQ(schema(e, 2, NVTX_PAYLOAD_SCHEMA_TYPE_STATIC, 16, fixed), fixed);
  const nvtxPayloadSchemaEntry_t other[] = {entry(NVTX_PAYLOAD_ENTRY_TYPE_INT8, "x", 0)};
  EXPECT_EQ(schema(other, 1, NVTX_PAYLOAD_SCHEMA_TYPE_STATIC, 1, fixed), fixed);  // the first stays
  EXPECT_EQ(registry.find(domain, fixed)->schema.entries.size(), 2u);
  EXPECT_EQ(schema(e, 2, NVTX_PAYLOAD_SCHEMA_TYPE_STATIC, 16, 42), 0u);  // below the static range
  EXPECT_EQ(schema(e, 0), 0u);
  EXPECT_EQ(registry.register_schema(domain, nullptr), 0u);
  EXPECT_EQ(registry.find(domains.create("elsewhere"), fixed), nullptr);  // ids are per domain
  const uint64_t a = schema(e, 2), b = schema(e, 2);
  EXPECT_NE(a, b);

  struct {
    uint64_t comm;
    int ranks;
  } p{77, 8};
  const nvtxPayloadData_t data{fixed, sizeof p, &p};
  EXPECT_EQ(decoder.integer_entry(domain, data, "comm"), 77u);
  EXPECT_EQ(decoder.integer_entry(domain, data, "ranks"), 8u);
  EXPECT_EQ(decoder.integer_entry(domain, data, "missing"), std::nullopt);
  const nvtxPayloadData_t cut{fixed, 8, &p};
  EXPECT_EQ(decoder.integer_entry(domain, cut, "ranks"), std::nullopt);
}

}  // namespace
}  // namespace moeprof::nvtx
