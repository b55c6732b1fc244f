// Placement files: the documented example, round trips through the writer, and one precise
// line for every way a file can be wrong.
#include "moeprof/placement/placement_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace moeprof::placement {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A JSON placement with `layers` as given (JSON text of the array) and optional extra keys.
std::string file_with(const std::string& layers, const std::string& extra = "", int experts = 4, int ranks = 2) {
  return R"({"format": "moeprof-placement", "version": 1, "num_experts": )" + std::to_string(experts) +
         R"(, "num_ranks": )" + std::to_string(ranks) + R"(, "layers": )" + layers + extra + "}";
}

std::string parse_error(const std::string& text) {
  PlacementFile p;
  std::string error;
  EXPECT_FALSE(parse_placement(text, "p.json", &p, &error)) << text;
  EXPECT_EQ(error.rfind("p.json: ", 0), 0u) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  return error;
}

TEST(PlacementFile, ParsesTheDocumentedExample) {
  const std::string doc = read_text(MOEPROF_PLACEMENT_DOC);
  const size_t begin = doc.find("```json\n"), end = doc.find("```", begin + 8);
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  PlacementFile p;
  std::string error;
  ASSERT_TRUE(parse_placement(doc.substr(begin + 8, end - begin - 8), "placement.md", &p, &error)) << error;
  EXPECT_EQ(p.num_experts, 8);
  EXPECT_EQ(p.num_ranks, 2);
  ASSERT_EQ(p.layers.size(), 2u);
  EXPECT_EQ(p.layers.at(0), (ExpertRanks{{0}, {0}, {0}, {0}, {1}, {1}, {1}, {1}}));
  EXPECT_EQ(p.layers.at(3)[3], (std::vector<int32_t>{0, 1}));
  ASSERT_TRUE(p.default_layer);
  EXPECT_EQ(p.layer(1), &*p.default_layer);
  EXPECT_EQ(p.layer(3), &p.layers.at(3));
  EXPECT_TRUE(check_placement_fits(p, "placement.md", 8, 2, 61, &error)) << error;
}

TEST(PlacementFile, WriterOutputReadsBackEqual) {
  PlacementFile p;
  p.num_experts = 3;
  p.num_ranks = 4;
  p.layers[2] = {{3}, {0, 2}, {1}};
  p.layers[0] = {{0}, {1}, {2, 3, 0}};
  p.default_layer = ExpertRanks{{1}, {2}, {3}};
  const std::string dir = testing::TempDir() + "placement_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/p.json";
  std::string error;
  ASSERT_TRUE(write_placement_file(path, p, &error)) << error;
  PlacementFile back;
  ASSERT_TRUE(read_placement_file(path, &back, &error)) << error;
  EXPECT_EQ(back, p);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1) << "no temporary file left behind";
  // Without a default.
  p.default_layer.reset();
  ASSERT_TRUE(parse_placement(format_placement(p), "x", &back, &error)) << error;
  EXPECT_EQ(back, p);
  EXPECT_EQ(back.layer(1), nullptr);
  std::filesystem::remove_all(dir);
}

