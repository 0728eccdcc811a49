// fio's latency target search (bench/native/latency_target.h) on a synthetic clock: the
// depth steps fio 3.33 takes (its --debug=rate "Ramped up/down: low depth high" lines) for a
// target always met, one met only below a depth, one never met, latency_run and an empty
// window.
#include <atomic>

#include "bench/native/engine.h"
#include "bench/native/latency_target.h"
#include "bench/native/null_queue.h"
#include "check.h"

using namespace phyr::bench;
using Action = LatencyTarget::Action;

namespace {

constexpr uint64_t kWindow = 100;

// Runs windows of `perWindow` IOs; an IO misses when the depth is at least `failFrom`
// (0: never). Returns the actions of each window's check until the job is done.
struct Sim {
  LatencyTarget lt;
  LatencyStepLog log;
  uint64_t now = 0, ios = 0;
  Action window(uint32_t perWindow, uint32_t failFrom) {
    for (uint32_t i = 0; i < perWindow; i++) {
      ios++;
      if (failFrom && lt.depth() >= failFrom) {
        const Action a = lt.missed(&log);
        if (a != Action::kNone) return a;
      }
    }
    now += kWindow;
    return lt.check(now, ios, &log);
  }
};

bool stepIs(const LatencyStep& s, LatencyStepKind k, uint32_t low, uint32_t depth, uint32_t high) {
  return s.kind == k && s.low == low && s.depth == depth && s.high == high;
}

}  // namespace

TEST(bench_latency_target_met_doubles_to_iodepth_then_runs_a_final_window) {
  Sim s;
  s.lt.init(6, kWindow, 99.0, false, 0, 0);
  CHECK_EQ(s.lt.depth(), 1u);
  CHECK(s.window(10, 0) == Action::kNone);
  CHECK_EQ(s.lt.depth(), 2u);
  CHECK(s.window(10, 0) == Action::kNone);
  CHECK(s.window(10, 0) == Action::kNone);
  CHECK_EQ(s.lt.depth(), 6u);  // 8 clamped to iodepth
  CHECK(s.window(10, 0) == Action::kFinalRun);
  CHECK(s.lt.finalRun());
  CHECK(s.window(10, 0) == Action::kDone);
  // fio 3.33 --debug=rate, iodepth=6: Ramped up 1 2 6, 2 4 6, 4 6 6, 6 6 6 (final run), 6 6 6 (done).
  CHECK_EQ(s.log.count, 7u);
  CHECK(stepIs(s.log.steps[0], LatencyStepKind::kUp, 1, 2, 6));
  CHECK(stepIs(s.log.steps[1], LatencyStepKind::kUp, 2, 4, 6));
  CHECK(stepIs(s.log.steps[2], LatencyStepKind::kUp, 4, 6, 6));
  CHECK(stepIs(s.log.steps[3], LatencyStepKind::kUp, 6, 6, 6));
  CHECK(stepIs(s.log.steps[4], LatencyStepKind::kFinalRun, 6, 6, 6));
  CHECK(stepIs(s.log.steps[5], LatencyStepKind::kUp, 6, 6, 6));
  CHECK(stepIs(s.log.steps[6], LatencyStepKind::kDone, 6, 6, 6));
}

TEST(bench_latency_target_a_failing_depth_bisects_back) {
  Sim s;
  s.lt.init(8, kWindow, 100.0, false, 0, 0);
  CHECK(s.window(10, 4) == Action::kNone);  // 1 -> 2
  CHECK(s.window(10, 4) == Action::kNone);  // 2 -> 4
  CHECK(s.window(10, 4) == Action::kQuiesce);  // the first IO at 4 misses: down to 3
  CHECK_EQ(s.lt.depth(), 3u);
  s.lt.newCycle(s.now, s.ios);
  CHECK(s.window(10, 4) == Action::kFinalRun);  // 3 succeeds and bisects to (3 + 4) / 2 = 3
  CHECK(s.window(10, 4) == Action::kDone);
  CHECK(stepIs(s.log.steps[2], LatencyStepKind::kDown, 2, 3, 4));
  CHECK(stepIs(s.log.steps[3], LatencyStepKind::kUp, 3, 3, 4));
  CHECK_EQ(s.lt.depth(), 3u);
}

TEST(bench_latency_target_percentile_counts_misses_per_window) {
  Sim s;
  s.lt.init(4, kWindow, 50.0, false, 0, 0);
  // 10 IOs, every one missing at depth >= 2: 0 % within target < 50 %, down to 1.
  CHECK(s.window(10, 0) == Action::kNone);
  CHECK_EQ(s.lt.depth(), 2u);
  for (int i = 0; i < 10; i++) s.lt.missed(&s.log);
  s.ios += 10;
  s.now += kWindow;
  CHECK(s.lt.check(s.now, s.ios, &s.log) == Action::kQuiesce);
  CHECK_EQ(s.lt.depth(), 1u);
  s.lt.newCycle(s.now, s.ios);
  // Half of a window missing still meets 50 %.
  for (int i = 0; i < 5; i++) s.lt.missed(&s.log);
  s.ios += 10;
  s.now += kWindow;
  // (1 + 2) / 2 = 1: bisected against the failed depth 2, the depth settles.
  CHECK(s.lt.check(s.now, s.ios, &s.log) == Action::kFinalRun);
  CHECK_EQ(s.lt.depth(), 1u);
}

