// Per-interval samples of a job: at each interval boundary the job thread appends one
// record — IOs and bytes per direction completed in the interval, the sums of its slat,
// clat and lat, and (statistics records) its completion-latency percentiles — to a ring the
// JS thread drains while the job runs. Up to three clocks feed it (IntervalKind): fio's
// bandwidth samples every bw_avg_time ms, its IOPS samples every iops_avg_time ms when that
// differs, and the windows of the averaged latency logs every log_avg_msec ms.
//
// The ring is single producer (the job thread) and single consumer (the JS thread, through
// BenchJob.drainSamples): the producer writes a record, then publishes it with a release
// store of head_; the consumer reads head_ with acquire (so the record's bytes are visible),
// copies, then frees the slots with a release store of tail_, which the producer reads with
// acquire before reusing them. Its memory is allocated before the job's first IO; a push
// costs a copy and two atomic operations, once per interval, never per IO.
//
// A full ring drops the record and counts it (JobResults::intervalDrops); the report names
// the count. The producer is never blocked: a job thread that waited on JS would change
// what it measures. The glue sizes the ring to hold a minute of records at least (see
// sampleRingCapacity), while JS drains it every 50 ms, so a drop means the JS thread was
// stalled for that long.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

namespace phyr::bench {

// One interval. Doubles, so JS reads a record straight from a Float64Array.
struct IntervalRecord {
  double tEndNs;     // end of the interval, ns since the job's measured phase began
  double spanNs;     // its length (the boundary is noticed at the loop's next pass)
  double ios[3];     // read, write, trim completed in the interval
  double bytes[3];
  // The interval's completion latency (clat) percentiles in ns; -1 where the direction
  // completed nothing in the interval.
  double clatP50Ns[3];  // -1 in log-window records too (the logs average; they take no percentiles)
  double clatP99Ns[3];
  double clatP999Ns[3];
  // Sums of the interval's latencies in ns (the log files' window means): slat counts per
  // submitted IO, clat and lat per completed one (ios).
  double slatSumNs[3];
  double slatCount[3];
  double clatSumNs[3];
  double latSumNs[3];
  double kind;  // IntervalKind
};
// kStats: fio's bandwidth samples (and IOPS ones unless kIopsStats runs apart), with the
// timeline's percentiles; kLogWindow: a window of the averaged latency logs; kIopsStats:
// fio's IOPS samples when iops_avg_time differs from bw_avg_time.
enum class IntervalKind : uint32_t { kStats = 0, kLogWindow = 1, kIopsStats = 2 };

// fio's completion-latency histogram layout (fio stat.h, FIO_IO_U_PLAT_BITS 6 and
// FIO_IO_U_PLAT_GROUP_NR 29): values below 128 ns exactly, then 64 bins per power of two, in
// ns; the layout of fio's histogram log lines (write_hist_log).
constexpr uint32_t kFioPlatBits = 6;
constexpr uint32_t kFioPlatNr = 29u << kFioPlatBits;
inline uint32_t fioPlatIndex(uint64_t ns) {
  const uint32_t msb = ns ? 63u - static_cast<uint32_t>(__builtin_clzll(ns)) : 0;
  if (msb <= kFioPlatBits) return static_cast<uint32_t>(ns);
  const uint32_t errorBits = msb - kFioPlatBits;
  const uint32_t idx = ((errorBits + 1) << kFioPlatBits) + static_cast<uint32_t>((ns >> errorBits) & ((1u << kFioPlatBits) - 1));
  return idx < kFioPlatNr ? idx : kFioPlatNr - 1;
}

// One histogram-log window (log_hist_msec): the clat completed in it per direction, in
// fio's bins. Each of the job's clat buckets (TSC ticks, the same 1/64 relative width) goes
// whole to the fio bin of its midpoint in ns.
struct HistRecord {
  double tEndNs;
  double counts[3][kFioPlatNr];
};
constexpr uint32_t kHistFields = sizeof(HistRecord) / sizeof(double);
constexpr uint32_t kHistRingCapacity = 64;  // 3.2 s at 50 ms windows; JS drains every 50 ms
constexpr uint32_t kIntervalFields = sizeof(IntervalRecord) / sizeof(double);
static_assert(sizeof(IntervalRecord) == 30 * sizeof(double), "IntervalRecord is read by JS as 30 doubles");

// A single-producer single-consumer ring: the job thread pushes, the JS thread drains.
template <class Record>
class SpscRing {
 public:
  explicit SpscRing(uint32_t capacity) : slots_(capacity ? capacity : 1) {}
  uint32_t capacity() const { return static_cast<uint32_t>(slots_.size()); }

  // Producer (job thread). False when the ring is full; the record is not stored.
  bool push(const Record& r) {
    const uint64_t head = head_.load(std::memory_order_relaxed);  // only this thread writes it
    if (head - tail_.load(std::memory_order_acquire) >= slots_.size()) return false;
    slots_[head % slots_.size()] = r;
    head_.store(head + 1, std::memory_order_release);  // publishes the record written above
    return true;
  }

  // Consumer (JS thread). Copies up to `max` records in order; returns how many.
  uint32_t drain(Record* out, uint32_t max) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);  // only this thread writes it
    const uint64_t head = head_.load(std::memory_order_acquire);
    uint32_t n = 0;
    for (uint64_t i = tail; i < head && n < max; i++) out[n++] = slots_[i % slots_.size()];
    tail_.store(tail + n, std::memory_order_release);  // the producer may reuse those slots
    return n;
  }

  // Records waiting to be drained (consumer side).
  uint32_t pending() const {
    return static_cast<uint32_t>(head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed));
  }

 private:
  std::vector<Record> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

// The interval records' ring: full, a record is dropped and counted (JobResults::intervalDrops).
using SampleRing = SpscRing<IntervalRecord>;

// One IO of a per-IO latency log (write_lat_log with log_avg_msec=0): its timestamps in TSC
// ticks since the measured phase began (no floating point on the job thread), offset, size
// and direction. The glue converts to ns when JS drains them.
struct IoRecord {
  uint64_t prep;   // prepared (lat starts)
  uint64_t ring;   // doorbell rung (slat ends, clat starts)
  uint64_t done;   // completion reaped
  uint64_t offset; // bytes into the namespace
  uint32_t bytes;
  uint32_t ddir;   // 0 read, 1 write, 2 trim
};

// The per-IO ring: the same single-producer single-consumer protocol as SampleRing. A full
// ring makes the job thread wait for the JS thread to drain it (a log of every IO is
// complete or it is useless); the waits are counted and reported (JobResults::ioLogStalls).
using IoRing = SpscRing<IoRecord>;
// The histogram windows' ring: the same protocol; full, a window is dropped and counted
// (JobResults::histDrops), as the interval records are.
using HistRing = SpscRing<HistRecord>;

// 2^18 records (10 MiB): 50 ms of IO at 5 M IOPS between two drains.
constexpr uint32_t kIoRingCapacity = 1u << 18;

// A minute of records at the interval, at least 256 and at most 65536 (240 bytes each, so
// 15 MiB at most, reached at intervals below 1 ms): JS drains every 50 ms, so the ring
// fills only if the JS thread stalls for about a minute.
inline uint32_t sampleRingCapacity(uint64_t intervalNs) {
  const uint64_t minute = intervalNs ? 60'000'000'000ull / intervalNs + 1 : 0;
  return static_cast<uint32_t>(minute < 256 ? 256 : minute > 65536 ? 65536 : minute);
}

}  // namespace phyr::bench