TEST(PlacementFile, WriterRefusesAnInvalidPlacement) {
  PlacementFile p;
  p.num_experts = 2;
  p.num_ranks = 2;
  p.layers[0] = {{0}, {2}};
  const std::string path = testing::TempDir() + "bad_" + std::to_string(::getpid()) + ".json";
  std::string error;
  EXPECT_FALSE(write_placement_file(path, p, &error));
  EXPECT_NE(error.find("layer 0: expert 1: rank 2 out of range"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(path));
  p.layers[0] = {{0}, {1}};
  EXPECT_FALSE(write_placement_file("/nonexistent-dir/p.json", p, &error));
  EXPECT_NE(error.find("cannot write"), std::string::npos) << error;
}

TEST(PlacementFile, SaysPreciselyWhatIsWrong) {
  const std::string ok_layer = R"([{"layer": 0, "experts": [[0], [0], [1], [1]]}])";
  PlacementFile p;
  std::string error;
  ASSERT_TRUE(parse_placement(file_with(ok_layer), "p.json", &p, &error)) << error;

  EXPECT_NE(parse_error("{\"format\": ").find("p.json: not JSON: parse error at line 1, column 12"), std::string::npos);
  EXPECT_EQ(parse_error("[1, 2]"), "p.json: not a placement file (the JSON is not an object)");
  EXPECT_EQ(parse_error(R"({"format": "moeprof-report", "version": 1})"),
            "p.json: not a placement file (\"format\" must be \"moeprof-placement\")");
  EXPECT_EQ(parse_error(R"({"format": "moeprof-placement", "version": 2})"),
            "p.json: placement file version 2 is not supported (this moeprof reads version 1)");
  EXPECT_EQ(parse_error(R"({"format": "moeprof-placement", "num_experts": 2})"), "p.json: \"version\" is missing");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], [0], [1]]}])")),
            "p.json: layer 0: expert 3 is missing (3 experts listed, num_experts is 4)");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], [0], [1], [1], [0]]}])")),
            "p.json: layer 0: 5 experts listed, num_experts is 4");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 5, "experts": [[0], [0], [2], [1]]}])")),
            "p.json: layer 5: expert 2: rank 2 out of range (num_ranks is 2)");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], [-1], [1], [1]]}])")),
            "p.json: layer 0: expert 1: rank -1 out of range (num_ranks is 2)");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], [1, 1], [1], [1]]}])")),
            "p.json: layer 0: expert 1: rank 1 listed twice");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], [], [1], [1]]}])")),
            "p.json: layer 0: expert 1 is on no rank");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], 1, [1], [1]]}])")),
            "p.json: layer 0: expert 1 must be an array of ranks");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0, "experts": [[0], [0.5], [1], [1]]}])")),
            "p.json: layer 0: expert 1: rank must be an integer");
  EXPECT_EQ(parse_error(file_with("[" + ok_layer.substr(1, ok_layer.size() - 2) + ", " +
                                  ok_layer.substr(1, ok_layer.size() - 2) + "]")),
            "p.json: layer 0 is listed twice");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": -1, "experts": []}])")),
            "p.json: layers[0]: \"layer\" must be in 0..2147483647, not -1");
  EXPECT_EQ(parse_error(file_with(R"([{"experts": []}])")), "p.json: layers[0]: \"layer\" is missing");
  EXPECT_EQ(parse_error(file_with(R"([{"layer": 0}])")), "p.json: layer 0: \"experts\" is missing");
  EXPECT_EQ(parse_error(file_with(ok_layer, R"(, "defualt": {"experts": []})")), "p.json: unknown key \"defualt\"");
  EXPECT_EQ(parse_error(file_with(ok_layer, R"(, "default": {"experts": [[0], [0], [1]]})")),
            "p.json: \"default\": expert 3 is missing (3 experts listed, num_experts is 4)");
  EXPECT_EQ(parse_error(file_with("[]")), "p.json: places nothing (neither \"layers\" nor \"default\")");
  EXPECT_EQ(parse_error(file_with("{}")), "p.json: \"layers\" must be an array");
  EXPECT_EQ(parse_error(file_with(ok_layer, "", 0)), "p.json: \"num_experts\" must be in 1..2147483647, not 0");
  EXPECT_EQ(parse_error(file_with(ok_layer, "", 4, -2)), "p.json: \"num_ranks\" must be in 1..2147483647, not -2");
}

TEST(PlacementFile, MustFitTheRun) {
  PlacementFile p;
  std::string error;
  ASSERT_TRUE(parse_placement(file_with(R"([{"layer": 1, "experts": [[0], [0], [1], [1]]}])"), "p.json", &p, &error));
  EXPECT_FALSE(check_placement_fits(p, "p.json", 8, 2, 2, &error));
  EXPECT_EQ(error, "p.json: made for 4 experts, the run has 8");
  EXPECT_FALSE(check_placement_fits(p, "p.json", 4, 3, 2, &error));
  EXPECT_EQ(error, "p.json: made for 2 ranks, the run has 3");
  EXPECT_FALSE(check_placement_fits(p, "p.json", 4, 2, 2, &error));
  EXPECT_EQ(error, "p.json: layer 0 has no placement and the file has no \"default\"");
  ASSERT_TRUE(parse_placement(file_with(R"([{"layer": 0, "experts": [[0], [0], [1], [1]]}])"), "p.json", &p, &error));
  EXPECT_TRUE(check_placement_fits(p, "p.json", 4, 2, 1, &error)) << error;
}

TEST(PlacementFile, ReadNamesAMissingFile) {
  PlacementFile p;
  std::string error;
  EXPECT_FALSE(read_placement_file("/nonexistent/p.json", &p, &error));
  EXPECT_EQ(error, "/nonexistent/p.json: cannot open: No such file or directory");
}

}  // namespace
}  // namespace moeprof::placement
