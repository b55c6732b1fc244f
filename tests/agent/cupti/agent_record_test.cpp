// From a CUPTI buffer to the agent's wire records, the way libmoeprof_cupti.so composes its
// parts (decoder -> name cache -> to_gpu_kernel -> moeprof_record_gpu_kernel), against the
// real agent core and a fake collector: what reaches the trace is each kernel's own fields,
// its demangled name, its kind and its launch.
#include <gtest/gtest.h>

#include <string>

#include "activity_buffer.h"
#include "agent_test_support.h"
#include "gpu_kernel_record.h"
#include "kernel_names.h"
#include "moeprof/wire/records.h"

namespace moeprof::cupti {
namespace {

using agent::testing::FakeCollector;
using agent::testing::of_type;
using agent::testing::Record;
using agent::testing::Stream;
using testing::ActivityBuffer;

class AgentSink final : public KernelSink {
 public:
  explicit AgentSink(KernelNames* names) : names_(names) {}
  void kernel(const KernelEvent& event) override {
    const moeprof_gpu_kernel k = to_gpu_kernel(event, names_->lookup(event.name));
    moeprof_record_gpu_kernel(&k);
  }

 private:
  KernelNames* names_;
};

TEST(CuptiToAgent, DecodedKernelsReachTheWireWithKindNameAndLaunch) {
  FakeCollector collector;
  ASSERT_EQ(agent::testing::start_agent(collector), MOEPROF_OK);
  moeprof_step_begin(3);

  StepTable steps(1024);
  steps.remember(10, 2);  // launched during step 2, recorded now, in step 3
  const KernelClassifier classifier;
  KernelNames names(classifier, 64);
  AgentSink sink(&names);
  DecoderOptions options;
  options.correlation_slots = 1024;
  options.steps = &steps;
  ActivityDecoder decoder(options, &sink);
  ActivityBuffer b;
  b.kernel({.correlation_id = 10,
            .start = 5000,
            .end = 7000,
            .name = "_ZN7moeprof7kernels18topk_gating_kernelIfEEvPKT_PiPf",
            .device = 2,
            .stream = 9,
            .grid = {8, 1, 1},
            .block = {256, 1, 1}})
      .launch(10, 4000, 555)
      .kernel({.correlation_id = 11, .start = 8000, .end = 9000, .name = "fill_kernel"})
      .launch(11, 7500, 556);
  decoder.decode(b.data(), b.size());
  moeprof_count_drops(MOEPROF_SOURCE_CUPTI, 2);

  moeprof_shutdown();
  ASSERT_TRUE(collector.wait_for([](const auto& s) { return s.size() == 1 && s[0].closed; }));
  const Stream s = collector.streams()[0];
  ASSERT_EQ(s.error, "");
  const std::vector<Record> kernels = of_type(s, wire::RecordType::kGpuKernel);
  ASSERT_EQ(kernels.size(), 2u);
  const auto k = kernels[0].as<wire::GpuKernel>();
  EXPECT_EQ(+k.start_ns, 5000);
  EXPECT_EQ(+k.end_ns, 7000);
  EXPECT_EQ(+k.launch_ns, 4000);
  EXPECT_EQ(+k.launch_tid, 555u);
  EXPECT_EQ(+k.step, 2) << "the step of the launch, not the current one";
  EXPECT_EQ(+k.device, 2u);
  EXPECT_EQ(+k.stream, 9u);
  EXPECT_EQ(+k.correlation_id, 10u);
  EXPECT_EQ(+k.layer, -1);
  EXPECT_EQ(+k.compute_kind, static_cast<int8_t>(wire::ComputeKind::kGate));
  EXPECT_EQ(+k.grid[0], 8u);
  EXPECT_EQ(+k.block[0], 256u);
  EXPECT_EQ(std::string(kernels[0].var.begin(), kernels[0].var.end()),
            "void moeprof::kernels::topk_gating_kernel<float>(float const*, int*, float*)");
  const auto plain = kernels[1].as<wire::GpuKernel>();
  EXPECT_EQ(+plain.compute_kind, wire::kNoComputeKind);
  EXPECT_EQ(+plain.step, 3) << "no step remembered: the current one";
  EXPECT_EQ(std::string(kernels[1].var.begin(), kernels[1].var.end()), "fill_kernel");

  uint64_t cupti_drops = 0;
  for (const Record& r : of_type(s, wire::RecordType::kDrops)) {
    const auto d = r.as<wire::Drops>();
    if (d.source == static_cast<uint8_t>(wire::Source::kCupti)) cupti_drops += d.count;
  }
  EXPECT_EQ(cupti_drops, 2u);
}

}  // namespace
}  // namespace moeprof::cupti