TEST(bench_latency_target_never_met_stays_at_depth_one) {
  // Percentile 100: the first miss at depth 1 is fatal (fio's lat_fatal, ETIMEDOUT).
  Sim a;
  a.lt.init(8, kWindow, 100.0, false, 0, 0);
  CHECK(a.window(10, 1) == Action::kFatal);
  // Below 100: a failed window at depth 1 changes nothing and starts no new window.
  Sim b;
  b.lt.init(8, kWindow, 90.0, false, 0, 0);
  for (int i = 0; i < 3; i++) CHECK(b.window(10, 1) == Action::kNone);
  CHECK_EQ(b.lt.depth(), 1u);
  CHECK_EQ(b.log.count, 0u);
}

TEST(bench_latency_target_empty_window_fails) {
  Sim s;
  s.lt.init(8, kWindow, 99.0, false, 0, 0);
  CHECK(s.window(10, 0) == Action::kNone);
  CHECK(s.window(10, 0) == Action::kNone);
  CHECK_EQ(s.lt.depth(), 4u);
  CHECK(s.window(0, 0) == Action::kQuiesce);  // 0/0 is no success in fio's comparison
  CHECK_EQ(s.lt.depth(), 3u);
}

TEST(bench_latency_target_run_keeps_searching) {
  Sim s;
  s.lt.init(4, kWindow, 99.0, true, 0, 0);
  for (int i = 0; i < 20; i++) CHECK(s.window(10, 0) == Action::kNone);
  CHECK_EQ(s.lt.depth(), 4u);
  CHECK(!s.lt.finalRun());
  CHECK_EQ(s.log.count, 20u);
}

TEST(bench_latency_target_stable_below_failing_depth_raises_high) {
  Sim s;
  s.lt.init(16, kWindow, 100.0, true, 0, 0);
  s.window(10, 0);  // 1 -> 2
  s.window(10, 0);  // 2 -> 4
  s.window(10, 0);  // 4 -> 8
  CHECK(s.window(10, 8) == Action::kQuiesce);  // 8 fails: (8 + 4) / 2 = 6
  s.lt.newCycle(s.now, s.ios);
  CHECK(s.window(10, 8) == Action::kNone);  // 6 -> (6 + 8) / 2 = 7
  CHECK_EQ(s.lt.depth(), 7u);
  // At 7 = high - 1: the third success in a row raises high to 9, then (7 + 9) / 2 = 8.
  s.window(10, 8);
  s.window(10, 8);
  CHECK_EQ(s.lt.depth(), 7u);
  s.window(10, 8);
  CHECK_EQ(s.lt.depth(), 8u);
  CHECK(stepIs(s.log.steps[s.log.count - 1], LatencyStepKind::kUp, 7, 8, 9));
}

TEST(bench_latency_target_step_log_counts_what_it_drops) {
  LatencyStepLog log;
  for (uint32_t i = 0; i < LatencyStepLog::kMaxSteps + 5; i++) log.add(LatencyStepKind::kUp, 1, 1, 1);
  CHECK_EQ(log.count, LatencyStepLog::kMaxSteps);
  CHECK_EQ(log.dropped, 5u);
}

namespace {

JobParams targetedReads(uint64_t targetNs, double percentile) {
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = 1ull << 26;
  p.random = true;
  p.readPercent = 100;
  p.iodepth = 8;
  p.timeBased = true;
  p.runtimeNs = 5'000'000'000ull;  // a bound only: the search ends the job long before
  p.slotBytes = 4096;
  p.bufIova = 1ull << 40;  // never dereferenced: the null queue moves no data
  p.latencyTargetNs = targetNs;
  p.latencyWindowUs = 20'000;
  p.latencyPercentile = percentile;
  return p;
}

}  // namespace

// The engine with a target the null queue always meets: 1, 2, 4, 8, the final window at 8,
// done; the statistics cover the final window only (its runtime is about one window).
TEST(bench_latency_target_engine_met_reaches_iodepth) {
  const JobParams p = targetedReads(1'000'000'000ull, 99.0);
  JobResults r;
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr).run();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.latencyDepth, 8u);
  CHECK_EQ(r.latencySteps.count, 7u);
  CHECK(stepIs(r.latencySteps.steps[0], LatencyStepKind::kUp, 1, 2, 8));
  CHECK(stepIs(r.latencySteps.steps[2], LatencyStepKind::kUp, 4, 8, 8));
  CHECK(stepIs(r.latencySteps.steps[4], LatencyStepKind::kFinalRun, 8, 8, 8));
  CHECK(stepIs(r.latencySteps.steps[6], LatencyStepKind::kDone, 8, 8, 8));
  CHECK(r.runtimeNs >= 20'000'000ull);
  CHECK(r.runtimeNs < 4'000'000'000ull);  // ended by the search, not the runtime
  CHECK(r.read.ios > 0);
  // The final window ran at depth 8 (fio's "IO depths" bucket 8) and never deeper.
  CHECK(r.depthHist[3] > 0);
  CHECK_EQ(r.depthHist[4], 0u);
}

// A target nothing meets, percentile 100: the first measured IO ends the job at depth 1.
TEST(bench_latency_target_engine_unmet_fails_at_depth_one) {
  const JobParams p = targetedReads(1, 100.0);
  JobResults r;
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr).run();
  CHECK_EQ(r.error, 110);
  CHECK_EQ(r.latencyDepth, 1u);
  CHECK_EQ(r.latencySteps.count, 0u);
  CHECK_EQ(r.read.ios, 1u);  // depth 1: one IO in flight, and the first misses
}

// Without a target the depth is iodepth and no step is logged.
TEST(bench_latency_target_engine_off_reports_iodepth) {
  JobParams p = targetedReads(0, 100.0);
  p.runtimeNs = 20'000'000ull;
  JobResults r;
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr).run();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.latencyDepth, 8u);
  CHECK_EQ(r.latencySteps.count, 0u);
}
