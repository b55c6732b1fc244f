// The schema version comes from the embedded trace.sql itself, so there is one source of truth.
#include <charconv>
#include <string_view>

#include "moeprof/store/reader.h"

namespace moeprof::schemas {
extern const std::string_view kTraceSql;
}

namespace moeprof::store {
namespace {

int parse_user_version(std::string_view sql) {
  constexpr std::string_view kPragma = "PRAGMA user_version = ";
  const size_t at = sql.find(kPragma);
  if (at == std::string_view::npos) return 0;
  const char* first = sql.data() + at + kPragma.size();
  int version = 0;
  std::from_chars(first, sql.data() + sql.size(), version);
  return version;
}

}  // namespace

int schema_version() {
  static const int version = parse_user_version(schemas::kTraceSql);
  return version;
}

std::string_view schema_sql() { return schemas::kTraceSql; }

}  // namespace moeprof::store
