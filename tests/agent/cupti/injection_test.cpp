// libmoeprof_cupti.so's entry point where there is no GPU driver: loaded and called like the
// driver does, in a child process (injection_child), it returns success, says in one line
// that GPU kernels will not be recorded, and the process exits normally. Outside
// `moeprof run` (agent not recording) it stays silent and leaves CUPTI alone.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "fake_collector.h"

extern char** environ;

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::vector<std::string> err_lines;
};

std::string read_all(int fd) {
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<size_t>(n));
  return text;
}

// Runs the child with `extra` added to (and MOEPROF_* removed from) this environment.
Outcome run_child(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string(*e).rfind("MOEPROF_", 0) != 0) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string child = MOEPROF_CUPTI_CHILD, library = MOEPROF_CUPTI_LIBRARY;
  char* argv[] = {child.data(), library.data(), nullptr};

  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, child.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  Outcome o;
  if (spawned != 0) return o;
  o.out = read_all(out[0]);
  std::istringstream lines(read_all(err[0]));
  for (std::string line; std::getline(lines, line);) o.err_lines.push_back(line);
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

bool driver_present() {
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (cuda != nullptr) dlclose(cuda);
  return cuda != nullptr;
}

TEST(CuptiInjection, OutsideMoeprofRunItIsSilent) {
  const Outcome o = run_child({});
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_EQ(o.out, "1 1\n");
  EXPECT_TRUE(o.err_lines.empty()) << o.err_lines[0];
}

TEST(CuptiInjection, WithoutADriverItSaysSoOnceAndReturns) {
  if (driver_present()) GTEST_SKIP() << "a CUDA driver is installed here: CUPTI would start";
  moeprof::agent::testing::FakeCollector collector;
  const Outcome o = run_child({"MOEPROF_SOCKET=" + collector.socket_path()});
  EXPECT_EQ(o.exit_code, 0) << o.out;
  EXPECT_EQ(o.out, "1 1\n") << "success, and the second call does nothing";
  ASSERT_EQ(o.err_lines.size(), 1u);
  EXPECT_EQ(o.err_lines[0].rfind("moeprof: CUPTI could not start (cuptiSubscribe: CUPTI_ERROR_", 0), 0u)
      << o.err_lines[0];
  EXPECT_NE(o.err_lines[0].find("); GPU kernels will not be recorded"), std::string::npos) << o.err_lines[0];
  // The agent ran and ended normally: its stream says goodbye.
  EXPECT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 1 && s[0].closed; }));
  EXPECT_TRUE(collector.streams()[0].has_goodbye());
}

TEST(CuptiInjection, BadSettingsGetOneLineEachBeforeAnythingElse) {
  if (driver_present()) GTEST_SKIP() << "a CUDA driver is installed here: CUPTI would start";
  moeprof::agent::testing::FakeCollector collector;
  const Outcome o = run_child(
      {"MOEPROF_SOCKET=" + collector.socket_path(), "MOEPROF_CUPTI_BUFFERS=1", "MOEPROF_KERNEL_KINDS=expert"});
  EXPECT_EQ(o.exit_code, 0);
  ASSERT_EQ(o.err_lines.size(), 3u);
  EXPECT_EQ(o.err_lines[0], "moeprof: MOEPROF_CUPTI_BUFFERS='1' is not a whole number in [2, 64]; using 8");
  EXPECT_EQ(o.err_lines[1],
            "moeprof: MOEPROF_KERNEL_KINDS: rule 1 'expert': no '=' between the kind and its patterns; using the "
            "default kernel kinds");
  EXPECT_EQ(o.err_lines[2].rfind("moeprof: CUPTI could not start", 0), 0u);
}

}  // namespace
