// The embedded schema is the file in schemas/, byte for byte, and declares its version.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string_view>

namespace moeprof::schemas {
extern const std::string_view kTraceSql;
}

TEST(EmbeddedSchema, IsTraceSqlVerbatim) {
  std::ifstream in(MOEPROF_TRACE_SQL_PATH, std::ios::binary);
  ASSERT_TRUE(in) << MOEPROF_TRACE_SQL_PATH;
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_EQ(moeprof::schemas::kTraceSql, file.str());
  EXPECT_NE(moeprof::schemas::kTraceSql.find("PRAGMA user_version = 4;"), std::string_view::npos);
}
