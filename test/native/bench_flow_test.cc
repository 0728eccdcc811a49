// fio's flow control in the engine (job_params.h flowShared): a job whose share of the
// flow's IOs is above its weight's share issues nothing more, and at the end it takes its
// IOs and weight out of the shared counters (fio 3.33 flow.c flow_put).
#include <atomic>

#include "bench/native/engine.h"
#include "bench/native/null_queue.h"
#include "check.h"

using namespace phyr::bench;

namespace {

JobParams flowReads(uint64_t* shared, uint32_t weight, uint32_t iodepth) {
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = 1ull << 26;
  p.random = true;
  p.readPercent = 100;
  p.iodepth = iodepth;
  p.timeBased = true;
  p.runtimeNs = 50'000'000ull;
  p.slotBytes = 4096;
  p.bufIova = 1ull << 40;  // never dereferenced: the null queue moves no data
  p.flowShared = shared;
  p.flowWeight = weight;
  return p;
}

}  // namespace

// Another job of weight 1 has issued 100 IOs and issues no more: this job (weight 1 of 2)
// may issue while k / (1 + 100 + k) <= 1/2, so exactly 102 IOs (k = 0 .. 101), then it is
// held until its runtime ends.
TEST(bench_flow_holds_a_job_at_its_weights_share) {
  uint64_t shared[2] = {1 + 100 + 0, 2};
  const JobParams p = flowReads(shared, 1, 1);
  JobResults r;
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr).run();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 102u);
  // flow_put: the job's IOs and weight are out of the flow again.
  CHECK_EQ(shared[0], 101u);
  CHECK_EQ(shared[1], 1u);
}

// Deeper queues count IOs as they are issued: the same bound holds at iodepth 8.
TEST(bench_flow_counts_issued_ios_at_depth) {
  uint64_t shared[2] = {1 + 300, 4};  // others: 300 IOs, weight 3; this job: weight 1
  const JobParams p = flowReads(shared, 1, 8);
  JobResults r;
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr).run();
  CHECK_EQ(r.error, 0);
  // k / (301 + k) <= 1/4  <=>  k <= 100.33: k = 0 .. 100, 101 IOs.
  CHECK_EQ(r.read.ios, 101u);
  CHECK_EQ(shared[0], 301u);
  CHECK_EQ(shared[1], 3u);
}

// With flow_sleep the held job drains and sleeps between tries; the bound is the same.
TEST(bench_flow_sleep_waits_between_tries) {
  uint64_t shared[2] = {1 + 10, 2};
  JobParams p = flowReads(shared, 1, 4);
  p.flowSleepUs = 1000;
  JobResults r;
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr).run();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 12u);  // k / (11 + k) <= 1/2  <=>  k <= 11
  CHECK(r.runtimeNs >= 50'000'000ull);
}
