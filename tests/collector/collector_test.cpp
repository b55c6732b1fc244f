// The collector over real sockets: a private 0700 directory, many concurrent fake agents
// with exact totals in the trace, a broken agent that disturbs nobody, the grace period at
// stop, and a peer of another uid refused.
#include "moeprof/ingest/collector.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "fake_agent.h"
#include "moeprof/store/reader.h"
#include "moeprof/store/writer.h"
#include "temp_dir.h"

namespace moeprof::ingest {
namespace {

using namespace std::chrono_literals;
using testing::StreamBuilder;

const store::ModelShape kModel{"fake", 4, 16, 2, 0, 32};

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    writer_ = store::Writer::create(dir_.file("trace.db"), &error);
    ASSERT_TRUE(writer_) << error;
    CollectorOptions options;
    options.log = [this](const std::string& line) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(line);
    };
    collector_ = Collector::start(*writer_, options, &error);
    ASSERT_TRUE(collector_) << error;
  }

  // Stops the collector, finalises the trace and opens it.
  std::unique_ptr<store::Reader> finish(std::chrono::milliseconds grace = 5s) {
    std::string error;
    EXPECT_TRUE(collector_->stop(grace, &error)) << error;
    store::RunInfo run;
    run.command = "test";
    EXPECT_TRUE(writer_->finalize(run, &error)) << error;
    writer_.reset();
    auto reader = store::Reader::open(dir_.file("trace.db"), &error);
    EXPECT_TRUE(reader) << error;
    return reader;
  }

  std::vector<std::string> log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<Collector> collector_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends in pieces of random size, so frames arrive split at arbitrary places.
