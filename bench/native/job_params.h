// What a benchmark job thread is told to do (filled from the JS job description and
// validated there AND in the glue), what it reports while running (a shared progress
// array) and what it leaves when done.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "bench/native/buffer_fill.h"
#include "bench/native/histogram.h"
#include "bench/native/latency_target.h"
#include "bench/native/random.h"
#include "bench/native/verify.h"
#include "spec/phyr.h"

namespace phyr::bench {

// Block sizes of one direction: fixed (min == max), a range (multiples of min), or a
// weighted split (fio's bssplit; weights in 1/100 percent, cumulative).
struct BlockSizes {
  static constexpr uint32_t kMaxSplit = 16;
  uint32_t min = 4096;
  uint32_t max = 4096;
  uint32_t splitCount = 0;
  uint32_t splitBytes[kMaxSplit] = {};
  uint32_t splitCumulative[kMaxSplit] = {};  // ends at 10000

  template <class R>
  inline uint32_t pick(R& rng) const {
    if (splitCount) {
      const uint32_t r = static_cast<uint32_t>(rng.below(10000));
      for (uint32_t i = 0; i + 1 < splitCount; i++)
        if (r < splitCumulative[i]) return splitBytes[i];
      return splitBytes[splitCount - 1];
    }
    if (min == max) return min;
    return min * (1 + static_cast<uint32_t>(rng.below(max / min)));
  }
};

struct JobParams {
  uint32_t nsid = 1;
  uint32_t lbaSize = 512;
  uint64_t regionLba = 0;       // first LBA of the job's region
  uint64_t regionBytes = 0;     // bytes of the region (multiple of lbaSize)
  bool random = false;
  uint32_t readPercent = 100;   // 100 = read only, 0 = write only, else mixed
  BlockSizes readBs, writeBs;
  uint32_t iodepth = 1;
  uint64_t runtimeNs = 0;       // 0 = bounded by ioBytes only
  uint64_t rampNs = 0;
  bool timeBased = false;
  uint64_t ioBytes = 0;         // bytes to transfer when not time-based (fio's size)
  // fio's rw=MODE:N for sequential modes: bytes skipped after each IO. Forward (N > 0),
  // the pass ends at the region's end, as fio's does; backward (N < 0) the position wraps
  // from the region's start to its last block and the job ends by bytes, as in fio 3.33.
  int64_t seqSkip = 0;
  // fio's write_iolog: each submitted IO as (namespace byte offset, bytes, direction 0 read /
  // 1 write / 2 trim), three doubles (exact below 2^53) into a caller-sized array; nullptr =
  // no log.
  double* ioLog = nullptr;
  uint64_t ioLogCap = 0;        // IOs the array holds
  Distribution dist = Distribution::kUniform;
  double distParam = 0;
  double distCenter = -1;       // fio's distribution center (0..1); -1: none
  bool randomMap = true;
  uint64_t seed = 0x89;         // verify headers carry it; offsets derive from it and `stream`
  uint32_t stream = 0;          // clone index (numjobs): clones draw different offsets
  bool verify = false;          // verify headers on writes; checked on reads
  VerifyKind verifyKind = VerifyKind::kCrc32c;  // the headers' checksum
  bool verifyFatal = false;
  bool doVerify = true;         // after writing, read the written blocks back and check
  uint64_t maxIos = 0;          // fio's number_ios (x loops): stop after this many IOs; 0 = no limit
  // Pacing (fio's rate / rate_iops / rate_process): bytes per second per direction (read,
  // write), 0 = unlimited. The schedule is open loop: each IO has a due time from the bytes
  // issued before it (linear) or from exponential gaps (poisson), independent of when
  // earlier IOs complete; an IO late for its time goes at once, so a slow device meets a
  // backlog, as the offered load of a latency-at-load curve should.
  uint64_t rateBps[2] = {0, 0};
  bool ratePoisson = false;
  // fio's rate_min / rate_iops_min (per direction, 0 = none): after a 2 s settle, every
  // rateCycleNs the rate over the last cycle must reach it, or the job fails with EIO.
  uint64_t rateMinBps[2] = {0, 0};
  uint64_t rateMinIops[2] = {0, 0};
  uint64_t rateCycleNs = 1'000'000'000ull;
  // fio's thinktime: once thinktimeBlocks IOs were issued (or, thinktimeByCompletion, had
  // completed: fio's thinktime_blocks_type=complete) since the last think, or once
  // thinktimeIotimeNs of IO went by (thinktime_iotime; thinktimeBlocks 0: time only), wait
  // for those in flight, spin thinktimeSpinNs, then sleep the rest of thinktimeNs.
  // rateIgnoreThinktime (fio's rate_ignore_thinktime): the rate schedule moves on by the
  // think instead of catching up after it.
  uint64_t thinktimeNs = 0;
  uint64_t thinktimeSpinNs = 0;
  uint32_t thinktimeBlocks = 1;
  bool thinktimeByCompletion = false;
  uint64_t thinktimeIotimeNs = 0;
  bool rateIgnoreThinktime = false;
  // fio's serialize_overlap: a main-phase IO whose blocks overlap an IO in flight waits
  // (drawn, not redrawn) until that one has completed.
  bool serializeOverlap = false;
  uint64_t startDelayNs = 0;    // fio's startdelay: the thread sleeps this long before its first IO
  // fio's fsync=N / fdatasync=N: a Flush (NVM Command Set, Flush command) after every N
  // writes when more IO follows, once the writes in flight complete; the next IO waits for
  // it. endFsync: one Flush at the end of the write phase (not counted, as fio).
  uint32_t fsyncEvery = 0;
  // fio's rw=trim / randtrim: every main IO (drawn as a read of readBs) is a Dataset
  // Management deallocate of its range instead; the range list is the slot's first 16 bytes.
  bool trim = false;
  // fio's readfua / writefua: reads (verify reads too) / writes carry Force Unit Access,
  // Read/Write CDW12 bit 30 (NVM Command Set, Read and Write commands).
  bool readFua = false;
  bool writeFua = false;
  // Batching (fio's iodepth_batch_submit, iodepth_batch_complete_min/_max, iodepth_low):
  // at most batchSubmit commands per SQ doorbell (0 = all a pass submits); after a pass
  // that submitted, reap at least min(batchCompleteMin, in flight) before submitting again
  // (0 or 1 = no wait); at most batchCompleteMax completions per reap (0 = all there are);
  // once iodepth are in flight, submit again only when at most iodepthLow are (0 = iodepth:
  // keep the queue full).
  uint32_t batchSubmit = 0;
  uint32_t batchCompleteMin = 0;
  uint32_t batchCompleteMax = 0;
  uint32_t iodepthLow = 0;
  // fio's blockalign: random offsets are multiples of this (0 = the smallest block size).
  uint32_t blockAlign = 0;
  // fio's percentage_random: in a random job, this share of IOs is random, the rest
  // continue sequentially from the previous IO (100 = all random).
  uint32_t percentageRandom = 100;
  // fio's rw=randMODE:N: a new random offset every randomEvery IOs of a direction; the IOs
  // between go to the same offset (rw_sequencer=identical) or continue sequentially from
  // the last (sequential, fio's default). 1 = every IO random.
  uint32_t randomEvery = 1;
  bool randomIdentical = false;
  // fio's zoned / zoned_abs (dist == kZoned): byte ranges of the region and their
  // cumulative share of the draws (1/100 %, the last 10000); a zone takes whole units.
  uint32_t zoneCount = 0;
  uint64_t zoneStartBytes[OffsetGenerator::kMaxZones] = {};
  uint64_t zoneBytes[OffsetGenerator::kMaxZones] = {};
  uint32_t zoneCum[OffsetGenerator::kMaxZones] = {};
  bool endFsync = false;
  // Data buffers: iodepth slots of slotBytes each, CPU view and device address.
  uint8_t* bufCpu = nullptr;
  uint64_t bufIova = 0;
  uint64_t slotBytes = 0;
  uint32_t bufFlags = 0;        // phyr flags of the buffer memory
  // Per-command timeout: a command with no completion this long after its doorbell fails
  // the job, naming it. Checked at the engine's periodic health check from the doorbell
  // timestamps the loop takes anyway, so it costs no clock read per IO.
  uint64_t cmdTimeoutNs = 10'000'000'000ull;
  // The controller's CSTS register (BAR0 + 1Ch, NVMe base spec "Controller Status"), read
  // at the same periodic check: CFS (bit 1) set, or all ones (the device is gone), ends the
  // job at once, since such a controller completes nothing more. nullptr = not watched.
  const volatile uint32_t* csts = nullptr;
  // fio's bw_avg_time / iops_avg_time: the length of an interval sample (sampler.h); 0 =
  // no samples. Checked at each loop pass against the timestamp the pass takes anyway.
  uint64_t sampleIntervalNs = 0;
  // fio's log_avg_msec for the log files (write_lat_log, write_bw_log, write_iops_log): the
  // length of a log window record (IntervalKind::kLogWindow); 0 = no log windows.
  uint64_t logWindowNs = 0;
  // fio's iops_avg_time when it differs from bw_avg_time (IntervalKind::kIopsStats); 0 =
  // the IOPS samples are the bandwidth samples' records.
  uint64_t iopsIntervalNs = 0;
  // fio's log_hist_msec for write_hist_log: the length of a histogram window (HistRecord);
  // 0 = none.
  uint64_t histWindowNs = 0;
  // fio's continue_on_error and ignore_error, by fio's error types (bit 0 read, bit 1 write
  // — a trim is a write there, as fio types it — bit 2 verify). errorCountTypes: the types
  // whose errors are counted (fio's total_err / first_error), continued or not; continueEio:
  // the types whose EIO (an NVMe error status) the job goes on past; continueTimedOut: the
  // types whose ETIMEDOUT (max_latency exceeded) it goes on past; continueVerify: a block
  // that fails its verify check (EILSEQ) is counted as an error of its IO and the job goes on.
  uint32_t errorCountTypes = 0;
  uint32_t continueEio = 0;
  uint32_t continueTimedOut = 0;
  bool continueVerify = false;
  // fio's max_latency per direction (read, write, trim) in ns, 0 = none: a measured
  // completion whose total latency (prepared to completed, fio's lat) is above it ends the
  // job with ETIMEDOUT, unless continue_on_error goes on past that.
  uint64_t maxLatencyNs[3] = {0, 0, 0};
  // fio's cpus_allowed / cpumask (cpus_allowed_policy=split already applied): the CPUs the
  // job thread is pinned to when it starts, one bit per CPU; all zero = not pinned.
  static constexpr uint32_t kCpuMaskWords = 16;  // CPUs 0..1023
  uint64_t cpuMask[kCpuMaskWords] = {};
  // fio's nice: added to the job thread's nice value when it starts (-20..19; Linux keeps a
  // nice value per thread, so the other threads keep theirs).
  int32_t nice = 0;
  // fio's rw=trimwrite (readPercent 0): sequential trims (Dataset Management deallocates of
  // readBs-sized ranges) and writes of the same blocks, each direction with its own
  // position; the next IO is a trim when the last trim and the last write started at the
  // same offset, else a write (fio's set_rw_ddir). ioBytes counts the writes, as fio's
  // io_bytes_exceeded counts only them in a job that writes.
  bool trimWrite = false;
  // fio's read_iolog: the IOs to replay in order, 4 doubles each (namespace byte offset,
  // bytes, direction 0 read / 1 write / 2 trim, due ns after the job's start, 0 = at once);
  // the region is the whole namespace (regionLba 0) and each IO was checked against it in
  // JS; nullptr = no replay.
  const double* replay = nullptr;
  uint64_t replayCount = 0;
  // What writes carry (fio's buffer options; buffer_fill.h): every slot is filled once
  // before the first IO, then each write refilled or scrambled as `fill` says. Verify
  // kinds that write headers fill their blocks themselves.
  BufferFill fill;
  // fio's verify_pattern: the verify blocks' pattern (required by VerifyKind::kPattern and
  // kPatternHeader; with crc32c or md5 it follows the header). bytes = 0: none.
  BytePattern verifyPattern;
  // fio's %o in verify_pattern: at each of these byte positions of the pattern, 8 bytes of
  // the IO's byte offset (little-endian) are pasted before the pattern fills the IO's blocks
  // (fio's paste_format); the read-back pastes the read's offset, the same IO's.
  static constexpr uint32_t kMaxPatternOffsets = 64;
  uint32_t verifyPatternOffsetCount = 0;
  uint16_t verifyPatternOffsets[kMaxPatternOffsets] = {};
  // fio's verify_interval: one verify header per this many bytes of a write, each interval
  // checksummed on its own (a multiple of lbaSize dividing every block size the job uses;
  // 0 = one header per logical block).
  uint32_t verifyInterval = 0;
  // fio's verify_offset: the header is swapped with the bytes this far into its interval
  // before the write, and swapped back before the check (0 = the header stays at the
  // start; else sizeof(VerifyHeader) .. interval - sizeof(VerifyHeader), so the two
  // ranges never overlap). Header kinds only.
  uint32_t verifyOffset = 0;
  // fio's verify_backlog / verify_backlog_batch (a write job with verify): each write is
  // logged as it is issued; whenever verifyBacklog writes are logged and unverified (and the
  // last completed IO was no read), the next verifyBacklogBatch IOs (0 = verifyBacklog) read
  // back the oldest logged writes, oldest first, each once its write has completed (fio's
  // get_io_u / get_next_verify). The read-back after the write phase reads only the writes
  // not yet verified. 0 = no backlog.
  uint32_t verifyBacklog = 0;
  uint32_t verifyBacklogBatch = 0;
  // fio's verify_only (a write job with verify): the write phase is a dry run that draws the
  // same IOs without issuing them (counted as written, with no latency, as fio's do_dry_run
  // counts them), then the read-back checks what an earlier run with the same options wrote.
  bool verifyOnly = false;
  // fio's verify_dump: a block that fails its checksum or pattern keeps a copy of what was
  // read and of what the job would have written there (JobResults::dumps), for the CLI to
  // write to files as fio's dump_verify_buffers does.
  bool verifyDump = false;
  // fio's latency target mode (latency_target.h): the target in ns (0 = off), the window in
  // us (fio's unit; 0 = every loop pass decides), the share of a window's IOs that must meet
  // the target, and latency_run (keep searching for the whole runtime).
  uint64_t latencyTargetNs = 0;
  uint64_t latencyWindowUs = 0;
  double latencyPercentile = 100.0;
  bool latencyRun = false;
  // fio's flow control (flow_id, flow, flow_sleep): jobs of one flow share two counters,
  // [0] the IOs the flow's jobs issued plus one and [1] the flow's total weight (every job's
  // flow=, added before any starts); a job whose share of [0] is above its weight's share of
  // [1] issues nothing until the others catch up, waiting flowSleepUs after draining if
  // given. At the end the job takes its IOs and weight out (fio's flow_put). nullptr = none.
  uint64_t* flowShared = nullptr;
  uint32_t flowWeight = 0;
  uint64_t flowSleepUs = 0;
};

// Bounds of verifyBacklog and verifyBacklogBatch: the backlog's log is allocated up front.
constexpr uint32_t kMaxVerifyBacklog = 1u << 20;

// Bounds of cmdTimeoutNs (1 ms .. 1 h): below 1 ms a healthy device's queueing delay
// alone could trip it; above an hour it no longer bounds anything.
constexpr uint64_t kMinCmdTimeoutNs = 1'000'000ull;
constexpr uint64_t kMaxCmdTimeoutNs = 3'600'000'000'000ull;

// Progress shared with JS as a Float64Array (so no BigInt), written by the job thread with
// relaxed atomic stores of the double's bits and read by JS at status intervals: values
// are monotonic counters, so a slightly stale read is harmless, and 8-byte aligned stores
// never tear on x86-64.
enum ProgressField : uint32_t {
  kProgState = 0,     // JobState
  kProgReadIos,
  kProgWriteIos,
  kProgReadBytes,
  kProgWriteBytes,
  kProgElapsedNs,     // since the measured phase began (0 during ramp)
  kProgVerifyErrors,
  kProgIoErrors,
  kProgFields
};
enum class JobState : uint32_t { kStarting = 0, kRamp = 1, kRunning = 2, kVerifying = 3, kDone = 4 };

inline void publish(double* progress, ProgressField f, double v) {
  if (!progress) return;
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  __atomic_store_n(reinterpret_cast<uint64_t*>(progress + f), bits, __ATOMIC_RELAXED);
}

struct DirectionStats {
  uint64_t ios = 0;
  uint64_t bytes = 0;
  LatencyHistogram slat, clat, lat;  // in TSC ticks (JobResults::nsPerTick)
};

// The Flushes of fsync=N: how many, and each one's time from its doorbell to its completion.
struct SyncStats {
  uint64_t ios = 0;
  LatencyHistogram lat;  // in TSC ticks
};

struct VerifyFailureRecord {
  uint64_t lba;
  VerifyResult result;
  VerifyHeader found;
  // verify_dump: where this failure's received block starts in JobResults::dumps (its
  // expected block follows it); -1: not dumped.
  int64_t dump = -1;
  uint32_t dumpBytes = 0;  // bytes of each of the two copies (the verify interval)
};

struct JobResults {
  static constexpr uint32_t kMaxFailures = 16;
  DirectionStats read, write, trim;
  SyncStats sync;
  uint64_t runtimeNs = 0;
  // The measured part of the main (write) phase; less than runtimeNs when a verify
  // read-back followed it, whose own time is the rest (each direction reports its phase).
  uint64_t mainPhaseNs = 0;
  uint64_t userNs = 0, systemNs = 0, contextSwitches = 0;
  uint64_t majorFaults = 0, minorFaults = 0;  // the job thread's page faults while measuring
  uint64_t depthHist[7] = {};  // in flight after a submit: 1, 2, 4, 8, 16, 32, >=64
  uint64_t verifyChecked = 0;  // blocks checked
  uint64_t verifyErrors = 0;
  uint32_t failureCount = 0;
  VerifyFailureRecord failures[kMaxFailures] = {};
  // verify_dump: per dumped failure, the verify interval as received then as expected;
  // reserved before the first IO (at most kMaxFailures pairs), so a failure never allocates.
  std::vector<uint8_t> dumps;
  // fio's verify state (verify_state_save): the byte offsets of the last iodepth writes that
  // completed, a ring (lastWritesCount of them, the next one at lastWritesNext).
  std::vector<uint64_t> lastWrites;
  uint64_t lastWritesCount = 0;
  uint32_t lastWritesNext = 0;
  // Where the thread's time went, from the TSC. busyTicks: passes that submitted or
  // reaped something (waiting on an empty completion queue is excluded). The driver's
  // share is sampled: one pass in 16 times each submit / doorbell / reap call; each
  // sampled pass records its driver time / its IOs (submitted or reaped, whichever is
  // more), and driverNsPerIo is the median — robust to passes a preemption landed in.
  uint64_t busyTicks = 0, busyNs = 0, sampledDriverTicks = 0, sampledIos = 0;
  LatencyHistogram driverPerIo;  // ticks per IO of each sampled pass
  double driverNsPerIo = 0;
  double nsPerTick = 1;  // latency histograms are in TSC ticks; multiply for ns
  uint64_t prpCommands = 0, sglCommands = 0, splitCommands = 0, childCommands = 0, bounces = 0;
  uint64_t intervalDrops = 0;  // interval records the sample ring had no room for (sampler.h)
  uint64_t ioLogStalls = 0;    // times the job thread waited for room in the per-IO log ring
  uint64_t ioLogStallNs = 0;   // and how long, in all
  uint64_t ioLogDrops = 0;     // IOs left out of it because the job was stopped while waiting
  uint64_t histDrops = 0;      // histogram windows the ring had no room for
  uint64_t ioLogCount = 0;  // IOs submitted while logging (more than ioLogCap: the log overflowed)
  // 0, or an errno-like code: 5 = EIO (NVMe status, or CSTS.CFS), 19 = ENODEV (CSTS reads
  // all ones), 22 = EINVAL (submit refused), 110 = ETIMEDOUT (a command timed out).
  int32_t error = 0;
  uint32_t errorStatus = 0;    // NVMe status field of the first failed IO
  uint64_t errorLba = 0;
  char errorText[320] = {};
  // fio's total_err_count and first_error (continue_on_error): the errors of a counted type,
  // those the job went on past and the one that ended it, and the first of them.
  uint64_t totalErrors = 0;
  int32_t firstError = 0;
  char firstErrorText[192] = {};
  // fio's latency_depth: the depth the latency target search ended at (iodepth without a
  // target), and the search's decisions in order.
  uint32_t latencyDepth = 0;
  LatencyStepLog latencySteps;
};

}  // namespace phyr::bench
