// Interval samples (fio's bw_avg_time / iops_avg_time): the ring's order and its full-ring
// count, and a running job whose records, drained by another thread while it runs (TSan
// case), add up to its totals.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "bench/native/engine.h"
#include "bench/native/null_queue.h"
#include "bench/native/sampler.h"
#include "check.h"

using namespace phyr::bench;

namespace {

JobParams sampledReads(uint64_t ms, uint64_t intervalMs) {
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = 1ull << 26;
  p.random = true;
  p.readPercent = 100;
  p.iodepth = 8;
  p.timeBased = true;
  p.runtimeNs = ms * 1000000ull;
  p.slotBytes = 4096;
  p.bufIova = 1ull << 40;  // never dereferenced: the null queue moves no data
  p.sampleIntervalNs = intervalMs * 1000000ull;
  return p;
}

IntervalRecord recordAt(double t) {
  IntervalRecord r{};
  r.tEndNs = t;
  return r;
}

}  // namespace

TEST(bench_sampler_ring_keeps_order_and_refuses_when_full) {
  SampleRing ring(4);
  for (int i = 0; i < 4; i++) CHECK(ring.push(recordAt(i)));
  CHECK(!ring.push(recordAt(99)));  // full: refused, not overwritten
  IntervalRecord out[8];
  CHECK_EQ(ring.drain(out, 3), 3u);
  CHECK_EQ(out[0].tEndNs, 0.0);
  CHECK_EQ(out[2].tEndNs, 2.0);
  CHECK(ring.push(recordAt(4)));
  CHECK_EQ(ring.drain(out, 8), 2u);
  CHECK_EQ(out[0].tEndNs, 3.0);
  CHECK_EQ(out[1].tEndNs, 4.0);
  CHECK_EQ(ring.pending(), 0u);
}

TEST(bench_sampler_capacity_holds_a_minute) {
  CHECK_EQ(sampleRingCapacity(500'000'000ull), 256u);      // 121 records a minute: the minimum
  CHECK_EQ(sampleRingCapacity(100'000'000ull), 601u);
  CHECK_EQ(sampleRingCapacity(1'000'000ull), 60001u);
  CHECK_EQ(sampleRingCapacity(1'000ull), 65536u);          // the cap
}

// The job's records, drained while it runs, sum to its totals; each interval is about
// the asked length and has percentiles when it completed IO.
TEST(bench_sampler_records_add_up_to_the_job) {
  const JobParams p = sampledReads(450, 50);
  JobResults r;
  SampleRing ring(sampleRingCapacity(p.sampleIntervalNs));
  std::atomic<bool> stop{false}, finished{false};
  NullQueue q(p.iodepth);
  std::thread job([&] {
    JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr, &ring).run();
    finished.store(true, std::memory_order_release);
  });
  std::vector<IntervalRecord> got;
  IntervalRecord buf[16];
  while (!finished.load(std::memory_order_acquire)) {
    const uint32_t n = ring.drain(buf, 16);
    got.insert(got.end(), buf, buf + n);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  job.join();
  for (uint32_t n; (n = ring.drain(buf, 16)) != 0;) got.insert(got.end(), buf, buf + n);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.intervalDrops, 0u);
  // 450 ms at 50 ms: at most 9 whole intervals (the part after the last boundary is not
  // one); fewer when the machine preempts the thread past a boundary (shared CI cores).
  CHECK(got.size() >= 1 && got.size() <= 9);
  double ios = 0, bytes = 0, prevEnd = 0;
  for (const IntervalRecord& x : got) {
    CHECK(x.tEndNs > prevEnd);
    CHECK(x.spanNs >= 50e6);
    CHECK(x.ios[0] > 0);
    CHECK_EQ(x.ios[1], 0.0);
    CHECK_EQ(x.clatP50Ns[1], -1.0);  // no writes: no write percentiles
    CHECK(x.clatP50Ns[0] >= 0 && x.clatP50Ns[0] <= x.clatP99Ns[0] && x.clatP99Ns[0] <= x.clatP999Ns[0]);
    CHECK_EQ(x.bytes[0], x.ios[0] * 4096);
    ios += x.ios[0];
    bytes += x.bytes[0];
    prevEnd = x.tEndNs;
  }
  // What completed after the last boundary is in the totals and in no record.
  CHECK(ios > 0 && ios <= static_cast<double>(r.read.ios));
  CHECK(prevEnd <= static_cast<double>(r.runtimeNs));
  CHECK_EQ(bytes, ios * 4096);
}

// A ring nobody drains fills; each record it could not take is counted.
TEST(bench_sampler_full_ring_counts_drops) {
  const JobParams p = sampledReads(200, 1);
  JobResults r;
  SampleRing ring(2);
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr, &ring).run();
  CHECK_EQ(ring.pending(), 2u);
  CHECK(r.intervalDrops >= 1);  // up to 199 intervals, 2 kept
}

// No ring or no interval: no records and the loop runs as before.
TEST(bench_sampler_off_takes_nothing) {
  JobParams p = sampledReads(50, 0);
  JobResults r;
  SampleRing ring(8);
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr, &ring).run();
  CHECK_EQ(ring.pending(), 0u);
  CHECK_EQ(r.intervalDrops, 0u);
  CHECK(r.read.ios > 0);
}