bool send_in_pieces(int fd, const wire::Bytes& bytes, uint32_t seed) {
  std::mt19937 random(seed);
  for (size_t at = 0; at < bytes.size();) {
    const size_t n = std::min(bytes.size() - at, size_t{1} + random() % 8192);
    const ssize_t sent = ::send(fd, bytes.data() + at, n, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    at += static_cast<size_t>(sent);
  }
  return true;
}

// The deterministic token count a fake agent reports for (rank, step, layer, expert).
uint32_t fake_count(int rank, int step, int layer, int expert) {
  return static_cast<uint32_t>((rank * 7 + step * 13 + layer * 5 + expert * 3) % 23);
}

TEST_F(CollectorTest, SocketLivesInAPrivateDirectoryThatIsRemovedAtStop) {
  const std::string directory = collector_->directory();
  struct stat st;
  ASSERT_EQ(::stat(directory.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(collector_->socket_path().rfind(directory + "/", 0), 0u);
  ASSERT_EQ(::stat(collector_->socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  finish();
  EXPECT_NE(::stat(directory.c_str(), &st), 0);
}

TEST(CollectorDirectory, FollowsTmpdir) {
  testing::TempDir dir;
  std::string error;
  auto writer = store::Writer::create(dir.file("t.db"), &error);
  ASSERT_TRUE(writer) << error;
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", dir.path().c_str(), 1);
  auto collector = Collector::start(*writer, {}, &error);
  if (old)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  ASSERT_TRUE(collector) << error;
  EXPECT_EQ(collector->directory().rfind(dir.path() + "/moeprof-", 0), 0u) << collector->directory();
  collector.reset();
}

TEST_F(CollectorTest, ManyConcurrentAgentsLoseNothing) {
  constexpr int kAgents = 32, kSteps = 120, kLayers = 4, kExperts = 16;
  std::atomic<int> failures{0};
  std::vector<std::thread> agents;
  for (int rank = 0; rank < kAgents; ++rank) {
    agents.emplace_back([&, rank] {
      StreamBuilder s;
      s.hello(static_cast<uint32_t>(10000 + rank), -1, "node", "fake\0agent").end_frame();
      s.topology(rank, rank % 8, kAgents, kModel);
      int64_t t = 1000;
      for (int step = 0; step < kSteps; ++step) {
        s.step_mark(true, step, t++);
        for (int layer = 0; layer < kLayers; ++layer) {
          std::vector<uint32_t> counts(kExperts);
          for (int e = 0; e < kExperts; ++e) counts[size_t(e)] = fake_count(rank, step, layer, e);
          s.counts(step, layer, counts, t++);
          for (auto phase : {wire::Phase::kDispatch, wire::Phase::kCombine}) {
            s.all_to_all(step, layer, phase, t, t + 5,
                         {{(rank + 1) % kAgents, uint64_t(100 + step), uint64_t(200 + layer)}});
            t += 6;
          }
          s.compute(step, layer, wire::ComputeKind::kExpert, t, t + 3, "ffn");
          t += 4;
        }
        s.marker(step, t++, "step done");
        s.step_mark(false, step, t++);
        if (step % 8 == 7) s.end_frame();
      }
      s.drops(wire::Source::kApi, wire::DropReason::kRingFull, uint64_t(rank));
      s.goodbye(t);
      const int fd = connect_to(collector_->socket_path());
      if (fd < 0 || !send_in_pieces(fd, s.bytes(), uint32_t(rank))) ++failures;
      if (fd >= 0) ::close(fd);
    });
  }
  for (auto& agent : agents) agent.join();
  ASSERT_EQ(failures.load(), 0);
  auto reader = finish();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(log().empty()) << log().front();
  EXPECT_EQ(collector_->accepted_connections(), uint64_t(kAgents));
  EXPECT_EQ(collector_->refused_connections(), 0u);

  const auto processes = reader->processes();
  ASSERT_EQ(processes.size(), size_t(kAgents));
  std::vector<int32_t> ranks;
  for (const auto& p : processes) {
    EXPECT_TRUE(p.clean_exit) << p.pid;
    EXPECT_EQ(p.pid, uint32_t(10000 + p.rank));
    ranks.push_back(p.rank);
  }
  std::sort(ranks.begin(), ranks.end());
  for (int rank = 0; rank < kAgents; ++rank) EXPECT_EQ(ranks[size_t(rank)], rank);

  const store::TableCounts counts = reader->counts();
  EXPECT_EQ(counts.steps, kAgents * kSteps);
  EXPECT_EQ(counts.expert_load, kAgents * kSteps * kLayers);
  EXPECT_EQ(counts.all_to_all, kAgents * kSteps * kLayers * 2);
  EXPECT_EQ(counts.compute_spans, kAgents * kSteps * kLayers);
  EXPECT_EQ(counts.markers, kAgents * kSteps);
  EXPECT_EQ(counts.dropped, uint64_t(kAgents * (kAgents - 1) / 2));

  // Every count of every (rank, step, layer, expert), exactly once.
  std::map<std::tuple<int, int64_t, int>, int> seen;
  reader->for_each_expert_load({}, [&](const store::ExpertLoad& l) {
    ++seen[{l.rank, l.step, l.layer}];
    ASSERT_EQ(l.counts.size(), size_t(kExperts));
    for (int e = 0; e < kExperts; ++e)
      ASSERT_EQ(l.counts[size_t(e)], fake_count(l.rank, int(l.step), l.layer, e)) << l.rank << "/" << l.step;
  });
  EXPECT_EQ(seen.size(), size_t(kAgents * kSteps * kLayers));
  for (const auto& [key, n] : seen) EXPECT_EQ(n, 1);
  uint64_t send_bytes = 0;
  reader->for_each_all_to_all({}, [&](const store::AllToAllEvent& e) {
    ASSERT_EQ(e.peers.size(), 1u);
    EXPECT_EQ(e.peers[0].peer, (e.rank + 1) % kAgents);
    send_bytes += e.peers[0].send_bytes;
  });
  // sum over agents, steps, layers, two phases of (100 + step)
  EXPECT_EQ(send_bytes, uint64_t(kAgents) * kLayers * 2 * (100 * kSteps + kSteps * (kSteps - 1) / 2));

  const IngestTotals& totals = collector_->totals();
  EXPECT_EQ(totals.streams, uint64_t(kAgents));
  EXPECT_EQ(totals.bad_frames, 0u);
}

TEST_F(CollectorTest, ABrokenAgentDisturbsNoOther) {
  std::vector<std::thread> agents;
  for (int rank = 0; rank < 4; ++rank) {
    agents.emplace_back([&, rank] {
      StreamBuilder s;
      s.hello(uint32_t(rank + 1), rank, "node", "good");
      for (int step = 0; step < 50; ++step) s.counts(step, 0, {1, 2, 3}, 1000 + step).end_frame();
      s.goodbye(2000);
      const int fd = connect_to(collector_->socket_path());
      ASSERT_GE(fd, 0);
      EXPECT_TRUE(send_in_pieces(fd, s.bytes(), uint32_t(rank)));
      ::close(fd);
    });
  }
  const int bad = connect_to(collector_->socket_path());
  ASSERT_GE(bad, 0);
  const std::string garbage = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::send(bad, garbage.data(), garbage.size(), MSG_NOSIGNAL), ssize_t(garbage.size()));
  for (auto& agent : agents) agent.join();
  // The collector hangs up on the bad peer: its next read sees the end (or a reset).
  char byte;
  EXPECT_LE(::recv(bad, &byte, 1, 0), 0);
  ::close(bad);
  auto reader = finish();
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->processes().size(), 4u);
  EXPECT_EQ(reader->counts().expert_load, 200);
  const auto drops = reader->drops();
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].reason, wire::DropReason::kBadFrame);
  EXPECT_EQ(drops[0].count, 1u);
  const auto lines = log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("magic"), std::string::npos) << lines[0];
}

