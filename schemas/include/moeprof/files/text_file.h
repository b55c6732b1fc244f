// Writing the files moeprof produces (placement files, ground truth) so that a reader never
// sees half of one: the text goes to a temporary file beside `path`, which is then renamed.
#pragma once

#include <string>
#include <string_view>

namespace moeprof::files {

// false and a one-line `error` naming the file when it cannot be written; nothing is left
// behind then.
bool write_text_file_atomically(const std::string& path, std::string_view text, std::string* error);

}  // namespace moeprof::files