// Both clocks: statistics records every 100 ms, log windows every 30 ms, told apart by
// their kind; the windows carry latency sums whose means lie in the job's range.
TEST(bench_sampler_log_windows_beside_statistics) {
  JobParams p = sampledReads(320, 100);
  p.logWindowNs = 30'000'000ull;
  JobResults r;
  SampleRing ring(256);
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr, &ring).run();
  IntervalRecord buf[256];
  const uint32_t n = ring.drain(buf, 256);
  uint32_t stats = 0, windows = 0;
  double windowIos = 0;
  for (uint32_t i = 0; i < n; i++) {
    const IntervalRecord& x = buf[i];
    if (x.kind == static_cast<double>(IntervalKind::kStats)) {
      stats++;
      CHECK(x.clatP50Ns[0] >= 0);
    } else {
      CHECK_EQ(x.kind, static_cast<double>(IntervalKind::kLogWindow));
      windows++;
      windowIos += x.ios[0];
      CHECK_EQ(x.clatP50Ns[0], -1.0);  // windows take no percentiles
      CHECK(x.spanNs >= 30e6);
      const double clatMean = x.clatSumNs[0] / x.ios[0];
      const double latMean = x.latSumNs[0] / x.ios[0];
      CHECK(clatMean >= static_cast<double>(r.read.clat.min()) * r.nsPerTick - 1 && clatMean <= static_cast<double>(r.read.clat.max()) * r.nsPerTick + 1);
      CHECK(latMean >= clatMean);
      CHECK(x.slatCount[0] > 0 && x.slatSumNs[0] >= 0);
    }
  }
  CHECK(stats >= 1 && stats <= 3);
  CHECK(windows >= 1 && windows <= 10);
  CHECK(windows > stats);
  CHECK(windowIos <= static_cast<double>(r.read.ios));
  CHECK_EQ(r.intervalDrops, 0u);
}

// The per-IO log ring: every measured IO, in completion order, with consistent timestamps;
// a ring the consumer drains slowly makes the job wait (counted) and loses nothing.
TEST(bench_sampler_per_io_records_every_io) {
  JobParams p = sampledReads(120, 0);
  JobResults r;
  IoRing ring(64);
  std::atomic<bool> stop{false}, finished{false};
  NullQueue q(p.iodepth);
  std::thread job([&] {
    JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr, nullptr, &ring).run();
    finished.store(true, std::memory_order_release);
  });
  uint64_t n = 0, prevDone = 0;
  bool ordered = true, consistent = true;
  IoRecord buf[64];
  for (;;) {
    const bool end = finished.load(std::memory_order_acquire);
    const uint32_t got = ring.drain(buf, 64);
    for (uint32_t i = 0; i < got; i++) {
      const IoRecord& x = buf[i];
      ordered = ordered && x.done >= prevDone;
      consistent = consistent && x.prep <= x.ring && x.ring <= x.done && x.bytes == 4096 && x.ddir == 0 && x.offset % 512 == 0;
      prevDone = x.done;
    }
    n += got;
    if (end && got == 0) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  job.join();
  CHECK(ordered);
  CHECK(consistent);
  CHECK_EQ(n, r.read.ios);  // every measured IO, none lost
  CHECK(r.ioLogStalls > 0);  // 64 slots and a slow consumer: the job waited
  CHECK_EQ(r.ioLogDrops, 0u);
}

// fio's bin of a latency (fio stat.c plat_val_to_idx): exact below 128 ns, then 64 bins
// per power of two.
TEST(bench_sampler_fio_bins) {
  CHECK_EQ(fioPlatIndex(0), 0u);
  CHECK_EQ(fioPlatIndex(127), 127u);
  CHECK_EQ(fioPlatIndex(128), 128u);
  CHECK_EQ(fioPlatIndex(129), 128u);
  CHECK_EQ(fioPlatIndex(130), 129u);
  CHECK_EQ(fioPlatIndex(255), 191u);
  CHECK_EQ(fioPlatIndex(256), 192u);
  CHECK_EQ(fioPlatIndex(~0ull), kFioPlatNr - 1);  // beyond the last group: the last bin
}

// Histogram windows: each window's counts add up to the IOs completed in it, and all of
// them to at most the job's.
TEST(bench_sampler_hist_windows_count_every_io) {
  JobParams p = sampledReads(250, 0);
  p.histWindowNs = 50'000'000ull;
  JobResults r;
  HistRing ring(kHistRingCapacity);
  std::atomic<bool> stop{false};
  NullQueue q(p.iodepth);
  JobEngine<NullQueue>(q, p, r, nullptr, stop, nullptr, nullptr, nullptr, &ring).run();
  auto rec = std::make_unique<HistRecord>();
  uint32_t windows = 0;
  double total = 0, prevEnd = 0;
  while (ring.drain(rec.get(), 1) == 1) {
    windows++;
    double reads = 0, writes = 0;
    for (uint32_t i = 0; i < kFioPlatNr; i++) {
      reads += rec->counts[0][i];
      writes += rec->counts[1][i];
    }
    CHECK(reads > 0);
    CHECK_EQ(writes, 0.0);
    CHECK(rec->tEndNs > prevEnd);
    prevEnd = rec->tEndNs;
    total += reads;
  }
  CHECK(windows >= 1 && windows <= 5);
  CHECK(total <= static_cast<double>(r.read.ios));
  CHECK_EQ(r.histDrops, 0u);
}
