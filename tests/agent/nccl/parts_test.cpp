// The model's parts on their own: settings from the environment, the payload writer, NCCL's
// names, descriptor decoding and the lock-free pool.
#include <set>
#include <thread>

#include "event.h"
#include "fixed_pool.h"
#include "json_object.h"
#include "nccl_names.h"
#include "recording_runtime.h"

namespace moeprof::nccl::testing {
namespace {

// An environment for config_from(): the variables a test sets.
std::map<std::string, std::string> g_env;
const char* lookup(const char* name) {
  const auto found = g_env.find(name);
  return found == g_env.end() ? nullptr : found->second.c_str();
}

TEST(ConfigTest, DefaultsWithoutVariables) {
  g_env.clear();
  const Config c = config_from(lookup);
  EXPECT_EQ(c.pools.tasks, kDefaultPool);
  EXPECT_EQ(c.pools.groups, kDefaultPool / 16);
  EXPECT_EQ(c.event_mask, MOEPROF_NCCL_PROFILE_GROUP | MOEPROF_NCCL_PROFILE_COLL | MOEPROF_NCCL_PROFILE_P2P);
  EXPECT_EQ(c.world_size, -1);
  EXPECT_EQ(c.world_rank, -1);
  EXPECT_EQ(c.bad_pool, nullptr);
  EXPECT_EQ(c.bad_events, nullptr);
}

TEST(ConfigTest, PoolSizeAndItsGroups) {
  g_env = {{"MOEPROF_NCCL_POOL", "4096"}};
  EXPECT_EQ(config_from(lookup).pools.tasks, 4096u);
  EXPECT_EQ(config_from(lookup).pools.groups, 256u);
  g_env = {{"MOEPROF_NCCL_POOL", " 8 "}};
  EXPECT_EQ(config_from(lookup).pools.tasks, 8u);
  EXPECT_EQ(config_from(lookup).pools.groups, 4u);  // never fewer than 4
  for (const char* bad : {"", "0", "-5", "12k", "2097152", "abc"}) {
    g_env = {{"MOEPROF_NCCL_POOL", bad}};
    const Config c = config_from(lookup);
    EXPECT_EQ(c.pools.tasks, kDefaultPool) << bad;
    EXPECT_STREQ(c.bad_pool, "MOEPROF_NCCL_POOL") << bad;
  }
}

TEST(ConfigTest, EventMaskNamesAndNumbers) {
  const int group = MOEPROF_NCCL_PROFILE_GROUP, coll = MOEPROF_NCCL_PROFILE_COLL, p2p = MOEPROF_NCCL_PROFILE_P2P;
  struct Case {
    const char* text;
    int mask;
  };
  for (const Case& c : {Case{"coll", group | coll}, Case{"p2p", group | p2p}, Case{"P2P , Coll", group | coll | p2p},
                        Case{"none", 0}, Case{"group", group}, Case{"0x4", group | p2p}, Case{"2", group | coll},
                        Case{"coll,kernelch", group | coll | MOEPROF_NCCL_PROFILE_KERNEL_CH}, Case{"all", 0xfff},
                        Case{"p2papi,groupapi", MOEPROF_NCCL_PROFILE_P2P_API | MOEPROF_NCCL_PROFILE_GROUP_API}}) {
    int mask = -1;
    EXPECT_TRUE(parse_event_mask(c.text, &mask)) << c.text;
    EXPECT_EQ(mask, c.mask) << c.text;
    g_env = {{"MOEPROF_NCCL_EVENTS", c.text}};
    EXPECT_EQ(config_from(lookup).event_mask, c.mask) << c.text;
  }
  for (const char* bad : {"", ",", "coll,", "colls", "0x1000", "-1", "coll p2p"}) {
    int mask = -1;
    EXPECT_FALSE(parse_event_mask(bad, &mask)) << bad;
    EXPECT_EQ(mask, -1);
    g_env = {{"MOEPROF_NCCL_EVENTS", bad}};
    EXPECT_EQ(config_from(lookup).event_mask, kDefaultEvents) << bad;
    EXPECT_STREQ(config_from(lookup).bad_events, "MOEPROF_NCCL_EVENTS");
  }
}

TEST(ConfigTest, JobSizeAndRankSayWhetherACommunicatorSpansTheJob) {
  g_env = {{"OMPI_COMM_WORLD_SIZE", "8"}, {"OMPI_COMM_WORLD_RANK", "3"}};
  Config c = config_from(lookup);
  EXPECT_EQ(c.world_size, 8);
  EXPECT_EQ(c.world_rank, 3);
  EXPECT_TRUE(spans_world(c, 8, 3));
  EXPECT_FALSE(spans_world(c, 8, 2));  // same size, other numbering
  EXPECT_FALSE(spans_world(c, 4, 3));  // a sub-communicator
  g_env = {{"WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_SIZE", "8"}};  // torchrun's first
  c = config_from(lookup);
  EXPECT_EQ(c.world_size, 4);
  EXPECT_TRUE(spans_world(c, 4, 1));  // no rank known: the size decides
  g_env = {{"WORLD_SIZE", "zero"}};
  EXPECT_FALSE(spans_world(config_from(lookup), 4, 0));
}

TEST(JsonObjectTest, WritesAFlatObjectThatParsesBack) {
  char buffer[256];
  JsonObject json(buffer, sizeof buffer);
  json.integer("a", -42).unsigned_integer("b", UINT64_MAX).text("c", "quote\" back\\ tab\t").boolean("d", true);
  json.hex_text("e", 0xabcdef).text("skipped", nullptr).integer("f", INT64_MIN);
  const char* text = json.finish();
  ASSERT_NE(text, nullptr);
  const auto parsed = parse_flat_json(text);
  ASSERT_TRUE(parsed.has_value()) << text;
  EXPECT_EQ(parsed->at("a"), "-42");
  EXPECT_EQ(parsed->at("b"), "18446744073709551615");
  EXPECT_EQ(parsed->at("c"), "quote\" back\\ tab\t");
  EXPECT_EQ(parsed->at("d"), "true");
  EXPECT_EQ(parsed->at("e"), "0x0000000000abcdef");
  EXPECT_EQ(parsed->count("skipped"), 0u);
  EXPECT_EQ(parsed->at("f"), "-9223372036854775808");
  char empty[4];
  EXPECT_STREQ(JsonObject(empty, sizeof empty).finish(), "{}");
}

TEST(JsonObjectTest, TooSmallABufferGivesNoTextRatherThanCutJson) {
  char buffer[16];
  JsonObject json(buffer, sizeof buffer);
  json.text("name", "a long value that does not fit");
  EXPECT_EQ(json.finish(), nullptr);
  char exact[8];  // {"a":1} and its NUL
  JsonObject fits(exact, sizeof exact);
  fits.integer("a", 1);
  EXPECT_STREQ(fits.finish(), "{\"a\":1}");
  JsonObject none(nullptr, 0);
  EXPECT_EQ(none.finish(), nullptr);
}

TEST(NcclNamesTest, DatatypeSizes) {
  EXPECT_EQ(datatype_size("ncclFloat32"), 4u);
  EXPECT_EQ(datatype_size("ncclBfloat16"), 2u);
  EXPECT_EQ(datatype_size("ncclFloat16"), 2u);
  EXPECT_EQ(datatype_size("ncclInt64"), 8u);
  EXPECT_EQ(datatype_size("ncclUint64"), 8u);
  EXPECT_EQ(datatype_size("ncclFloat64"), 8u);
  EXPECT_EQ(datatype_size("ncclInt32"), 4u);
  EXPECT_EQ(datatype_size("ncclUint32"), 4u);
  EXPECT_EQ(datatype_size("ncclInt8"), 1u);
  EXPECT_EQ(datatype_size("ncclFloat8e4m3"), 1u);
  EXPECT_EQ(datatype_size("ncclFloat8e5m2"), 1u);
  EXPECT_EQ(datatype_size("Unknown"), 1u);  // NCCL's name for ncclUint8
  EXPECT_EQ(datatype_size("ncclFloat128"), 0u);
  EXPECT_EQ(datatype_size(""), 0u);
  EXPECT_EQ(datatype_size(nullptr), 0u);
}

TEST(NcclNamesTest, FunctionNames) {
  EXPECT_TRUE(is_all_to_all("AlltoAll"));
  EXPECT_TRUE(is_all_to_all("AllToAll"));
  EXPECT_FALSE(is_all_to_all("AllGather"));
  EXPECT_FALSE(is_all_to_all(nullptr));
  EXPECT_TRUE(is_send("Send"));
  EXPECT_FALSE(is_send("Recv"));
  EXPECT_TRUE(is_send(nullptr));
}

TEST(DecodeTest, Version5TakesTheGroupFromParentGroup) {
  int api_event = 0, group_event = 0;
  moeprof_nccl_event_v5 d{};
  d.type = MOEPROF_NCCL_PROFILE_P2P;
  d.parent_obj = &api_event;
  d.p2p.func = "Recv";
  d.p2p.datatype = "ncclFloat32";
  d.p2p.count = 123;
  d.p2p.peer = 6;
  d.p2p.n_channels = 3;
  d.p2p.parent_group = &group_event;
  Event e = decode(&d);
  EXPECT_EQ(e.kind, EventKind::kP2p);
  EXPECT_EQ(e.group, &group_event);
  EXPECT_STREQ(e.func, "Recv");
  EXPECT_EQ(e.count, 123u);
  EXPECT_EQ(e.peer, 6);
  EXPECT_EQ(e.channels, 3u);

  d = {};
  d.type = MOEPROF_NCCL_PROFILE_COLL;
  d.parent_obj = &api_event;
  d.coll.func = "AllReduce";
  d.coll.datatype = "ncclInt8";
  d.coll.count = 9;
  d.coll.root = 2;
  d.coll.seq_number = 77;
  d.coll.algo = "TREE";
  d.coll.proto = "LL";
  d.coll.parent_group = &group_event;
  e = decode(&d);
  EXPECT_EQ(e.kind, EventKind::kCollective);
  EXPECT_EQ(e.group, &group_event);
  EXPECT_EQ(e.peer, 2);
  EXPECT_EQ(e.seq, 77u);
  EXPECT_STREQ(e.algo, "TREE");
  EXPECT_STREQ(e.proto, "LL");

  d = {};
  d.type = MOEPROF_NCCL_PROFILE_GROUP;
  EXPECT_EQ(decode(&d).kind, EventKind::kGroup);
  d.type = MOEPROF_NCCL_PROFILE_P2P_API;
  EXPECT_EQ(decode(&d).kind, EventKind::kOther);
  d.type = MOEPROF_NCCL_PROFILE_P2P | MOEPROF_NCCL_PROFILE_COLL;  // not one type
  EXPECT_EQ(decode(&d).kind, EventKind::kOther);
  EXPECT_EQ(decode(static_cast<const moeprof_nccl_event_v5*>(nullptr)).kind, EventKind::kOther);
}

TEST(DecodeTest, Version4TakesTheGroupFromParentObj) {
  int group_event = 0;
  moeprof_nccl_event_v4 d{};
  d.type = MOEPROF_NCCL_PROFILE_P2P;
  d.parent_obj = &group_event;
  d.p2p.func = "Send";
  d.p2p.count = 5;
  d.p2p.peer = 1;
  Event e = decode(&d);
  EXPECT_EQ(e.kind, EventKind::kP2p);
  EXPECT_EQ(e.group, &group_event);
  EXPECT_EQ(e.peer, 1);
  d = {};
  d.type = MOEPROF_NCCL_PROFILE_COLL;
  d.parent_obj = &group_event;
  d.coll.func = "Broadcast";
  d.coll.root = 3;
  e = decode(&d);
  EXPECT_EQ(e.kind, EventKind::kCollective);
  EXPECT_EQ(e.group, &group_event);
  EXPECT_EQ(e.peer, 3);
  d.type = MOEPROF_NCCL_PROFILE_PROXY_OP;
  EXPECT_EQ(decode(&d).kind, EventKind::kOther);
}

TEST(FixedPoolTest, HandsOutEachObjectOnceUntilReleased) {
  FixedPool<int> pool(3);
  ASSERT_TRUE(pool.allocated(3));
  std::set<int*> taken;
  for (int i = 0; i < 3; ++i) taken.insert(pool.acquire());
  EXPECT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken.count(nullptr), 0u);
  EXPECT_EQ(pool.acquire(), nullptr);
  EXPECT_EQ(pool.in_use(), 3u);
  int* one = *taken.begin();
  pool.release(one);
  EXPECT_EQ(pool.acquire(), one);
  FixedPool<int> empty(0);
  EXPECT_EQ(empty.acquire(), nullptr);
}

TEST(FixedPoolTest, ThreadsNeverHoldTheSameObject) {
  constexpr int kThreads = 4, kRounds = 20000;
  FixedPool<std::atomic<int>> pool(6);
  std::atomic<int> failures{0}, empty{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        std::atomic<int>* a = pool.acquire();
        std::atomic<int>* b = pool.acquire();
        for (std::atomic<int>* o : {a, b}) {
          if (o == nullptr) {
            ++empty;
            continue;
          }
          if (o->fetch_add(1) != 0) ++failures;  // someone else holds it
        }
        for (std::atomic<int>* o : {a, b})
          if (o != nullptr) {
            o->fetch_sub(1);
            pool.release(o);
          }
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(pool.in_use(), 0u);
  int free_objects = 0;
  while (pool.acquire() != nullptr) ++free_objects;
  EXPECT_EQ(free_objects, 6);  // the free list lost nothing
}

}  // namespace
}  // namespace moeprof::nccl::testing
