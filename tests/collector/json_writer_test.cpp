// The JSON emitter of `moeprof info --json`: escaping per RFC 8259, invalid UTF-8 replaced,
// nesting and commas right.
#include "moeprof/cli/json_writer.h"

#include <gtest/gtest.h>

#include <limits>

namespace moeprof::cli {
namespace {

TEST(JsonQuote, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_quote(""), R"("")");
  EXPECT_EQ(json_quote("plain text"), R"("plain text")");
  EXPECT_EQ(json_quote("say \"hi\"\\now"), R"("say \"hi\"\\now")");
  EXPECT_EQ(json_quote("a\nb\tc\rd\be\ff"), R"("a\nb\tc\rd\be\ff")");
  EXPECT_EQ(json_quote(std::string("nul\0x\x01\x1f", 7)), R"("nul\u0000x\u0001\u001f")");
  EXPECT_EQ(json_quote("/slash stays"), R"("/slash stays")");
}

TEST(JsonQuote, KeepsUtf8AndReplacesBrokenBytes) {
  EXPECT_EQ(json_quote("Grüße, 東京, 🙂"), "\"Grüße, 東京, 🙂\"");
  EXPECT_EQ(json_quote("bad \xff byte"), R"("bad \ufffd byte")");
  EXPECT_EQ(json_quote("cut \xe6\x9d"), R"("cut \ufffd\ufffd")");            // truncated sequence
  EXPECT_EQ(json_quote("overlong \xc0\xaf"), R"("overlong \ufffd\ufffd")");  // overlong '/'
  EXPECT_EQ(json_quote("surrogate \xed\xa0\x80"), R"("surrogate \ufffd\ufffd\ufffd")");
  EXPECT_EQ(json_quote("too big \xf4\x90\x80\x80"), R"("too big \ufffd\ufffd\ufffd\ufffd")");
}

TEST(JsonWriter, NestsWithCommasAndIndentation) {
  JsonWriter json;
  json.begin_object();
  json.key("name").value("x");
  json.key("n").value(-3);
  json.key("big").value(std::numeric_limits<uint64_t>::max());
  json.key("ok").value(true);
  json.key("ratio").value(0.5);
  json.key("nan").value(std::numeric_limits<double>::quiet_NaN());
  json.key("none").null();
  json.key("list").begin_array().value(1).value(2).begin_object().key("k").value("v").end_object().end_array();
  json.key("empty").begin_array().end_array();
  json.key("nothing").begin_object().end_object();
  json.end_object();
  EXPECT_EQ(json.str(),
            "{\n"
            "  \"name\": \"x\",\n"
            "  \"n\": -3,\n"
            "  \"big\": 18446744073709551615,\n"
            "  \"ok\": true,\n"
            "  \"ratio\": 0.5,\n"
            "  \"nan\": null,\n"
            "  \"none\": null,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    2,\n"
            "    {\n"
            "      \"k\": \"v\"\n"
            "    }\n"
            "  ],\n"
            "  \"empty\": [],\n"
            "  \"nothing\": {}\n"
            "}\n");
}

}  // namespace
}  // namespace moeprof::cli