TEST_F(CollectorTest, StopWaitsForOpenStreamsWithinTheGracePeriod) {
  StreamBuilder s;
  s.hello(7, 0, "node", "slow").counts(0, 0, {1}, 1100).end_frame();
  const int fd = connect_to(collector_->socket_path());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_in_pieces(fd, s.bytes(), 1));
  const size_t first = s.bytes().size();
  // The agent is still flushing when the stop begins.
  std::thread agent([&] {
    std::this_thread::sleep_for(300ms);
    s.counts(1, 0, {2}, 1200).goodbye(1300).end_frame();
    const wire::Bytes rest(s.bytes().begin() + std::ptrdiff_t(first), s.bytes().end());
    EXPECT_TRUE(send_in_pieces(fd, rest, 2));
    ::close(fd);
  });
  const auto start = std::chrono::steady_clock::now();
  auto reader = finish(10s);
  agent.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->counts().expert_load, 2);
  EXPECT_TRUE(reader->processes().at(0).clean_exit);
}

TEST_F(CollectorTest, AStreamStillOpenAfterTheGracePeriodIsCut) {
  StreamBuilder s;
  s.hello(8, 0, "node", "stuck").counts(0, 0, {1}, 1100).end_frame();
  const int fd = connect_to(collector_->socket_path());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_in_pieces(fd, s.bytes(), 1));
  const auto start = std::chrono::steady_clock::now();
  auto reader = finish(300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->counts().expert_load, 1) << "what arrived before the cut is kept";
  EXPECT_FALSE(reader->processes().at(0).clean_exit);
}

TEST_F(CollectorTest, APeerOfAnotherUidIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "acting as another user needs root";
  constexpr uid_t kNobody = 65534;
  // The 0700 directory already keeps other users away; open it up to reach the second
  // barrier, the peer credential check.
  ASSERT_EQ(::chmod(collector_->directory().c_str(), 0711), 0);
  ASSERT_EQ(::chmod(collector_->socket_path().c_str(), 0777), 0);
  StreamBuilder s;
  s.hello(99, 0, "node", "intruder").counts(0, 0, {1}, 1100).goodbye(1200);
  const wire::Bytes bytes = s.bytes();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, collector_->socket_path().c_str(), sizeof address.sun_path - 1);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // only async-signal-safe calls from here on
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(3);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) ::_exit(1);
    [[maybe_unused]] const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ::close(fd);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "cannot switch to uid " << kNobody << " here";
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the child could not connect";
  for (int i = 0; i < 500 && collector_->refused_connections() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(collector_->refused_connections(), 1u);
  auto reader = finish();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(reader->processes().empty());
  EXPECT_EQ(reader->counts().expert_load, 0);
  const auto lines = log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("refused"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("uid 65534"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace moeprof::ingest
