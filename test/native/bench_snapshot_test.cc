// --status-interval's snapshots: another thread asks a running job for its results so far
// and gets a consistent, growing copy while the loop keeps going (runs under TSan too).
#include <atomic>
#include <chrono>
#include <thread>

#include "bench/native/engine.h"
#include "bench/native/null_queue.h"
#include "check.h"

using namespace phyr::bench;

namespace {

JobParams timedReads(uint32_t depth, uint64_t ms) {
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = 1ull << 26;
  p.random = true;
  p.readPercent = 100;
  p.iodepth = depth;
  p.timeBased = true;
  p.runtimeNs = ms * 1000000ull;
  p.slotBytes = 4096;
  p.bufIova = 1ull << 40;  // never dereferenced: the null queue moves no data
  return p;
}

// Asks for a snapshot the way the addon does; false when the job did not answer in time.
bool ask(ResultsSnapshot& s, const std::atomic<bool>& finished) {
  const uint32_t want = s.requested.load(std::memory_order_relaxed) + 1;
  s.requested.store(want, std::memory_order_release);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (s.answered.load(std::memory_order_acquire) != want) {
    if (finished.load(std::memory_order_acquire) || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

}  // namespace

TEST(bench_snapshot_thread_answers_while_running) {
  JobParams p = timedReads(8, 400);
  p.readBs.min = p.readBs.max = 4096;
  JobResults r;
  ResultsSnapshot snap;
  std::atomic<bool> stop{false}, finished{false};
  NullQueue q(p.iodepth);
  std::thread job([&] {
    JobEngine<NullQueue>(q, p, r, nullptr, stop, &snap).run();
    finished.store(true, std::memory_order_release);
  });
  uint64_t lastIos = 0, lastRuntime = 0;
  int answered = 0;
  for (int i = 0; i < 3; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    if (!ask(snap, finished)) break;
    answered++;
    const JobResults& s = snap.results;
    CHECK(s.read.ios > lastIos);
    CHECK(s.runtimeNs > lastRuntime);
    CHECK_EQ(s.read.clat.count(), s.read.ios);
    CHECK_EQ(s.read.bytes, s.read.ios * 4096);
    CHECK_EQ(s.write.ios, 0u);
    lastIos = s.read.ios;
    lastRuntime = s.runtimeNs;
  }
  job.join();
  CHECK_EQ(answered, 3);
  CHECK(r.read.ios >= lastIos);
  CHECK(r.runtimeNs >= lastRuntime);
  CHECK_EQ(r.error, 0);
}
