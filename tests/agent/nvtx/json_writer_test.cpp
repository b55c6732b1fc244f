// The bounded JSON writer and wide-string conversion the payload decoder writes with.
#include "json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "wide_text.h"

namespace moeprof::nvtx {
namespace {

TEST(JsonWriter, WritesNestedDocumentsAJsonParserReadsBack) {
  char buffer[256];
  JsonWriter w(buffer, sizeof buffer);
  w.begin_object();
  w.key("a");
  w.signed_number(-12);
  w.key("b \"quoted\"");
  w.begin_array();
  w.unsigned_number(18446744073709551615ull);
  w.real(0.1);
  w.real(NAN);
  w.boolean(true);
  w.null();
  w.string("tab\there\x01");
  w.begin_object();
  w.end_object();
  w.end_array();
  w.end_object();
  ASSERT_FALSE(w.overflowed());
  const nlohmann::json j = nlohmann::json::parse(std::string(w.text()));
  EXPECT_EQ(j["a"], -12);
  const auto& b = j["b \"quoted\""];
  ASSERT_EQ(b.size(), 7u);
  EXPECT_EQ(b[0].get<uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(b[1].get<double>(), 0.1);
  EXPECT_TRUE(b[2].is_null());
  EXPECT_EQ(b[3], true);
  EXPECT_TRUE(b[4].is_null());
  EXPECT_EQ(b[5], "tab\there\x01");
  EXPECT_TRUE(b[6].is_object());
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  char buffer[64];
  JsonWriter w(buffer, sizeof buffer);
  w.string("ok \xc3\xbc bad \xff \xc3");
  const nlohmann::json j = nlohmann::json::parse(std::string(w.text()));
  EXPECT_EQ(j.get<std::string>(), "ok \xc3\xbc bad \xef\xbf\xbd \xef\xbf\xbd");
}

TEST(JsonWriter, OverflowGivesNothingRatherThanACutDocument) {
  char buffer[8];
  JsonWriter w(buffer, sizeof buffer);
  w.string("longer than eight");
  EXPECT_TRUE(w.overflowed());
  EXPECT_TRUE(w.text().empty());
  EXPECT_EQ(w.size(), 0u);
  JsonWriter exact(buffer, sizeof buffer);
  exact.string("12345");  // 7 bytes + NUL
  EXPECT_EQ(exact.text(), "\"12345\"");
}

TEST(WideText, ConvertsUtf32AndUtf16AndCutsAtCharacterBoundaries) {
  char buffer[16];
  EXPECT_EQ(utf8_of_wide(L"a\u00fc\u20ac\U0001F600", buffer, sizeof buffer), "a\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(utf8_of_wide(L"\u20ac\u20ac\u20ac", buffer, 8), "\xe2\x82\xac\xe2\x82\xac");  // a third does not fit
  EXPECT_EQ(utf8_of_wide(nullptr, buffer, sizeof buffer), "");
  const char16_t pair[] = {0xD83D, 0xDE00, 'x', 0};
  EXPECT_EQ(utf8_of_utf16(pair, 16, buffer, sizeof buffer), "\xf0\x9f\x98\x80x");
  const char16_t lone[] = {0xD83D, 'y', 0};
  EXPECT_EQ(utf8_of_utf16(lone, 16, buffer, sizeof buffer), "\xef\xbf\xbdy");
}

}  // namespace
}  // namespace moeprof::nvtx
