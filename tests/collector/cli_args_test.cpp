// The CLI's command-line handling: option parsing, numbers, routing modes, the decisions of
// `moeprof run` (trace name, agent library, environment), and how main_entry reports
// usage errors, help and version.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "moeprof/cli/args.h"
#include "moeprof/cli/cli.h"
#include "moeprof/cli/run_setup.h"
#include "temp_dir.h"

namespace moeprof::cli {
namespace {

const OptionSpec kSpecs[] = {{"output", 'o', true}, {"force", 'f', false}, {"what", 0, true}};

ParsedArgs parse(std::vector<std::string> args, bool takes_command = false) {
  return parse_args("test", kSpecs, args, takes_command);
}

std::string usage_error(std::vector<std::string> args, bool takes_command = false) {
  try {
    parse(std::move(args), takes_command);
  } catch (const UsageError& e) {
    EXPECT_EQ(e.command, "test");
    return e.what();
  }
  return "(no error)";
}

TEST(ParseArgs, LongShortAndAttachedValues) {
  const ParsedArgs a = parse({"in.db", "--output", "x.csv", "--what=a2a", "-f"});
  EXPECT_EQ(a.value("output"), "x.csv");
  EXPECT_EQ(a.value("what"), "a2a");
  EXPECT_TRUE(a.has("force"));
  EXPECT_EQ(a.positionals, std::vector<std::string>{"in.db"});
  EXPECT_EQ(parse({"-oy.csv"}).value("output"), "y.csv");
  EXPECT_EQ(parse({"-o", "z.csv"}).value("output"), "z.csv");
  EXPECT_EQ(parse({"--what="}).value("what"), "");
  EXPECT_FALSE(parse({}).has("force"));
}

TEST(ParseArgs, ProblemsNameTheOption) {
  EXPECT_EQ(usage_error({"--jsno"}), "unknown option '--jsno'");
  EXPECT_EQ(usage_error({"-x"}), "unknown option '-x'");
  EXPECT_EQ(usage_error({"-fx"}), "unknown option '-fx'");
  EXPECT_EQ(usage_error({"--output"}), "option --output needs a value");
  EXPECT_EQ(usage_error({"-o"}), "option -o needs a value");
  EXPECT_EQ(usage_error({"--force=yes"}), "option --force takes no value");
}

TEST(ParseArgs, TheCommandToRunStartsAfterDashDashOrTheFirstWord) {
  ParsedArgs a = parse({"-o", "t.db", "--", "prog", "--output", "-f"}, true);
  EXPECT_EQ(a.value("output"), "t.db");
  EXPECT_FALSE(a.has("force")) << "options after -- belong to the command";
  EXPECT_EQ(a.command, (std::vector<std::string>{"prog", "--output", "-f"}));
  a = parse({"-f", "prog", "-o", "x"}, true);
  EXPECT_TRUE(a.has("force"));
  EXPECT_FALSE(a.has("output"));
  EXPECT_EQ(a.command, (std::vector<std::string>{"prog", "-o", "x"}));
  EXPECT_TRUE(parse({"-f", "--"}, true).command.empty());
  // Without a command, words after -- are positionals.
  EXPECT_EQ(parse({"--", "-f"}).positionals, std::vector<std::string>{"-f"});
}

TEST(ParseNumbers, RangesAndJunk) {
  EXPECT_EQ(parse_integer("synth", "--ranks", "8", 1, 100), 8);
  EXPECT_EQ(parse_integer("synth", "--seed", "-3", -5, 5), -3);
  for (const char* bad : {"", "0", "101", "8x", " 8", "1e3", "99999999999999999999"})
    EXPECT_THROW(parse_integer("synth", "--ranks", bad, 1, 100), UsageError) << bad;
  EXPECT_DOUBLE_EQ(parse_number("synth", "S", "1.25", 0, 10), 1.25);
  for (const char* bad : {"", "-1", "11", "nan", "inf", "1.2.3"})
    EXPECT_THROW(parse_number("synth", "S", bad, 0, 10), UsageError) << bad;
  try {
    parse_integer("synth", "--ranks", "x", 1, 100);
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--ranks must be a whole number from 1 to 100, not 'x'");
  }
}

TEST(RunSetup, RoutingModes) {
  EXPECT_EQ(parse_routing_mode("off"), "off");
  EXPECT_EQ(parse_routing_mode("full"), "full");
  EXPECT_EQ(parse_routing_mode("sample:10"), "sample:10");
  EXPECT_EQ(parse_routing_mode("sample:007"), "sample:7");
  for (const char* bad : {"", "on", "sample", "sample:", "sample:0", "sample:-1", "sample:x", "Full"})
    EXPECT_FALSE(parse_routing_mode(bad)) << bad;
}

TEST(RunSetup, DefaultTraceNameNeverTakesAnExistingFile) {
  testing::TempDir dir;
  EXPECT_EQ(default_trace_path(dir.path()), dir.file("moeprof-trace.db"));
  std::ofstream(dir.file("moeprof-trace.db")) << "x";
  EXPECT_EQ(default_trace_path(dir.path()), dir.file("moeprof-trace-1.db"));
  std::ofstream(dir.file("moeprof-trace-1.db")) << "x";
  std::ofstream(dir.file("moeprof-trace-3.db")) << "x";
  EXPECT_EQ(default_trace_path(dir.path()), dir.file("moeprof-trace-2.db"));
}

TEST(RunSetup, AgentLibraryNextToTheExecutableOrFromTheEnvironment) {
  testing::TempDir dir;
  ::mkdir(dir.file("bin").c_str(), 0755);
  ::mkdir(dir.file("lib").c_str(), 0755);
  const std::string exe = dir.file("bin/moeprof");
  ::unsetenv("MOEPROF_AGENT_PATH");
  std::string error;
  EXPECT_EQ(find_agent_library(exe, &error), "");
  EXPECT_NE(error.find("libmoeprof_agent.so"), std::string::npos) << error;
  std::ofstream(dir.file("lib/libmoeprof_agent.so")) << "elf";
  char real[PATH_MAX];
  ASSERT_TRUE(::realpath(dir.file("lib/libmoeprof_agent.so").c_str(), real));
  EXPECT_EQ(find_agent_library(exe, &error), real);

  ::setenv("MOEPROF_AGENT_PATH", dir.file("elsewhere.so").c_str(), 1);
  error.clear();
  EXPECT_EQ(find_agent_library(exe, &error), "");
  EXPECT_NE(error.find("MOEPROF_AGENT_PATH"), std::string::npos) << error;
  ::setenv("MOEPROF_AGENT_PATH", dir.path().c_str(), 1);  // a directory is no library
  EXPECT_EQ(find_agent_library(exe, &error), "");
  ::unsetenv("MOEPROF_AGENT_PATH");
}

TEST(RunSetup, WorkloadEnvironmentAddsTheAgentOnce) {
  const std::string agent = "/x/libmoeprof_agent.so";
  const char* base[] = {
      "PATH=/bin", "LD_PRELOAD=/opt/a.so", "MOEPROF_SOCKET=/old", "MOEPROF_ROUTING=full", "HOME=/root", nullptr};
  WorkloadEnvironment w = workload_environment(base, "/tmp/d/s.sock", "sample:4", agent, {});
  std::sort(w.env.begin(), w.env.end());
  EXPECT_EQ(w.env, (std::vector<std::string>{"HOME=/root", "LD_PRELOAD=/opt/a.so:/x/libmoeprof_agent.so",
                                             "MOEPROF_ROUTING=sample:4", "MOEPROF_SOCKET=/tmp/d/s.sock", "PATH=/bin"}));
  EXPECT_TRUE(w.notes.empty());
  const char* again[] = {"LD_PRELOAD=/x/libmoeprof_agent.so /opt/b.so", nullptr};
  w = workload_environment(again, "s", "off", agent, {});
  EXPECT_NE(std::find(w.env.begin(), w.env.end(), "LD_PRELOAD=/x/libmoeprof_agent.so /opt/b.so"), w.env.end());
  const char* none[] = {nullptr};
  w = workload_environment(none, "s", "off", agent, {});
  EXPECT_NE(std::find(w.env.begin(), w.env.end(), "LD_PRELOAD=/x/libmoeprof_agent.so"), w.env.end());
}

TEST(RunSetup, CaptureSourcesReachTheWorkloadThroughTheirHook) {
  testing::TempDir dir;
  const std::string agent = dir.file("libmoeprof_agent.so");
  std::ofstream(agent) << "elf";
  std::string error;
  // Without adapters next to the agent, only api is there.
  EXPECT_EQ(available_sources(agent), std::vector<std::string>{"api"});
  EXPECT_EQ(capture_adapters("all", agent, &error), std::vector<CaptureAdapter>{});
  EXPECT_EQ(capture_adapters("api,mpi", agent, &error), std::nullopt);
  EXPECT_EQ(error, "--capture: 'mpi' is not a capture source of this build (it has: api, all)");
  for (const char* source : {"cupti", "mpi", "nvtx", "nccl"})
    std::ofstream(dir.file(std::string("libmoeprof_") + source + ".so")) << "elf";
  EXPECT_EQ(available_sources(agent), (std::vector<std::string>{"api", "mpi", "nvtx", "nccl", "cupti"}));
  const CaptureAdapter mpi{"mpi", dir.file("libmoeprof_mpi.so"), ""};
  const CaptureAdapter nvtx{"nvtx", dir.file("libmoeprof_nvtx.so"), "NVTX_INJECTION64_PATH"};
  const CaptureAdapter nccl{"nccl", dir.file("libmoeprof_nccl.so"), "NCCL_PROFILER_PLUGIN"};
  const CaptureAdapter cupti{"cupti", dir.file("libmoeprof_cupti.so"), "CUDA_INJECTION64_PATH"};
  EXPECT_EQ(capture_adapters("all", agent, &error), (std::vector<CaptureAdapter>{mpi, nvtx, nccl, cupti}));
  EXPECT_EQ(capture_adapters("mpi,api,mpi", agent, &error), std::vector<CaptureAdapter>{mpi});  // once
  EXPECT_EQ(capture_adapters("api", agent, &error), std::vector<CaptureAdapter>{});
  EXPECT_EQ(capture_adapters("nccl,nvtx", agent, &error), (std::vector<CaptureAdapter>{nccl, nvtx}));
  EXPECT_EQ(capture_adapters("torch", agent, &error), std::nullopt);
  EXPECT_NE(error.find("'torch'"), std::string::npos);
  EXPECT_EQ(capture_adapters("", agent, &error), std::nullopt);

  // Preloaded adapters follow the agent; the others are named by their hook's variable,
  // unless another tool set that variable already.
  const char* base[] = {"LD_PRELOAD=/opt/a.so", "CUDA_INJECTION64_PATH=/opt/nsys/libinject.so", nullptr};
  const std::vector<CaptureAdapter> all{mpi, nvtx, nccl, cupti};
  const WorkloadEnvironment w = workload_environment(base, "s", "off", agent, all);
  const auto has = [&](const std::string& entry) { return std::find(w.env.begin(), w.env.end(), entry) != w.env.end(); };
  EXPECT_TRUE(has("LD_PRELOAD=/opt/a.so:" + agent + ":" + mpi.library));
  EXPECT_TRUE(has("NVTX_INJECTION64_PATH=" + nvtx.library));
  EXPECT_TRUE(has("NCCL_PROFILER_PLUGIN=" + nccl.library));
  EXPECT_TRUE(has("CUDA_INJECTION64_PATH=/opt/nsys/libinject.so"));
  EXPECT_FALSE(has("CUDA_INJECTION64_PATH=" + cupti.library));
  EXPECT_EQ(w.notes, std::vector<std::string>{"CUDA_INJECTION64_PATH is already set (to /opt/nsys/libinject.so, "
                                              "another tool's); cupti capture is off for this run"});
  // Set to our own library (a nested moeprof run): no note.
  const char* ours[] = {nullptr, nullptr};
  const std::string own = "NVTX_INJECTION64_PATH=" + nvtx.library;
  ours[0] = own.c_str();
  EXPECT_TRUE(workload_environment(ours, "s", "off", agent, all).notes.empty());
}

TEST(RunSetup, PythonSourceGoesFirstOnPythonPathOnce) {
  testing::TempDir dir;
  const std::string agent = dir.file("libmoeprof_agent.so");
  std::ofstream(agent) << "elf";
  ::mkdir(dir.file("python").c_str(), 0755);
  std::string error;
  EXPECT_EQ(available_sources(agent), std::vector<std::string>{"api"});  // a folder without the package
  ::mkdir(dir.file("python/moeprof").c_str(), 0755);
  std::ofstream(dir.file("python/moeprof/__init__.py")) << "\n";
  EXPECT_EQ(available_sources(agent), (std::vector<std::string>{"api", "python"}));
  const CaptureAdapter python{"python", dir.file("python"), "PYTHONPATH", true};
  ASSERT_EQ(capture_adapters("all", agent, &error), std::vector<CaptureAdapter>{python});

  const auto python_path = [&](const char* const* base) {
    const WorkloadEnvironment w = workload_environment(base, "s", "off", agent, std::vector{python});
    EXPECT_TRUE(w.notes.empty());
    std::string value = "(unset)";
    for (const std::string& e : w.env)
      if (e.rfind("PYTHONPATH=", 0) == 0) value = e.substr(11);
    return value;
  };
  const char* none[] = {nullptr};
  EXPECT_EQ(python_path(none), python.library);
  const char* empty[] = {"PYTHONPATH=", nullptr};
  EXPECT_EQ(python_path(empty), python.library);
  const char* theirs[] = {"PYTHONPATH=/opt/site:/opt/more", nullptr};
  EXPECT_EQ(python_path(theirs), python.library + ":/opt/site:/opt/more");
  const std::string nested_entry = "PYTHONPATH=/opt/site:" + python.library;  // a nested moeprof run
  const char* nested[] = {nested_entry.c_str(), nullptr};
  EXPECT_EQ(python_path(nested), "/opt/site:" + python.library);
}

TEST(RunSetup, CommandLineIsQuotedForAShell) {
  const std::vector<std::string> argv = {"python3", "train.py", "--name=a b", "it's", "", "x/y-1.0"};
  EXPECT_EQ(shell_command_line(argv), "python3 train.py '--name=a b' 'it'\\''s' '' x/y-1.0");
}

// ---- main_entry ----------------------------------------------------------------------------

struct Result {
  int code;
  std::string out, err;
};

Result moeprof(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = main_entry(args, Io{out, err});
  return {code, out.str(), err.str()};
}

size_t lines(const std::string& text) { return size_t(std::count(text.begin(), text.end(), '\n')); }

TEST(MainEntry, UsageErrorsAreOneLineAndExit2) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"--frobnicate"},
      {"info", "--jsn", "x.db"},
      {"info"},
      {"info", "a.db", "b.db"},
      {"check"},
      {"export", "x.db"},
      {"export", "x.db", "--what", "decisions"},
      {"export", "x.db", "--what", "a2a", "--format", "parquet"},
      {"export", "x.db", "--what"},
      {"run", "--routing", "sometimes", "--", "true"},
      {"run", "-o"},
      {"run", "-f"},
      {"synth", "--shape", "deepseek-v3", "--ranks", "0", "--steps", "1", "-o", "x.db"},
      {"synth", "--ranks", "2", "--steps", "1", "-o", "x.db"},
      {"synth", "--shape", "deepseek-v3", "--ranks", "2", "--steps", "1", "--skew", "pareto:1", "-o", "x.db"},
      {"help", "frobnicate"},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    SCOPED_TRACE(joined);
    const Result r = moeprof(args);
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("moeprof: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("(see 'moeprof "), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_EQ(moeprof({"info", "--jsn", "x.db"}).err,
            "moeprof: info: unknown option '--jsn' (see 'moeprof help info')\n");
}

TEST(MainEntry, HelpAndVersion) {
  Result r = moeprof({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("moeprof ") + MOEPROF_VERSION + "\n");
  r = moeprof({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* command : {"run", "info", "check", "export", "synth"})
    EXPECT_NE(r.out.find(std::string("  ") + command + " "), std::string::npos) << command;
  for (const char* command : {"run", "info", "check", "export", "synth"}) {
    const Result help = moeprof({"help", command});
    EXPECT_EQ(help.code, 0);
    EXPECT_EQ(help.out.rfind(std::string("usage: moeprof ") + command, 0), 0u) << help.out;
    EXPECT_EQ(moeprof({command, "--help"}).out, help.out);
    EXPECT_EQ(moeprof({command, "-h"}).out, help.out);
  }
}

}  // namespace
}  // namespace moeprof::cli
