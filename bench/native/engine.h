// The benchmark's closed-loop job engine: one instance per job, run on its own thread,
// driving one queue pair. It keeps `iodepth` IOs in flight, picks direction, block size
// and offset for each, stamps submit and completion times from the TSC, records slat /
// clat / lat in native histograms, writes and checks verify headers, and publishes
// progress to a shared array. Nothing on this path allocates, crosses into JS or locks.
//
// The engine is a template over its queue so the native tests drive it against an
// in-memory queue and the addon against the driver's QueuePair (queue_adapter.h). A
// Queue provides:
//   QueueSubmitInfo submit(const QueueIo&);           // writes the SQE(s), no doorbell
//   void ring();                                       // one SQ tail doorbell per batch
//   uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max);  // reaps completions
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <cerrno>
#include <cstring>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "bench/native/clock.h"
#include "bench/native/job_params.h"
#include "bench/native/sampler.h"
#include "spec/nvme.h"

namespace phyr::bench {

struct QueueIo {
  bool write;
  uint32_t nsid;
  uint64_t lba;
  uint32_t blocks;
  uint32_t lbaSize;
  const PhyrEntry* data;
  uint32_t dataCount;
  uint64_t tag;
  bool flush = false;  // a Flush (no LBA, no data) instead of a read or write
  bool trim = false;   // a Dataset Management deallocate of lba/blocks; data holds its range
  uint32_t cdw12Extra = 0;  // ORed into a read's or write's CDW12 (FUA, bit 30)
};

enum class QueueSubmit : uint8_t { kOk, kFull, kError };
// Data-pointer format the queue chose, for the report.
enum class DptrKind : uint8_t { kPrp = 0, kSgl = 1, kSplit = 2, kBounce = 3, kNone = 4 };
struct QueueSubmitInfo {
  QueueSubmit result;
  DptrKind format;
  uint32_t children;
  const char* why;  // for kError
};

// Checks params for what would make the loop misbehave; returns a sentence or nullptr.
const char* validateJobParams(const JobParams& p);

// The results so far, copied by the job thread on request (--status-interval). Another
// thread bumps `requested` (release); at its next loop pass the job thread copies its
// results into `results`, then stores `answered` = requested (release). The asker reads
// `results` only after an acquire load of `answered` shows its request, and asks again only
// after that, so the two threads never touch `results` at once.
struct ResultsSnapshot {
  std::atomic<uint32_t> requested{0};
  std::atomic<uint32_t> answered{0};
  JobResults results;
};

template <class Queue>
class JobEngine {
 public:
  // samples: the ring interval records go to, every params.sampleIntervalNs (statistics)
  // and every params.logWindowNs (log windows); nullptr, or both 0: no records.
  JobEngine(Queue& queue, const JobParams& params, JobResults& results, double* progress,
            const std::atomic<bool>& stop, ResultsSnapshot* snapshot = nullptr, SampleRing* samples = nullptr, IoRing* ioRing = nullptr,
            HistRing* histRing = nullptr)
      : q_(queue), p_(params), r_(results), progress_(progress), stop_(stop), snapshot_(snapshot),
        filler_(params.fill, mix64(params.seed) ^ (static_cast<uint64_t>(params.stream) << 32)), samples_(samples), ioRing_(ioRing), histRing_(histRing) {}

  void run();

 private:
  struct Slot {
    uint64_t tPrep;
    uint64_t tRing;
    uint64_t lba;
    uint32_t blocks;
    uint32_t piece;  // verify_backlog: the write's entry in the backlog log
    bool write;
    bool inFlight;  // submitted and not completed (the periodic health check scans these)
    bool flush;     // a Flush of fsync=N (counted) or end_fsync (not)
    bool counted;
    bool trim;      // a Dataset Management deallocate (rw=trim, randtrim, trimwrite)
    bool verifyRead;  // a verify_backlog read-back during the write phase
  };
  // verify_backlog: a write logged for verification as it was issued (fio's io_piece).
  struct Piece {
    uint64_t offset;  // in the region
    uint32_t bytes;   // 0: its write failed (continue_on_error), nothing to verify
    bool done;        // its write completed
  };
  static constexpr uint32_t kPollBatch = 256;
  static constexpr uint32_t kSamplePeriod = 16;  // power of two
  enum class Phase { kMain, kVerify, kDrain };

  enum class Next { kIo, kNotYet, kDone };
  // The per-IO draw stays inlined in the loop; the shaping options' work is called out of
  // line (cold), so a plain job's IO path does not grow with them.
  [[gnu::always_inline]] inline Next nextMainIo(uint64_t now, bool* write, uint64_t* offset, uint32_t* bytes);
  [[gnu::noinline, gnu::cold]] Next nextReplayIo(uint64_t now, bool* write, uint64_t* offset, uint32_t* bytes);
  [[gnu::noinline, gnu::cold]] bool rateDirection(bool write, uint64_t now) const;
  [[gnu::noinline, gnu::cold]] void advanceRate(bool write, uint32_t bytes);
  [[gnu::noinline, gnu::cold]] void afterShapedIssue(bool write, uint32_t bytes);
  void sleepUntil(uint64_t until);
  uint64_t think(uint64_t deadline);
  [[gnu::noinline, gnu::cold]] bool thinkDue(uint64_t count);
  [[gnu::noinline, gnu::cold]] void thinkAfterFullQueue();
  [[gnu::noinline, gnu::cold]] bool overlapsInFlight(uint64_t lba, uint32_t blocks) const;
  [[gnu::noinline, gnu::cold]] void rateSkipsThink(uint64_t spent);
  bool rateTooLow(uint64_t now);
  bool moreMainIo() const;
  bool submitFlush(bool counted);
  bool nextVerifyIo(uint64_t* offset, uint32_t* bytes);
  [[gnu::noinline, gnu::cold]] Next nextBacklogIo(uint64_t* offset, uint32_t* bytes);
  [[gnu::noinline, gnu::cold]] void logPiece(Slot& s, uint64_t offset, uint32_t bytes);
  [[gnu::noinline, gnu::cold]] void backlogCompleted(const Slot& s, uint16_t status);
  [[gnu::noinline, gnu::cold]] void dryRun();
  void fillVerify(uint8_t* buf, const Slot& s);
  const BytePattern* ioPattern(const Slot& s);
  void swapHeader(uint8_t* interval) const;
  [[gnu::noinline]] void fillWrite(uint8_t* buf, uint32_t bytes, uint64_t offset, uint64_t stamp);
  void complete(uint32_t slot, uint16_t status, uint64_t now);
  void checkRead(const Slot& s);
  void fail(int32_t code, uint32_t status, uint64_t lba, const char* text);
  // fio's continue_on_error: counts an error of a counted type; true when the job goes on.
  [[gnu::noinline, gnu::cold]] bool continued(uint32_t type, int32_t code, const char* text);
  [[gnu::noinline, gnu::cold]] void latencyExceeded(const Slot& s, uint64_t lat, uint32_t dir);
  const char* pinThread() const;
  void resetMeasurement(uint64_t now);
  void publishProgress(uint64_t now);
  void finishTimes(JobResults& out, uint64_t now) const;
  void answerSnapshot(uint64_t now, uint32_t request);
  [[gnu::noinline, gnu::cold]] void takeSamples(uint64_t now);
  [[gnu::noinline]] void logIos(const uint64_t* tags, const uint16_t* status, uint32_t n, uint64_t now);
  void logIo(const Slot& s, uint64_t now);
  void restartSamples(uint64_t now);
  bool unhealthy(uint64_t now, uint64_t timeoutTicks);
  uint32_t oldestInFlight() const;
  void describeSlot(char* out, size_t size, const Slot& s, uint64_t now) const;

  Queue& q_;
  const JobParams& p_;
  JobResults& r_;
  double* progress_;
  const std::atomic<bool>& stop_;
  ResultsSnapshot* snapshot_;

  std::vector<Slot> slots_;
  std::vector<PhyrEntry> entries_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> batch_;
  std::vector<uint64_t> written_;  // one bit per LBA of the region (verify bookkeeping)
  Rng rng_;
  OffsetGenerator offsets_;
  BufferFiller filler_;
  bool perWriteFill_ = false;      // refill_buffers or scramble_buffers touch every write
  uint64_t unit_ = 0;              // random offsets are multiples of this many bytes
  uint32_t lbaShift_ = 0;          // log2(lbaSize): bytes <-> blocks without a division
  uint64_t seqPos_[3] = {0, 0, 0};   // sequential position per direction (read, write, trimwrite's trims)
  uint64_t seqPrev_[3] = {0, 0, 0};  // the position before the last IO (restored if its submit is refused)
  uint64_t verifyPos_ = 0;
  uint64_t issuedBytes_ = 0;
  uint64_t writeSeq_ = 0;
  uint32_t inflight_ = 0;
  uint32_t depthLimit_ = 0;        // IOs allowed in flight: iodepth, or the latency target's depth (0 while it drains)
  Phase phase_ = Phase::kMain;
  bool stopIssuing_ = false;
  bool measuring_ = false;
  uint64_t tMeasure_ = 0;
  uint64_t tMainEnd_ = 0;          // when the verify read-back began (0: it did not)
  ThreadCpu cpu0_{};
  // Pacing (rate / rate_iops): the due time of each direction's next IO, in ticks.
  bool rated_ = false;
  bool shaped_ = false;            // pacing, number_ios, thinktime, fsync, batch_submit, percentage_random or trims
  uint64_t ticksPerSec_ = 0;
  uint64_t rateStart_ = 0;
  uint64_t rateIssued_[2] = {0, 0};
  uint64_t rateDue_[2] = {0, 0};
  double poissonMeanTicks_[2] = {0, 0};
  Rng poissonRng_;                 // its own stream: pacing leaves the offsets unchanged
  int pendingDir_ = -1;            // the direction drawn for an IO that waits for its due time
  uint64_t holdUntil_ = 0;         // that IO's due time
  uint64_t issuedIos_ = 0;         // main-phase IOs issued (number_ios)
  // thinktime: IOs completed without error (fio's io_blocks; thinktime_blocks_type=complete
  // counts these, issue counts issuedIos_), the count and (thinktime_iotime) the time the
  // last think was decided at, and the direction of the IO that set it off.
  uint64_t thinkCompleted_ = 0;
  uint64_t thinkMark_ = 0;
  uint64_t lastThinkAt_ = 0;
  uint64_t thinkIotimeTicks_ = 0;  // thinktime_iotime + thinktime
  bool thinkWrite_ = false;
  bool thinkAtReap_ = false;       // complete: an IO filled the queue, the test waits for the reap
  uint64_t thinkFullCount_ = 0;    // the completions counted when it did
  bool thinkPending_ = false;      // thinktime due once the IOs in flight complete
  // serialize_overlap: a drawn IO held back because it overlaps one in flight.
  bool held_ = false;
  bool heldWrite_ = false;
  uint64_t heldOffset_ = 0;
  uint32_t heldBytes_ = 0;
  uint32_t writesSinceSync_ = 0;
  bool syncPending_ = false;       // a Flush due once the IOs in flight complete
  bool flushInFlight_ = false;     // the next IO waits for it
  bool endFsyncDone_ = false;
  bool lastWasSeq_ = false;        // the last IO drawn continued sequentially (undone if the queue was full)
  // rw=randMODE:N: IOs left before the next random offset (one count for all directions,
  // as fio's), and per direction the offset its next IO between takes; lastEvery_: the
  // last IO counted against them (undone likewise).
  uint32_t randomLeft_ = 0;
  uint64_t randomNext_[3] = {0, 0, 0};
  bool lastEvery_ = false;
  uint32_t lastPosIndex_ = 0;      // its seqPos_ index
  // trimwrite: the next IO drawn is a trim; where the last trim and write started (fio's
  // last_start), and the value it replaced (restored if its submit is refused).
  bool nextTrim_ = false;
  uint64_t lastStart_[2] = {UINT64_MAX, UINT64_MAX};  // [write, trim]
  uint64_t prevLastStart_ = UINT64_MAX;
  uint64_t replayPos_ = 0;         // read_iolog: the next IO of the log
  uint64_t replayStart_ = 0;       // and the tick its due times count from
  uint64_t lastLoggedWrite_ = 0;   // write_iolog: the last write's offset (a sync is logged at it)
  bool draining_ = false;          // iodepth_low: the queue filled; reap down to the mark first
  uint32_t reapNeeded_ = 0;        // iodepth_batch_complete_min: completions owed before the next submit
  uint32_t reapedSinceSubmit_ = 0;
  // rate_min / rate_iops_min: the counters at the start of the current check cycle.
  bool rateMinWatched_ = false;
  bool rateBaseline_ = false;
  uint64_t rateBaseTime_ = 0;
  uint64_t rateBaseBytes_[2] = {0, 0};
  uint64_t rateBaseIos_[2] = {0, 0};
  uint64_t overhead_ = 0;
  // An interval between two TSC reads, less what the reads themselves cost.
  uint64_t timed(uint64_t a, uint64_t b) const { return b - a > overhead_ ? b - a - overhead_ : 0; }
  // verify_interval, verify_backlog and verify_only (job_params.h).
  uint32_t verifyUnit_ = 0;        // bytes per verify header (verify_interval, else the LBA size)
  BytePattern ioPattern_;          // verify_pattern with %o: the current IO's copy (ioPattern)
  bool backlogOn_ = false;
  std::vector<Piece> backlog_;     // a ring, allocated up front
  uint64_t backlogHead_ = 0;       // absolute counts: the oldest unverified piece
  uint64_t backlogTail_ = 0;       // and the next one to log
  uint32_t verifyBatch_ = 0;       // backlog reads still due in the current batch (fio's verify_batch)
  bool lastDoneRead_ = false;      // the last IO completed was a read (fio's last_ddir)
  // Interval samples and the per-IO log, after the loop's own state so that its layout (and
  // the cache lines its hot fields share) is what it was without them.
  SampleRing* samples_;
  IoRing* ioRing_;  // per-IO latency log (nullptr: none)
  HistRing* histRing_;  // histogram log windows (nullptr: none)
  std::vector<uint64_t> histPrev_;   // 3 x LatencyHistogram::kBuckets counts at the window's start
  std::unique_ptr<HistRecord> histScratch_;  // the window being built (44 KiB, allocated up front)
  // Interval samples: one clock per IntervalKind, each with the counters as they stood at
  // the start of its interval. The pass that finds now >= nextSample_ (the earlier clock's
  // boundary; UINT64_MAX: not sampling) records what is due.
  struct SampleClock {
    uint64_t ticks = 0;  // interval length; 0 = off
    uint64_t next = UINT64_MAX;
    uint64_t start = 0;
    uint64_t ios[3] = {0, 0, 0}, bytes[3] = {0, 0, 0}, slatCount[3] = {0, 0, 0};
    uint64_t slatSum[3] = {0, 0, 0}, clatSum[3] = {0, 0, 0}, latSum[3] = {0, 0, 0};
  };
  void takeSample(SampleClock& c, IntervalKind kind, uint64_t now);
  void takeHist(SampleClock& c, uint64_t now);
  SampleClock clocks_[4];  // by IntervalKind, then the histogram windows' clock
  uint64_t nextSample_ = UINT64_MAX;
  std::vector<uint64_t> sampleClat_;  // 3 x LatencyHistogram::kBuckets counts (statistics clock)
  // max_latency per direction (read, write, trim) in ticks; UINT64_MAX = none, so the check
  // of a job without it is one compare that never holds.
  uint64_t maxLatTicks_[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
  // fio's latency target mode (latency_target.h): the target in ticks (UINT64_MAX = off, one
  // compare per IO that never holds), the search, and the drain a decision asked for.
  uint64_t latTargetTicks_ = UINT64_MAX;
  bool latOn_ = false;
  bool latQuiesce_ = false;        // no new IO until those in flight complete
  bool latFinalPending_ = false;   // then reset the statistics for the final window
  LatencyTarget lat_;
  void latencyMissed(const Slot& s, uint64_t lat, uint32_t dir);
  void latencyPass(uint64_t now, uint64_t& deadline);
  uint64_t completedIos() const { return r_.read.ios + r_.write.ios + r_.trim.ios; }
  // fio's flow control (job_params.h flowShared): this job's IOs counted in the flow, and a
  // flow_sleep due once the IOs in flight complete.
  uint64_t flowCount_ = 0;
  bool flowSleep_ = false;
  bool flowHeld();
  void flowIssued() {
    __atomic_fetch_add(&p_.flowShared[0], 1, __ATOMIC_RELAXED);
    flowCount_++;
  }
};

template <class Queue>
void JobEngine<Queue>::fail(int32_t code, uint32_t status, uint64_t lba, const char* text) {
  if (r_.error == 0) {
    r_.error = code;
    r_.errorStatus = status;
    r_.errorLba = lba;
    std::snprintf(r_.errorText, sizeof(r_.errorText), "%s", text);
  }
  stopIssuing_ = true;
}

// fio's break_on_this_error: an error of a type continue_on_error names is counted
// (total_err; the first one's code is first_error); the job goes on past it when its code
// is one of the type's non-fatal errors (fio: EIO and EILSEQ, or ignore_error's list).
template <class Queue>
bool JobEngine<Queue>::continued(uint32_t type, int32_t code, const char* text) {
  const uint32_t bit = 1u << type;
  if (!(p_.errorCountTypes & bit)) return false;
  if (r_.totalErrors++ == 0) {
    r_.firstError = code;
    std::snprintf(r_.firstErrorText, sizeof(r_.firstErrorText), "%s", text);
  }
  if (code == 5 /* EIO */) return p_.continueEio & bit;
  if (code == 110 /* ETIMEDOUT */) return p_.continueTimedOut & bit;
  if (code == 84 /* EILSEQ */) return p_.continueVerify;
  return false;
}

// fio's max_latency (lat_fatal): a completion slower than the direction's maximum ends the
// job with ETIMEDOUT, in fio's words; the IO itself has been counted, as fio counts it.
template <class Queue>
void JobEngine<Queue>::latencyExceeded(const Slot& s, uint64_t lat, uint32_t dir) {
  const double k = nsPerTick();
  char text[sizeof(r_.errorText)];
  std::snprintf(text, sizeof(text), "max latency exceeded: latency of %llu nsec exceeds specified max (%llu nsec): %s of %u blocks at LBA %llu",
                static_cast<unsigned long long>(static_cast<double>(lat) * k), static_cast<unsigned long long>(p_.maxLatencyNs[dir]),
                s.write ? "write" : dir == 2 ? "trim" : "read", s.blocks, static_cast<unsigned long long>(s.lba));
  if (continued(dir == 0 ? 0 : 1, 110, text)) return;
  fail(110 /* ETIMEDOUT */, 0, s.lba, text);
}

// fio's latency target: an IO above the target (lat_target_failed). With percentile 100 it
// ramps the depth down at once, or at depth 1 ends the job as fio's lat_fatal does.
template <class Queue>
void JobEngine<Queue>::latencyMissed(const Slot& s, uint64_t lat, uint32_t dir) {
  const LatencyTarget::Action a = lat_.missed(&r_.latencySteps);
  if (a == LatencyTarget::Action::kQuiesce) {
    latQuiesce_ = true;
    depthLimit_ = 0;
    return;
  }
  if (a != LatencyTarget::Action::kFatal) return;
  char text[sizeof(r_.errorText)];
  std::snprintf(text, sizeof(text), "max latency exceeded: latency of %llu nsec exceeds specified max (%llu nsec) at queue depth 1 (latency_target): %s of %u blocks at LBA %llu",
                static_cast<unsigned long long>(static_cast<double>(lat) * nsPerTick()), static_cast<unsigned long long>(p_.latencyTargetNs),
                s.write ? "write" : dir == 2 ? "trim" : "read", s.blocks, static_cast<unsigned long long>(s.lba));
  if (continued(dir == 0 ? 0 : 1, 110, text)) return;
  fail(110 /* ETIMEDOUT */, 0, s.lba, text);
}

// fio's latency target, once per loop pass (lat_target_check, and the io_u_quiesce its
// decisions call): finishes a drain, or lets the search decide when a window is over.
template <class Queue>
void JobEngine<Queue>::latencyPass(uint64_t now, uint64_t& deadline) {
  if (latQuiesce_) {
    if (inflight_ != 0) return;
    latQuiesce_ = false;
    if (latFinalPending_) {
      // fio's reset_all_stats and reset_io_stats: the final window's statistics only, and
      // the size and runtime budgets start again from here (fio resets its epoch).
      latFinalPending_ = false;
      resetMeasurement(now);
      issuedBytes_ = 0;
      issuedIos_ = 0;
      if (p_.runtimeNs) deadline = now + static_cast<uint64_t>(static_cast<double>(p_.runtimeNs) / nsPerTick());
    }
    lat_.newCycle(now, completedIos());
    depthLimit_ = lat_.depth();
    return;
  }
  if (!measuring_ || phase_ != Phase::kMain || stopIssuing_) return;
  switch (lat_.check(now, completedIos(), &r_.latencySteps)) {
    case LatencyTarget::Action::kNone: depthLimit_ = lat_.depth(); break;
    case LatencyTarget::Action::kFinalRun: latFinalPending_ = true; [[fallthrough]];
    case LatencyTarget::Action::kQuiesce: latQuiesce_ = true; depthLimit_ = 0; break;
    case LatencyTarget::Action::kDone: stopIssuing_ = true; break;
    case LatencyTarget::Action::kFatal: break;
  }
}

// fio's flow_threshold_exceeded, before each main-phase IO: held back while this job's share
// of the flow's IOs is above its weight's share of the flow's weight. The IO is counted in
// the flow once it is issued (flowIssued): fio counts each pass of its loop, which issues
// one IO, its rate waits being inside the pass; phyr's passes also find IOs not yet due.
template <class Queue>
bool JobEngine<Queue>::flowHeld() {
  if (flowSleep_) return true;
  const double mine = static_cast<double>(flowCount_) / static_cast<double>(__atomic_load_n(&p_.flowShared[0], __ATOMIC_RELAXED));
  const double share = static_cast<double>(p_.flowWeight) / static_cast<double>(__atomic_load_n(&p_.flowShared[1], __ATOMIC_RELAXED));
  if (mine <= share) return false;
  flowSleep_ = p_.flowSleepUs != 0;
  return true;
}

// fio's cpus_allowed / cpumask: pins the calling (job) thread; a sentence when it cannot.
template <class Queue>
const char* JobEngine<Queue>::pinThread() const {
  cpu_set_t set;
  CPU_ZERO(&set);
  bool any = false;
  for (uint32_t w = 0; w < JobParams::kCpuMaskWords; w++) {
    for (uint32_t b = 0; b < 64; b++) {
      if (!((p_.cpuMask[w] >> b) & 1)) continue;
      const uint32_t cpu = w * 64 + b;
      if (cpu >= CPU_SETSIZE) return "a CPU of cpus_allowed is beyond this system's CPU set size";
      CPU_SET(cpu, &set);
      any = true;
    }
  }
  if (!any) return nullptr;
  if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) return "cannot pin the job thread to its CPUs (cpus_allowed / cpumask): pthread_setaffinity_np refused them";
  return nullptr;
}

template <class Queue>
void JobEngine<Queue>::resetMeasurement(uint64_t now) {
  r_.read = DirectionStats{};
  r_.write = DirectionStats{};
  r_.sync = SyncStats{};
  r_.trim = DirectionStats{};
  std::fill(std::begin(r_.depthHist), std::end(r_.depthHist), 0);
  r_.prpCommands = r_.sglCommands = r_.splitCommands = r_.childCommands = r_.bounces = 0;
  r_.sampledDriverTicks = r_.sampledIos = r_.busyTicks = 0;
  r_.driverPerIo.reset();
  tMeasure_ = now;
  cpu0_ = threadCpu();
  measuring_ = true;
  restartSamples(now);
}

// The first interval starts with the measured phase (fio takes no samples during the ramp).
template <class Queue>
void JobEngine<Queue>::restartSamples(uint64_t now) {
  for (SampleClock& c : clocks_) {
    const uint64_t ticks = c.ticks;
    c = SampleClock{};
    c.ticks = ticks;
    c.start = now;
    c.next = ticks ? now + ticks : UINT64_MAX;
  }
  std::fill(sampleClat_.begin(), sampleClat_.end(), 0);
  std::fill(histPrev_.begin(), histPrev_.end(), 0);
  nextSample_ = std::min({clocks_[0].next, clocks_[1].next, clocks_[2].next, clocks_[3].next});
}

template <class Queue>
void JobEngine<Queue>::takeSamples(uint64_t now) {
  if (now >= clocks_[0].next) takeSample(clocks_[0], IntervalKind::kStats, now);
  if (now >= clocks_[1].next) takeSample(clocks_[1], IntervalKind::kLogWindow, now);
  if (now >= clocks_[2].next) takeSample(clocks_[2], IntervalKind::kIopsStats, now);
  if (now >= clocks_[3].next) takeHist(clocks_[3], now);
  nextSample_ = std::min({clocks_[0].next, clocks_[1].next, clocks_[2].next, clocks_[3].next});
}

// One histogram window: the growth of each direction's clat histogram since the window
// began, moved into fio's ns bins (HistRecord).
template <class Queue>
void JobEngine<Queue>::takeHist(SampleClock& c, uint64_t now) {
  const double k = nsPerTick();
  HistRecord& rec = *histScratch_;
  rec.tEndNs = static_cast<double>(now - tMeasure_) * k;
  const DirectionStats* dirs[3] = {&r_.read, &r_.write, &r_.trim};
  constexpr size_t kB = LatencyHistogram::kBuckets;
  for (int d = 0; d < 3; d++) {
    std::fill(std::begin(rec.counts[d]), std::end(rec.counts[d]), 0.0);
    uint64_t* prev = &histPrev_[d * kB];
    for (size_t i = 0; i < kB; i++) {
      const uint64_t n = dirs[d]->clat.bucketCount(i);
      if (n == prev[i]) continue;
      rec.counts[d][fioPlatIndex(static_cast<uint64_t>(static_cast<double>(LatencyHistogram::bucketValue(i)) * k + 0.5))] += static_cast<double>(n - prev[i]);
      prev[i] = n;
    }
  }
  if (!histRing_->push(rec)) r_.histDrops++;
  c.start = now;
  c.next = now + c.ticks;
}

// One interval's record: what completed since the clock's last boundary, the sums of its
// latencies, and (statistics clock) the percentiles of the clat histogram's growth over it
// (the difference of its buckets now and then), so the IO path records each latency once.
// The next interval starts now, as fio's does (fio measures each interval from the time the
// previous sample was taken).
template <class Queue>
void JobEngine<Queue>::takeSample(SampleClock& c, IntervalKind kind, uint64_t now) {
  const double k = nsPerTick();
  IntervalRecord rec{};
  rec.kind = static_cast<double>(kind);
  rec.tEndNs = static_cast<double>(now - tMeasure_) * k;
  rec.spanNs = static_cast<double>(now - c.start) * k;
  const DirectionStats* dirs[3] = {&r_.read, &r_.write, &r_.trim};
  constexpr size_t kB = LatencyHistogram::kBuckets;
  for (int d = 0; d < 3; d++) {
    const DirectionStats& s = *dirs[d];
    rec.ios[d] = static_cast<double>(s.ios - c.ios[d]);
    rec.bytes[d] = static_cast<double>(s.bytes - c.bytes[d]);
    rec.slatCount[d] = static_cast<double>(s.slat.count() - c.slatCount[d]);
    rec.slatSumNs[d] = static_cast<double>(s.slat.sum() - c.slatSum[d]) * k;
    rec.clatSumNs[d] = static_cast<double>(s.clat.sum() - c.clatSum[d]) * k;
    rec.latSumNs[d] = static_cast<double>(s.lat.sum() - c.latSum[d]) * k;
    c.ios[d] = s.ios;
    c.bytes[d] = s.bytes;
    c.slatCount[d] = s.slat.count();
    c.slatSum[d] = s.slat.sum();
    c.clatSum[d] = s.clat.sum();
    c.latSum[d] = s.lat.sum();
    rec.clatP50Ns[d] = rec.clatP99Ns[d] = rec.clatP999Ns[d] = -1;
    if (kind != IntervalKind::kStats) continue;
    uint64_t* prev = &sampleClat_[d * kB];
    uint64_t total = 0;
    for (size_t i = 0; i < kB; i++) total += s.clat.bucketCount(i) - prev[i];
    if (total == 0) continue;
    // Ranks as LatencyHistogram::percentile counts them: the ceil(p% x n)-th sample.
    const double ps[3] = {50.0, 99.0, 99.9};
    double* outs[3] = {&rec.clatP50Ns[d], &rec.clatP99Ns[d], &rec.clatP999Ns[d]};
    uint64_t rank[3];
    for (int j = 0; j < 3; j++) {
      rank[j] = static_cast<uint64_t>(std::ceil(ps[j] / 100.0 * static_cast<double>(total) - 1e-9));
      if (rank[j] == 0) rank[j] = 1;
    }
    uint64_t seen = 0;
    int next = 0;
    for (size_t i = 0; i < kB; i++) {
      const uint64_t n = s.clat.bucketCount(i);
      seen += n - prev[i];
      prev[i] = n;
      while (next < 3 && seen >= rank[next]) *outs[next++] = std::round(static_cast<double>(LatencyHistogram::bucketValue(i)) * k);
    }
  }
  if (!samples_->push(rec)) r_.intervalDrops++;
  c.start = now;
  c.next = now + c.ticks;
}

template <class Queue>
void JobEngine<Queue>::publishProgress(uint64_t now) {
  if (!progress_) return;
  publish(progress_, kProgReadIos, static_cast<double>(r_.read.ios));
  publish(progress_, kProgWriteIos, static_cast<double>(r_.write.ios));
  publish(progress_, kProgReadBytes, static_cast<double>(r_.read.bytes));
  publish(progress_, kProgWriteBytes, static_cast<double>(r_.write.bytes));
  publish(progress_, kProgElapsedNs, measuring_ ? static_cast<double>(now - tMeasure_) * nsPerTick() : 0.0);
  publish(progress_, kProgVerifyErrors, static_cast<double>(r_.verifyErrors));
  publish(progress_, kProgIoErrors, r_.error ? 1.0 : 0.0);
}

// Runtime, CPU time and the derived figures of `out`, measured up to `now`.
template <class Queue>
void JobEngine<Queue>::finishTimes(JobResults& out, uint64_t now) const {
  const double k = nsPerTick();
  const ThreadCpu cpu1 = threadCpu();
  out.runtimeNs = measuring_ ? static_cast<uint64_t>(static_cast<double>(now - tMeasure_) * k) : 0;
  // A read-back that began during the ramp leaves the main phase nothing measured.
  const uint64_t mainEnd = tMainEnd_ ? tMainEnd_ : now;
  out.mainPhaseNs = measuring_ && mainEnd > tMeasure_ ? static_cast<uint64_t>(static_cast<double>(mainEnd - tMeasure_) * k) : 0;
  out.userNs = measuring_ ? cpu1.userNs - cpu0_.userNs : 0;
  out.systemNs = measuring_ ? cpu1.systemNs - cpu0_.systemNs : 0;
  out.contextSwitches = measuring_ ? cpu1.contextSwitches - cpu0_.contextSwitches : 0;
  out.majorFaults = measuring_ ? cpu1.majorFaults - cpu0_.majorFaults : 0;
  out.minorFaults = measuring_ ? cpu1.minorFaults - cpu0_.minorFaults : 0;
  out.nsPerTick = k;
  out.busyNs = static_cast<uint64_t>(static_cast<double>(out.busyTicks) * k);
  out.driverNsPerIo = static_cast<double>(out.driverPerIo.percentile(50)) * k;
}

// Copies the results so far for the thread that asked (once per status interval, so the
// copy of a few hundred KiB of histograms stays off the per-IO path).
template <class Queue>
void JobEngine<Queue>::answerSnapshot(uint64_t now, uint32_t request) {
  snapshot_->results = r_;
  finishTimes(snapshot_->results, now);
  snapshot_->answered.store(request, std::memory_order_release);
}

// The in-flight slot rung longest ago, or UINT32_MAX when none is in flight.
template <class Queue>
uint32_t JobEngine<Queue>::oldestInFlight() const {
  uint32_t oldest = UINT32_MAX;
  for (uint32_t i = 0; i < p_.iodepth; i++) {
    if (slots_[i].inFlight && (oldest == UINT32_MAX || slots_[i].tRing < slots_[oldest].tRing)) oldest = i;
  }
  return oldest;
}

// "read (opcode 02h) of 8 blocks at LBA 96, 2001 ms after its doorbell" (NVM Command Set:
// Read is 02h, Write 01h).
template <class Queue>
void JobEngine<Queue>::describeSlot(char* out, size_t size, const Slot& s, uint64_t now) const {
  const double ms = static_cast<double>(now - s.tRing) * nsPerTick() / 1e6;
  if (s.flush) {
    std::snprintf(out, size, "flush (opcode 00h), %.0f ms after its doorbell", ms);
    return;
  }
  if (s.trim) {
    std::snprintf(out, size, "dataset management (opcode 09h) deallocating %u blocks at LBA %llu, %.0f ms after its doorbell", s.blocks,
                  static_cast<unsigned long long>(s.lba), ms);
    return;
  }
  std::snprintf(out, size, "%s (opcode %02Xh) of %u blocks at LBA %llu, %.0f ms after its doorbell", s.write ? "write" : "read",
                s.write ? 0x01u : 0x02u, s.blocks, static_cast<unsigned long long>(s.lba), ms);
}

// The periodic health check (every few ms, not per IO): the controller's CSTS, then the
// age of the oldest command in flight. Fails the job and returns true when it must end
// now: a controller with CSTS.CFS set, or gone, or a command past its timeout, completes
// nothing more, so waiting for the IOs in flight would hang the job.
template <class Queue>
bool JobEngine<Queue>::unhealthy(uint64_t now, uint64_t timeoutTicks) {
  char cmd[128] = "none";
  const uint32_t oldest = oldestInFlight();
  if (oldest != UINT32_MAX) describeSlot(cmd, sizeof(cmd), slots_[oldest], now);
  char text[sizeof(r_.errorText)];
  if (p_.csts) {
    const uint32_t csts = *p_.csts;
    if (csts == 0xFFFFFFFFu) {
      std::snprintf(text, sizeof(text), "the controller is gone: CSTS reads all ones (removed, or its link is down); %u command(s) in flight, the oldest: %s",
                    inflight_, cmd);
      fail(19 /* ENODEV */, 0, oldest == UINT32_MAX ? 0 : slots_[oldest].lba, text);
      return true;
    }
    if (csts & nvme::CSTS_CFS) {
      std::snprintf(text, sizeof(text), "controller fatal status: CSTS.CFS = 1 (CSTS = 0x%x), the controller completes nothing until it is reset; %u command(s) in flight, the oldest: %s",
                    csts, inflight_, cmd);
      fail(5 /* EIO */, 0, oldest == UINT32_MAX ? 0 : slots_[oldest].lba, text);
      return true;
    }
  }
  if (oldest != UINT32_MAX && now - slots_[oldest].tRing > timeoutTicks) {
    std::snprintf(text, sizeof(text), "command timed out: %s with no completion (cmd_timeout %.0f ms); %u command(s) in flight",
                  cmd, static_cast<double>(p_.cmdTimeoutNs) / 1e6, inflight_);
    fail(110 /* ETIMEDOUT */, 0, slots_[oldest].lba, text);
    return true;
  }
  return false;
}

// fio's choice of direction under a rate: the drawn direction if its IO is due; in a mixed
// job the other one if that is due instead; else whichever is due first.
template <class Queue>
bool JobEngine<Queue>::rateDirection(bool w, uint64_t now) const {
  if (rateDue_[w] <= now) return w;
  if (p_.readPercent == 0 || p_.readPercent >= 100) return w;
  if (rateDue_[!w] <= now) return !w;
  return rateDue_[w] <= rateDue_[!w] ? w : !w;
}

// The due time of the direction's next IO. linear: when the bytes issued so far are due at
// the rate (fio's schedule, so a late IO is followed by a catch-up, not a shifted
// timeline); poisson: an exponential gap of mean min-block-size / rate after the last one.
template <class Queue>
void JobEngine<Queue>::advanceRate(bool write, uint32_t bytes) {
  const int d = write ? 1 : 0;
  if (!p_.rateBps[d]) return;
  rateIssued_[d] += bytes;
  if (p_.ratePoisson) {
    rateDue_[d] += static_cast<uint64_t>(poissonMeanTicks_[d] * -std::log(1.0 - poissonRng_.unit()));
  } else {
    rateDue_[d] = rateStart_ + static_cast<uint64_t>(static_cast<unsigned __int128>(rateIssued_[d]) * ticksPerSec_ / p_.rateBps[d]);
  }
}

// Sleeps in slices of at most 10 ms (so stop() is seen), waking a little before `until`
// and spinning the rest: sleeps overshoot by tens of µs, pacing must not.
template <class Queue>
void JobEngine<Queue>::sleepUntil(uint64_t until) {
  const double k = nsPerTick();
  const uint64_t margin = static_cast<uint64_t>(60e3 / k), slice = static_cast<uint64_t>(10e6 / k);
  for (uint64_t t = ticks(); t < until && !stop_.load(std::memory_order_relaxed); t = ticks()) {
    if (until - t > margin) sleepNs(static_cast<uint64_t>(static_cast<double>(std::min(until - t - margin, slice)) * k));
  }
}

// fio's thinktime, once the IOs in flight have completed: spin thinktime_spin, then sleep
// the rest of thinktime (never past the job's deadline). Returns the ticks it took.
template <class Queue>
uint64_t JobEngine<Queue>::think(uint64_t deadline) {
  const double k = nsPerTick();
  const uint64_t t0 = ticks();
  const uint64_t spinEnd = std::min(deadline, t0 + static_cast<uint64_t>(static_cast<double>(p_.thinktimeSpinNs) / k));
  while (ticks() < spinEnd && !stop_.load(std::memory_order_relaxed)) {
  }
  sleepUntil(std::min(deadline, t0 + static_cast<uint64_t>(static_cast<double>(p_.thinktimeNs) / k)));
  return ticks() - t0;
}

// fio's test after each IO issued: think once thinktime_iotime of IO went by since the last
// think, or once the count (IOs completed, fio's default thinktime_blocks_type=complete, or
// issued) reached thinktime_blocks more than at the last think. As fio, the count kept is
// the one seen now, before the IOs in flight drain: at iodepth > 1 those drained IOs count
// towards the next think (backend.c, handle_thinktime). fio 3.33 times the IO from when the
// last think was decided, the think included, so IO runs thinktime_iotime after each think
// and the first stretch, from the job's start, thinktime_iotime + thinktime (measured:
// iotime=100ms thinktime=300ms issues for 400 ms, then 100 ms between thinks).
template <class Queue>
bool JobEngine<Queue>::thinkDue(uint64_t count) {
  bool due = false;
  uint64_t now = 0;
  if (p_.thinktimeIotimeNs) {
    now = ticks();
    if (now - lastThinkAt_ >= thinkIotimeTicks_) due = true;
    else if (p_.thinktimeBlocks == 0) return false;  // time only (thinktime_blocks not given)
  }
  if (p_.thinktimeBlocks && count >= thinkMark_ + p_.thinktimeBlocks) due = true;
  if (due) {
    thinkMark_ = count;
    if (p_.thinktimeIotimeNs) lastThinkAt_ = now;
  }
  return due;
}

// serialize_overlap: whether blocks [lba, lba + blocks) share a block with a read, write
// or trim in flight (fio's in_flight_overlap; a scan of the slots, only with the option).
template <class Queue>
bool JobEngine<Queue>::overlapsInFlight(uint64_t lba, uint32_t blocks) const {
  for (const Slot& s : slots_) {
    if (s.inFlight && !s.flush && s.lba < lba + blocks && lba < s.lba + s.blocks) return true;
  }
  return false;
}

// thinktime_blocks_type=complete after an IO that filled the queue: fio reaps before its
// test, iodepth_batch_complete_min completions (default 1) at a time, so the test counts
// that many of this reap (at iodepth=1: the IO just issued, as with issue).
template <class Queue>
void JobEngine<Queue>::thinkAfterFullQueue() {
  thinkAtReap_ = false;
  const uint64_t seen = std::min<uint64_t>(thinkCompleted_, thinkFullCount_ + std::max<uint32_t>(1, p_.batchCompleteMin));
  if (thinkDue(seen)) thinkPending_ = true;
}

// fio's rate_ignore_thinktime: after a think of `spent` ticks, the direction of the IO that
// set it off counts the bytes it would have issued meanwhile, less one block, so its next IO
// goes at once and the ones after at the rate, instead of a catch-up burst (poisson: its
// arrivals move on by the think).
template <class Queue>
void JobEngine<Queue>::rateSkipsThink(uint64_t spent) {
  const int d = thinkWrite_ ? 1 : 0;
  if (!p_.rateBps[d] || spent == 0) return;
  if (p_.ratePoisson) {
    rateDue_[d] += spent;
  } else {
    const uint64_t missed = static_cast<uint64_t>(static_cast<unsigned __int128>(spent) * p_.rateBps[d] / ticksPerSec_);
    const uint64_t bs = d ? p_.writeBs.min : p_.readBs.min;
    const uint64_t ticksPerOp = static_cast<uint64_t>(static_cast<unsigned __int128>(bs) * ticksPerSec_ / p_.rateBps[d]);
    const uint64_t over = ticksPerOp <= spent ? bs : 0;
    if (missed > over) rateIssued_[d] += missed - over;
    rateDue_[d] = rateStart_ + static_cast<uint64_t>(static_cast<unsigned __int128>(rateIssued_[d]) * ticksPerSec_ / p_.rateBps[d]);
  }
  if (pendingDir_ == d) holdUntil_ = rateDue_[d];
}

// fio's rate_min / rate_iops_min: after a 2 s settle, the first check takes a baseline;
// each later one, a rate_check cycle on, fails the job (EIO, as fio) when a direction that
// has done IO fell below its minimum over the cycle.
template <class Queue>
bool JobEngine<Queue>::rateTooLow(uint64_t now) {
  const double k = nsPerTick();
  if (!measuring_ || phase_ != Phase::kMain || static_cast<double>(now - tMeasure_) * k < 2e9) return false;
  const DirectionStats* dir[2] = {&r_.read, &r_.write};
  if (rateBaseline_) {
    const double spentNs = static_cast<double>(now - rateBaseTime_) * k;
    if (spentNs < static_cast<double>(p_.rateCycleNs)) return false;
    for (int d = 0; d < 2; d++) {
      if (!dir[d]->bytes) continue;
      char text[sizeof(r_.errorText)];
      const auto bps = static_cast<unsigned long long>(static_cast<double>(dir[d]->bytes - rateBaseBytes_[d]) * 1e9 / spentNs);
      const auto iops = static_cast<unsigned long long>(static_cast<double>(dir[d]->ios - rateBaseIos_[d]) * 1e9 / spentNs);
      if (p_.rateMinBps[d] && bps < p_.rateMinBps[d]) {
        std::snprintf(text, sizeof(text), "rate_min=%lluB/s not met, got %lluB/s (%s)", static_cast<unsigned long long>(p_.rateMinBps[d]), bps, d ? "write" : "read");
      } else if (p_.rateMinIops[d] && iops < p_.rateMinIops[d]) {
        std::snprintf(text, sizeof(text), "rate_iops_min=%llu not met, got %llu IOPS (%s)", static_cast<unsigned long long>(p_.rateMinIops[d]), iops, d ? "write" : "read");
      } else {
        continue;
      }
      fail(5 /* EIO */, 0, 0, text);
      return true;
    }
  }
  rateBaseline_ = true;
  rateBaseTime_ = now;
  for (int d = 0; d < 2; d++) rateBaseBytes_[d] = dir[d]->bytes, rateBaseIos_[d] = dir[d]->ios;
  return false;
}

// Whether the main phase has IO left to issue (fio's fsync=N flushes only between IOs).
template <class Queue>
bool JobEngine<Queue>::moreMainIo() const {
  if (p_.timeBased) return true;
  // A replayed log's sync is issued wherever it stands, its last line too (fio replays it).
  if (p_.replay) return true;
  return issuedBytes_ < p_.ioBytes && !(p_.maxIos && issuedIos_ >= p_.maxIos);
}

// Submits a Flush in a free slot and rings for it; false when the queue is full (retried
// on a later pass) or refused it (the job fails).
template <class Queue>
bool JobEngine<Queue>::submitFlush(bool counted) {
  const uint32_t slot = free_.back();
  Slot& s = slots_[slot];
  const QueueSubmitInfo info = q_.submit(QueueIo{false, p_.nsid, 0, 0, p_.lbaSize, nullptr, 0, slot, true});
  if (info.result == QueueSubmit::kFull) return false;
  if (info.result == QueueSubmit::kError) {
    fail(22, 0, 0, info.why ? info.why : "the queue refused the flush");
    return false;
  }
  free_.pop_back();
  s.lba = 0;
  s.blocks = 0;
  s.write = false;
  s.flush = true;
  s.trim = false;
  s.counted = counted;
  s.inFlight = true;
  inflight_++;
  flushInFlight_ = true;
  q_.ring();
  s.tPrep = s.tRing = ticks();
  if (p_.ioLog) {
    // fio's write_iolog logs a sync at the offset of the last write, with length 0.
    if (r_.ioLogCount < p_.ioLogCap) {
      double* e = p_.ioLog + 3 * r_.ioLogCount;
      e[0] = static_cast<double>(lastLoggedWrite_);
      e[1] = 0;
      e[2] = 3.0;
    }
    r_.ioLogCount++;
  }
  return true;
}

// number_ios, pacing, thinktime and fsync bookkeeping after a main-phase IO was issued.
template <class Queue>
void JobEngine<Queue>::afterShapedIssue(bool write, uint32_t bytes) {
  issuedIos_++;
  if (rated_) advanceRate(write, bytes);
  if (p_.thinktimeNs) {
    thinkWrite_ = write;
    if (p_.thinktimeByCompletion && inflight_ >= p_.iodepth) {
      thinkAtReap_ = true;
      thinkFullCount_ = thinkCompleted_;
    } else if (thinkDue(p_.thinktimeByCompletion ? thinkCompleted_ : issuedIos_)) {
      thinkPending_ = true;
    }
  }
  if (write && p_.fsyncEvery && ++writesSinceSync_ >= p_.fsyncEvery) {
    writesSinceSync_ = 0;
    syncPending_ = true;
  }
}

template <class Queue>
typename JobEngine<Queue>::Next JobEngine<Queue>::nextMainIo(uint64_t now, bool* write, uint64_t* offset, uint32_t* bytes) {
  if (shaped_ && p_.replay) [[unlikely]] return nextReplayIo(now, write, offset, bytes);
  if (!p_.timeBased && issuedBytes_ >= p_.ioBytes) return Next::kDone;
  // fio's number_ios ends a size-bound job early; a time-based one starts over until its
  // runtime is up, so there it limits nothing.
  if (shaped_ && !p_.timeBased && p_.maxIos && issuedIos_ >= p_.maxIos) return Next::kDone;
  bool w;
  if (shaped_ && pendingDir_ >= 0) {
    w = pendingDir_ == 1;
  } else {
    w = p_.readPercent == 0 ? true : p_.readPercent >= 100 ? false : rng_.below(100) >= p_.readPercent;
    if (rated_) w = rateDirection(w, now);
  }
  if (shaped_) [[unlikely]] {
    if (rated_ && rateDue_[w] > now) {
      pendingDir_ = w ? 1 : 0;
      holdUntil_ = rateDue_[w];
      return Next::kNotYet;
    }
    pendingDir_ = -1;
    holdUntil_ = 0;
  }
  // trimwrite (fio's set_rw_ddir): a trim when the last trim and write started together.
  const bool trimNow = shaped_ && p_.trimWrite && lastStart_[0] == lastStart_[1];
  uint32_t bs = (w && !trimNow ? p_.writeBs : p_.readBs).pick(rng_);
  if (bs > p_.regionBytes) bs = static_cast<uint32_t>(p_.regionBytes);
  uint64_t off;
  const bool random = p_.random && (!shaped_ || p_.percentageRandom >= 100 || rng_.below(100) < p_.percentageRandom);
  const uint32_t pi = trimNow ? 2 : w ? 1 : 0;
  uint64_t& pos = seqPos_[pi];
  lastEvery_ = random && shaped_ && p_.randomEvery > 1;
  if (lastEvery_ && randomLeft_ > 0) [[unlikely]] {
    // fio's rw=randMODE:N between two random offsets: the direction's last offset again
    // (identical) or the next one on (sequential); a direction that has had no random
    // offset yet starts at the region's start, as fio's. A sequential run past the
    // region's end ends the job, as fio 3.33's does; time-based, it draws afresh.
    off = randomNext_[pi];
    if (off + bs > p_.regionBytes) {
      if (!p_.randomIdentical && !p_.timeBased) return Next::kDone;
      off = p_.randomIdentical ? (p_.regionBytes - bs) / unit_ * unit_ : offsets_.next() * unit_;
      if (off + bs > p_.regionBytes) off = (p_.regionBytes - bs) / unit_ * unit_;
    }
    randomLeft_--;
    randomNext_[pi] = p_.randomIdentical ? off : off + bs;
  } else if (random) {
    off = offsets_.next() * unit_;
    if (off + bs > p_.regionBytes) off = (p_.regionBytes - bs) / unit_ * unit_;
    // percentage_random: a sequential IO continues from the last one, random or not (fio).
    if (shaped_ && p_.percentageRandom < 100) pos = off + bs;
    if (lastEvery_) {
      randomLeft_ = p_.randomEvery - 1;
      randomNext_[pi] = p_.randomIdentical ? off : off + bs;
    }
  } else {
    if (pos + bs > p_.regionBytes) {
      // A forward skip ends the pass at the region's end (fio's rw=MODE:N); otherwise wrap
      // (time_based, or mixed directions).
      if (p_.seqSkip > 0 && !p_.timeBased) return Next::kDone;
      pos = 0;
    }
    seqPrev_[pi] = pos;
    off = pos;
    const int64_t next = static_cast<int64_t>(pos) + bs + p_.seqSkip;
    // Backward past the start: continue from the last block, as fio 3.33 does.
    pos = next >= 0 ? static_cast<uint64_t>(next) : p_.regionBytes - bs - static_cast<uint64_t>(-next);
  }
  lastWasSeq_ = !random;
  lastPosIndex_ = pi;
  if (shaped_ && p_.trimWrite) [[unlikely]] {
    nextTrim_ = trimNow;
    prevLastStart_ = lastStart_[trimNow];
    lastStart_[trimNow] = off;
    if (trimNow) {
      *write = false;
      *offset = off;
      *bytes = bs;
      return Next::kIo;  // not counted in ioBytes: the writes are
    }
  }
  *write = w;
  *offset = off;
  *bytes = bs;
  issuedBytes_ += bs;
  return Next::kIo;
}

// fio's read_iolog: the log's next IO, once it is due (its time after the job's start;
// fio's default replay_no_stall=0 keeps the log's timing); the log's end ends the job.
template <class Queue>
typename JobEngine<Queue>::Next JobEngine<Queue>::nextReplayIo(uint64_t now, bool* write, uint64_t* offset, uint32_t* bytes) {
  if (replayPos_ >= p_.replayCount) return Next::kDone;
  const double* e = p_.replay + 4 * replayPos_;
  if (e[3] > 0) {
    const uint64_t due = replayStart_ + static_cast<uint64_t>(e[3] / nsPerTick());
    if (due > now) {
      holdUntil_ = due;
      return Next::kNotYet;
    }
  }
  holdUntil_ = 0;
  replayPos_++;
  const uint32_t dir = static_cast<uint32_t>(e[2]);
  if (dir == 3) {
    // A sync line: a Flush once the IOs in flight complete (the loop's fsync path), then on.
    syncPending_ = true;
    return Next::kNotYet;
  }
  nextTrim_ = dir == 2;
  lastWasSeq_ = false;
  *write = dir == 1;
  *offset = static_cast<uint64_t>(e[0]);
  *bytes = static_cast<uint32_t>(e[1]);
  issuedBytes_ += *bytes;
  return Next::kIo;
}

template <class Queue>
bool JobEngine<Queue>::nextVerifyIo(uint64_t* offset, uint32_t* bytes) {
  if (backlogOn_) {
    // verify_backlog: the writes not yet verified, oldest first, each as it was written
    // (fio's do_verify reads its io_piece list in order).
    while (backlogHead_ < backlogTail_) {
      const Piece& h = backlog_[backlogHead_++ % backlog_.size()];
      if (!h.bytes) continue;
      *offset = h.offset;
      *bytes = h.bytes;
      return true;
    }
    return false;
  }
  // Read back the region in slot-sized chunks (whole verify intervals), skipping chunks
  // with no written block.
  const uint64_t chunk = p_.slotBytes / verifyUnit_ * verifyUnit_;
  while (verifyPos_ < p_.regionBytes) {
    const uint64_t len = std::min<uint64_t>(chunk, p_.regionBytes - verifyPos_);
    const uint64_t firstLba = verifyPos_ / p_.lbaSize, n = len / p_.lbaSize;
    bool any = false;
    for (uint64_t i = firstLba; i < firstLba + n && !any; i++) any = (written_[i >> 6] >> (i & 63)) & 1;
    const uint64_t off = verifyPos_;
    verifyPos_ += len;
    if (any) {
      *offset = off;
      *bytes = static_cast<uint32_t>(len);
      return true;
    }
  }
  return false;
}

// The verify headers of a write: one per verify interval (verify_interval, else per
// logical block), each naming the interval's first LBA.
template <class Queue>
void JobEngine<Queue>::fillVerify(uint8_t* buf, const Slot& s) {
  const uint32_t step = verifyUnit_ >> lbaShift_;
  const BytePattern* pattern = ioPattern(s);
  for (uint32_t b = 0; b < s.blocks; b += step) {
    uint8_t* at = buf + (static_cast<uint64_t>(b) << lbaShift_);
    fillVerifyBlock(at, verifyUnit_, s.lba + b, writeSeq_, p_.seed, p_.verifyKind, pattern);
    if (p_.verifyOffset) [[unlikely]] swapHeader(at);
  }
}

// The verify pattern of one IO: verify_pattern itself, or with %o a copy with the IO's byte
// offset pasted at each %o position (8 bytes, little-endian, as fio's paste_format).
template <class Queue>
const BytePattern* JobEngine<Queue>::ioPattern(const Slot& s) {
  if (p_.verifyPatternOffsetCount == 0) return &p_.verifyPattern;
  ioPattern_ = p_.verifyPattern;
  const uint64_t offset = s.lba << lbaShift_;
  for (uint32_t i = 0; i < p_.verifyPatternOffsetCount; i++) std::memcpy(ioPattern_.data + p_.verifyPatternOffsets[i], &offset, 8);
  return &ioPattern_;
}

// verify_offset: exchanges the header at an interval's start with the bytes at the offset
// (validated not to overlap); the same call undoes it.
template <class Queue>
void JobEngine<Queue>::swapHeader(uint8_t* interval) const {
  uint8_t tmp[sizeof(VerifyHeader)];
  std::memcpy(tmp, interval, sizeof(tmp));
  std::memcpy(interval, interval + p_.verifyOffset, sizeof(tmp));
  std::memcpy(interval + p_.verifyOffset, tmp, sizeof(tmp));
}

// fio's get_io_u with verify_backlog: when the log holds a multiple of verify_backlog
// unverified writes and the last IO completed was no read, a batch of verify_backlog_batch
// read-backs starts; each takes the oldest logged write once it has completed (while it is
// in flight the job writes on, as fio's get_next_verify falls back to a normal IO). kDone:
// no read-back now (draw a main IO); kNotYet: the log is full and its oldest write still in
// flight, so the job waits for it. The writes end the phase: none once size= is issued.
template <class Queue>
typename JobEngine<Queue>::Next JobEngine<Queue>::nextBacklogIo(uint64_t* offset, uint32_t* bytes) {
  if (!moreMainIo()) return Next::kDone;
  const uint64_t cap = backlog_.size();
  while (backlogHead_ < backlogTail_ && backlog_[backlogHead_ % cap].done && !backlog_[backlogHead_ % cap].bytes) backlogHead_++;  // failed writes
  const uint64_t len = backlogTail_ - backlogHead_;
  if (len == 0) return Next::kDone;
  const bool full = len >= cap;
  if (!verifyBatch_ && ((len % p_.verifyBacklog == 0 && !lastDoneRead_) || full)) verifyBatch_ = p_.verifyBacklogBatch ? p_.verifyBacklogBatch : p_.verifyBacklog;
  if (!verifyBatch_) return Next::kDone;
  const Piece& h = backlog_[backlogHead_ % cap];
  if (!h.done) return full ? Next::kNotYet : Next::kDone;
  backlogHead_++;
  verifyBatch_--;
  *offset = h.offset;
  *bytes = h.bytes;
  return Next::kIo;
}

// Logs an issued write for verification (fio's log_io_piece, at issue).
template <class Queue>
void JobEngine<Queue>::logPiece(Slot& s, uint64_t offset, uint32_t bytes) {
  const uint64_t at = backlogTail_++ % backlog_.size();
  backlog_[at] = Piece{offset, bytes, false};
  s.piece = static_cast<uint32_t>(at);
}

// A completion under verify_backlog: a write's piece may be read back now (a failed one
// is dropped, as fio's unlog_io_piece drops it), and the direction is remembered.
template <class Queue>
void JobEngine<Queue>::backlogCompleted(const Slot& s, uint16_t status) {
  if (s.write) {
    Piece& piece = backlog_[s.piece];
    piece.done = true;
    if (status != 0) piece.bytes = 0;
  }
  lastDoneRead_ = !s.write && !s.trim;
}

// verify_only: fio's do_dry_run. The write phase's IOs are drawn as the job would issue
// them (size-bound, as fio's dry run is even with time_based) and counted as written, with
// no latency; nothing is sent to the device.
template <class Queue>
void JobEngine<Queue>::dryRun() {
  bool write;
  uint64_t offset;
  uint32_t bytes;
  while (issuedBytes_ < p_.ioBytes && nextMainIo(0, &write, &offset, &bytes) == Next::kIo) {
    if (!write) continue;  // never: a verify_only job writes only
    const uint64_t first = offset >> lbaShift_, n = bytes >> lbaShift_;
    for (uint64_t i = first; i < first + n; i++) written_[i >> 6] |= 1ull << (i & 63);
    r_.write.ios++;
    r_.write.bytes += bytes;
  }
}

template <class Queue>
void JobEngine<Queue>::checkRead(const Slot& s) {
  uint8_t* base = p_.bufCpu + (&s - slots_.data()) * p_.slotBytes;
  const uint64_t errorsBefore = r_.verifyErrors;
  const uint32_t step = verifyUnit_ >> lbaShift_;  // blocks per verify header
  const BytePattern* pattern = ioPattern(s);
  for (uint32_t b = 0; b < s.blocks; b += step) {
    const uint64_t lbaInRegion = s.lba - p_.regionLba + b;
    // In the verify pass, only blocks this job wrote carry headers.
    if (phase_ != Phase::kMain && !((written_[lbaInRegion >> 6] >> (lbaInRegion & 63)) & 1)) continue;
    VerifyHeader found;
    if (p_.verifyOffset) [[unlikely]] swapHeader(base + (static_cast<uint64_t>(b) << lbaShift_));  // the read buffer's own copy
    const VerifyResult v = checkVerifyBlock(base + (static_cast<uint64_t>(b) << lbaShift_), verifyUnit_, s.lba + b, UINT64_MAX, p_.seed, &found, p_.verifyKind, pattern);
    r_.verifyChecked++;
    if (v == VerifyResult::kOk) continue;
    r_.verifyErrors++;
    if (r_.failureCount < JobResults::kMaxFailures) {
      int64_t dump = -1;
      // fio dumps a block whose checksum or pattern failed (verify.c, log_verify_failure);
      // a bad header (magic, LBA, kind) is reported without a dump, as fio's verify_header is.
      // The expected copy is what this job writes there, with the write sequence the
      // received header names (fio likewise regenerates from the received header's seed).
      if (p_.verifyDump && (v == VerifyResult::kBadCrc || v == VerifyResult::kBadPattern)) [[unlikely]] {
        dump = static_cast<int64_t>(r_.dumps.size());
        const uint8_t* got = base + (static_cast<uint64_t>(b) << lbaShift_);
        r_.dumps.insert(r_.dumps.end(), got, got + verifyUnit_);
        r_.dumps.resize(r_.dumps.size() + verifyUnit_);
        fillVerifyBlock(r_.dumps.data() + dump + verifyUnit_, verifyUnit_, s.lba + b, found.seq, p_.seed, p_.verifyKind, pattern);
      }
      r_.failures[r_.failureCount++] = {s.lba + b, v, found, dump, dump >= 0 ? verifyUnit_ : 0};
    }
    if (p_.verifyFatal) {
      char text[sizeof(r_.errorText)];
      std::snprintf(text, sizeof(text), "verify failed at LBA %llu (%s); verify_fatal stops the job",
                    static_cast<unsigned long long>(s.lba + b), verifyResultName(v, p_.verifyKind));
      fail(84 /* EILSEQ */, 0, s.lba + b, text);
      return;
    }
  }
  // continue_on_error=verify: a read whose blocks failed is one error of the verify type (fio
  // counts the IO, not its blocks); a counted type that does not go on past EILSEQ ends the job.
  if (r_.verifyErrors > errorsBefore && (p_.errorCountTypes & 4u)) [[unlikely]] {
    char text[sizeof(r_.errorText)];
    std::snprintf(text, sizeof(text), "verify failed: %llu of the %u blocks read at LBA %llu did not match what was written",
                  static_cast<unsigned long long>(r_.verifyErrors - errorsBefore), s.blocks, static_cast<unsigned long long>(s.lba));
    if (!continued(2, 84 /* EILSEQ */, text)) fail(84 /* EILSEQ */, 0, s.lba, text);
  }
}

// fio's get_io_u for a write: refill_buffers fills the IO's bytes afresh; otherwise
// scramble_buffers stamps its offset and time into every 512-byte piece (io_u.c).
template <class Queue>
void JobEngine<Queue>::fillWrite(uint8_t* buf, uint32_t bytes, uint64_t offset, uint64_t stamp) {
  if (p_.fill.refill) filler_.fill(buf, bytes);
  else scrambleBuffer(buf, bytes, offset, stamp);
}

template <class Queue>
void JobEngine<Queue>::complete(uint32_t slot, uint16_t status, uint64_t now) {
  Slot& s = slots_[slot];
  inflight_--;
  s.inFlight = false;
  free_.push_back(slot);
  if (backlogOn_ && !s.flush) [[unlikely]] backlogCompleted(s, status);
  if (s.flush) {
    s.flush = false;
    flushInFlight_ = false;
    if (status != 0) {
      char text[96];
      std::snprintf(text, sizeof(text), "flush failed with NVMe status 0x%x", status);
      fail(5 /* EIO */, status, 0, text);
    } else if (measuring_ && s.counted) {
      r_.sync.ios++;
      r_.sync.lat.record(now - s.tRing);
    }
    return;
  }
  if (status != 0) {
    char text[128];
    std::snprintf(text, sizeof(text), "%s of %u blocks at LBA %llu failed with NVMe status 0x%x",
                  s.write ? "write" : s.trim ? "trim (dataset management deallocate)" : "read", s.blocks, static_cast<unsigned long long>(s.lba), status);
    // fio types a trim's error as a write error (td_error_type: anything not a read).
    if (continued(s.write || s.trim ? 1 : 0, 5 /* EIO */, text)) {
      // Counted as an IO of its direction (fio's total_ios and issued), with no bytes or latency.
      if (measuring_) (s.write ? r_.write : s.trim ? r_.trim : r_.read).ios++;
      return;
    }
    fail(5 /* EIO */, status, s.lba, text);
    return;
  }
  thinkCompleted_++;
  if (s.write && p_.verify) {
    const uint64_t first = s.lba - p_.regionLba;
    for (uint64_t i = first; i < first + s.blocks; i++) written_[i >> 6] |= 1ull << (i & 63);
    // fio's io_u_completed logs each completed write's offset for its verify state.
    r_.lastWrites[r_.lastWritesNext] = s.lba << lbaShift_;
    r_.lastWritesNext = (r_.lastWritesNext + 1) % static_cast<uint32_t>(r_.lastWrites.size());
    r_.lastWritesCount++;
  }
  if (!s.write && p_.verify && p_.verifyKind != VerifyKind::kNull) checkRead(s);
  if (!measuring_) return;
  DirectionStats& d = s.write ? r_.write : s.trim ? r_.trim : r_.read;
  d.ios++;
  d.bytes += static_cast<uint64_t>(s.blocks) << lbaShift_;
  // Recorded in TSC ticks (no floating point per IO); reports scale by nsPerTick. slat is
  // recorded per submitted batch in run() (fio, too, counts slat at submission).
  d.clat.record(now - s.tRing);
  const uint64_t lat = now - s.tPrep;
  d.lat.record(lat);
  const uint32_t dir = s.write ? 1 : s.trim ? 2 : 0;
  if (lat > maxLatTicks_[dir]) [[unlikely]] latencyExceeded(s, lat, dir);
  if (lat > latTargetTicks_) [[unlikely]] latencyMissed(s, lat, dir);
}

// A reap's measured IOs into the per-IO log ring, before complete() recycles their slots
// (one branch per pass in run(), none per IO): the reads, writes and trims that succeeded,
// as complete() counts them.
template <class Queue>
void JobEngine<Queue>::logIos(const uint64_t* tags, const uint16_t* status, uint32_t n, uint64_t now) {
  for (uint32_t i = 0; i < n; i++) {
    if (tags[i] >= p_.iodepth || status[i] != 0 || slots_[tags[i]].flush) continue;
    logIo(slots_[tags[i]], now);
  }
}

// One IO into the per-IO log ring; when it is full, waits for the JS thread to drain it
// (counted), or drops the record once the job is being stopped (counted).
template <class Queue>
void JobEngine<Queue>::logIo(const Slot& s, uint64_t now) {
  // An IO prepared in the ramp and completed after it starts at the measured phase's start.
  const auto since = [this](uint64_t t) { return t > tMeasure_ ? t - tMeasure_ : 0; };
  const IoRecord rec{since(s.tPrep), since(s.tRing), since(now), s.lba * p_.lbaSize, s.blocks << lbaShift_, s.write ? 1u : s.trim ? 2u : 0u};
  if (ioRing_->push(rec)) return;
  r_.ioLogStalls++;
  const uint64_t t0 = ticks();
  while (!ioRing_->push(rec)) {
    if (stop_.load(std::memory_order_relaxed)) {
      r_.ioLogDrops++;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  r_.ioLogStallNs += static_cast<uint64_t>(static_cast<double>(ticks() - t0) * nsPerTick());
}

template <class Queue>
void JobEngine<Queue>::run() {
  const char* bad = validateJobParams(p_);
  if (bad) {
    fail(22, 0, 0, bad);
    publish(progress_, kProgState, static_cast<double>(JobState::kDone));
    return;
  }
  if (const char* why = pinThread()) {
    fail(22 /* EINVAL */, 0, 0, why);
    publish(progress_, kProgState, static_cast<double>(JobState::kDone));
    return;
  }
  if (p_.nice) {
    // fio's nice: nice(2) on the job thread (Linux: the calling thread only); fio fails
    // the job with the errno when it is refused.
    errno = 0;
    if (::nice(p_.nice) == -1 && errno != 0) {
      const int err = errno;
      char text[sizeof(r_.errorText)];
      std::snprintf(text, sizeof(text), "nice=%d: the job thread's nice value could not be changed (%s); a negative one needs root or CAP_SYS_NICE", p_.nice, std::strerror(err));
      fail(err, 0, 0, text);
      publish(progress_, kProgState, static_cast<double>(JobState::kDone));
      return;
    }
  }
  // Everything the loop needs is allocated here, before the first IO.
  slots_.assign(p_.iodepth, Slot{});
  entries_.resize(p_.iodepth);
  for (uint32_t i = 0; i < p_.iodepth; i++) entries_[i] = PhyrEntry{p_.bufIova + static_cast<uint64_t>(i) * p_.slotBytes, 0, p_.bufFlags};
  free_.reserve(p_.iodepth);
  for (uint32_t i = p_.iodepth; i-- > 0;) free_.push_back(i);
  batch_.reserve(p_.iodepth);
  if (p_.verify) written_.assign((p_.regionBytes / p_.lbaSize + 63) / 64, 0);
  verifyUnit_ = p_.verifyInterval ? p_.verifyInterval : p_.lbaSize;
  if (p_.verify) r_.lastWrites.assign(p_.iodepth, 0);
  if (p_.verify && p_.verifyDump) r_.dumps.reserve(static_cast<size_t>(JobResults::kMaxFailures) * 2 * verifyUnit_);
  backlogOn_ = p_.verify && p_.verifyBacklog && p_.readPercent == 0;
  // The backlog's log holds what a batch can leave unverified, plus the writes in flight
  // while the oldest one completes.
  if (backlogOn_) backlog_.assign(2 * (static_cast<uint64_t>(p_.verifyBacklog) + p_.verifyBacklogBatch + p_.iodepth) + 64, Piece{});
  // fio fills every buffer of a writing job once at start (init_io_u_buffers); writes then
  // reuse it. Before the clock starts, so the fill is not measured.
  const bool headers = p_.verify && p_.verifyKind != VerifyKind::kNull;
  if (p_.bufCpu && !headers && p_.readPercent < 100) {
    for (uint32_t i = 0; i < p_.iodepth; i++) filler_.fill(p_.bufCpu + static_cast<uint64_t>(i) * p_.slotBytes, p_.slotBytes);
    perWriteFill_ = p_.fill.refill || p_.fill.scramble;
  }
  if (samples_) {
    const auto toTicks = [](uint64_t ns) { return ns ? std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(ns) / nsPerTick())) : 0; };
    clocks_[0].ticks = toTicks(p_.sampleIntervalNs);
    clocks_[1].ticks = toTicks(p_.logWindowNs);
    clocks_[2].ticks = toTicks(p_.iopsIntervalNs);
    if (p_.sampleIntervalNs) sampleClat_.assign(3 * LatencyHistogram::kBuckets, 0);
  }
  if (histRing_ && p_.histWindowNs) {
    clocks_[3].ticks = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(p_.histWindowNs) / nsPerTick()));
    histPrev_.assign(3 * LatencyHistogram::kBuckets, 0);
    histScratch_ = std::make_unique<HistRecord>();
  }
  rng_.reseed(mix64(p_.seed) ^ p_.stream);
  lbaShift_ = static_cast<uint32_t>(__builtin_ctz(p_.lbaSize));  // a power of two (validated)
  unit_ = p_.blockAlign ? p_.blockAlign : std::min(p_.readPercent > 0 ? p_.readBs.min : UINT32_MAX, p_.readPercent < 100 ? p_.writeBs.min : UINT32_MAX);
  if (p_.random && !offsets_.init(p_.dist, p_.distParam, p_.regionBytes / unit_, p_.randomMap, mix64(p_.seed ^ 0xa5a5) + p_.stream)) {
    fail(22, 0, 0, "bad random distribution parameter");
  }
  if (p_.random && p_.distCenter >= 0 && !offsets_.setCenter(p_.distCenter)) fail(22, 0, 0, "bad random distribution center");
  if (p_.random && p_.dist == Distribution::kZoned) {
    uint64_t start[OffsetGenerator::kMaxZones], units[OffsetGenerator::kMaxZones];
    const uint64_t total = p_.regionBytes / unit_;
    for (uint32_t i = 0; i < p_.zoneCount && i < OffsetGenerator::kMaxZones; i++) {
      start[i] = std::min(p_.zoneStartBytes[i] / unit_, total ? total - 1 : 0);
      units[i] = std::max<uint64_t>(1, std::min(p_.zoneBytes[i] / unit_, total - start[i]));
    }
    if (!offsets_.setZones(start, units, p_.zoneCum, p_.zoneCount)) fail(22, 0, 0, "bad zoned distribution: zones must lie in the region and their shares add up to 100 %");
  }
  const double k = nsPerTick();
  for (int d = 0; d < 3; d++) {
    if (p_.maxLatencyNs[d]) maxLatTicks_[d] = static_cast<uint64_t>(static_cast<double>(p_.maxLatencyNs[d]) / k);
  }
  depthLimit_ = p_.iodepth;
  latOn_ = p_.latencyTargetNs != 0;
  if (latOn_) latTargetTicks_ = static_cast<uint64_t>(static_cast<double>(p_.latencyTargetNs) / k);
  overhead_ = tickOverhead();
  if (p_.startDelayNs) {
    sleepUntil(ticks() + static_cast<uint64_t>(static_cast<double>(p_.startDelayNs) / k));
    // Stopped while it waited to start (exit_what=all, an aborted run): no IO at all.
    if (stop_.load(std::memory_order_relaxed)) stopIssuing_ = true;
  }
  const uint64_t tStart = ticks();
  if (latOn_) {
    lat_.init(p_.iodepth, static_cast<uint64_t>(static_cast<double>(p_.latencyWindowUs) * 1000.0 / k), p_.latencyPercentile, p_.latencyRun, tStart, 0);
    depthLimit_ = lat_.depth();
  }
  ticksPerSec_ = static_cast<uint64_t>(1e9 / k);
  rated_ = p_.rateBps[0] || p_.rateBps[1];
  rateStart_ = rateDue_[0] = rateDue_[1] = tStart;
  for (int d = 0; d < 2; d++) {
    const uint32_t minBs = d ? p_.writeBs.min : p_.readBs.min;
    if (p_.rateBps[d]) poissonMeanTicks_[d] = static_cast<double>(ticksPerSec_) * minBs / static_cast<double>(p_.rateBps[d]);
  }
  poissonRng_.reseed(mix64(p_.seed ^ 0x5eed) ^ p_.stream);
  // Any of the shaping options: the IO path checks this one flag before any of them.
  shaped_ = rated_ || p_.maxIos || p_.thinktimeNs || p_.fsyncEvery || p_.batchSubmit || p_.percentageRandom < 100 || p_.randomEvery > 1 || p_.trim || p_.trimWrite || p_.replay || p_.serializeOverlap;
  replayStart_ = tStart;
  lastThinkAt_ = tStart;
  thinkIotimeTicks_ = static_cast<uint64_t>(static_cast<double>(p_.thinktimeIotimeNs + p_.thinktimeNs) / k);
  rateMinWatched_ = p_.rateMinBps[0] || p_.rateMinBps[1] || p_.rateMinIops[0] || p_.rateMinIops[1];
  const uint64_t rampEnd = tStart + static_cast<uint64_t>(static_cast<double>(p_.rampNs) / k);
  uint64_t deadline = p_.runtimeNs ? rampEnd + static_cast<uint64_t>(static_cast<double>(p_.runtimeNs) / k) : UINT64_MAX;
  if (p_.rampNs == 0) resetMeasurement(tStart);
  publish(progress_, kProgState, static_cast<double>(p_.rampNs ? JobState::kRamp : JobState::kRunning));
  const bool verifyPass = p_.verify && p_.doVerify && p_.readPercent == 0;
  if (p_.verifyOnly && p_.readPercent == 0 && r_.error == 0) {
    // verify_only: no writes; the write phase took no time (fio reports its runtime 0).
    dryRun();
    tMainEnd_ = tMeasure_;
    if (verifyPass) {
      phase_ = Phase::kVerify;
      deadline = UINT64_MAX;
      publish(progress_, kProgState, static_cast<double>(JobState::kVerifying));
    } else {
      stopIssuing_ = true;
    }
  }

  uint64_t tags[kPollBatch];
  uint16_t status[kPollBatch];
  uint32_t sincePublish = 0;
  // Progress is published every 1024 completions, and at least every 10 ms while IO
  // completes: a paced job (rate_iops=2000) would otherwise publish twice a second, and
  // the steady-state check and the status reports would read counters up to 0.5 s old.
  const uint64_t publishTicks = static_cast<uint64_t>(10e6 / k);
  uint64_t nextPublish = 0;
  // Tick counts computed once: no floating point per pass. The health check runs every
  // eighth of the timeout, at most every 10 ms (one CSTS read and a scan of the slots).
  const uint64_t timeoutTicks = static_cast<uint64_t>(static_cast<double>(p_.cmdTimeoutNs) / k);
  const uint64_t checkTicks = std::max<uint64_t>(1, std::min<uint64_t>(timeoutTicks / 8, static_cast<uint64_t>(10e6 / k)));
  uint64_t now = ticks();
  uint64_t nextCheck = now + checkTicks;
  const uint32_t pollMax = p_.batchCompleteMax ? std::min(p_.batchCompleteMax, kPollBatch) : kPollBatch;
  uint32_t pass = 0;
  for (;;) {
    // Timestamps cost tens of ns on some machines, so a pass reads the TSC twice at most
    // (after the doorbell and after the reap); `now` from the previous pass stands for
    // "prepared at". One pass in kSamplePeriod also times each driver call, which
    // estimates the driver's share per IO without timing every call.
    const uint64_t tLoop = now;
    const bool sample = (++pass & (kSamplePeriod - 1)) == 0;
    uint64_t sampled = 0;
    // Submit until iodepth IOs are in flight (or the queue is full).
    batch_.clear();
    uint32_t batchWrites = 0;
    uint32_t batchTrims = 0;
    uint64_t batchSlat = 0;
    size_t rung = 0;  // commands of batch_ whose doorbell is rung (iodepth_batch_submit)
    const bool mayIssue = !draining_ && reapedSinceSubmit_ >= reapNeeded_;
    while (mayIssue && !stopIssuing_ && !thinkPending_ && !flushInFlight_ && inflight_ < depthLimit_) {
      if (syncPending_) {
        // fsync=N: a Flush once the writes in flight have completed (a Flush covers only
        // completed writes), and only when more IO follows (fio: none after the last).
        if (!moreMainIo()) {
          syncPending_ = false;
        } else if (inflight_ == 0) {
          if (submitFlush(true)) syncPending_ = false;
          break;
        } else {
          break;
        }
      }
      if (p_.flowShared && phase_ == Phase::kMain && flowHeld()) [[unlikely]] break;
      bool write = false;
      uint64_t offset;
      uint32_t bytes;
      // verify_backlog: a read-back of logged writes may come before the next main IO.
      Next next = Next::kDone;
      bool backlogRead = false;
      if (phase_ != Phase::kMain) next = nextVerifyIo(&offset, &bytes) ? Next::kIo : Next::kDone;
      else if (backlogOn_ && (next = nextBacklogIo(&offset, &bytes)) != Next::kDone) [[unlikely]] backlogRead = next == Next::kIo;
      else if (shaped_ && held_) [[unlikely]] {
        // serialize_overlap: the IO held back is the next one, once it overlaps nothing.
        write = heldWrite_, offset = heldOffset_, bytes = heldBytes_;
        held_ = false;
        next = Next::kIo;
      } else {
        next = nextMainIo(tLoop, &write, &offset, &bytes);
      }
      if (next == Next::kNotYet) break;  // paced: the next IO is not due yet
      if (next == Next::kDone) {
        stopIssuing_ = true;
        break;
      }
      if (shaped_ && p_.serializeOverlap && phase_ == Phase::kMain && !backlogRead && overlapsInFlight(p_.regionLba + (offset >> lbaShift_), bytes >> lbaShift_)) [[unlikely]] {
        // fio's serialize_overlap: this IO waits for the reap (fio retries the same io_u).
        held_ = true, heldWrite_ = write, heldOffset_ = offset, heldBytes_ = bytes;
        break;
      }
      const uint32_t slot = free_.back();
      Slot& s = slots_[slot];
      s.tPrep = tLoop;
      s.lba = p_.regionLba + (offset >> lbaShift_);
      s.blocks = bytes >> lbaShift_;
      s.write = write;
      s.verifyRead = backlogRead;
      if (write && p_.verify && p_.verifyKind != VerifyKind::kNull) {
        writeSeq_++;
        fillVerify(p_.bufCpu + static_cast<uint64_t>(slot) * p_.slotBytes, s);
      } else if (write && perWriteFill_) {
        fillWrite(p_.bufCpu + static_cast<uint64_t>(slot) * p_.slotBytes, bytes, s.lba << lbaShift_, tLoop);
      }
      const bool trim = shaped_ && !write && (p_.trim || ((p_.trimWrite || p_.replay) && phase_ == Phase::kMain && nextTrim_));
      s.trim = trim;
      if (trim) {
        // One Dataset Management range (NVM Command Set, Dataset Management): context
        // attributes 0, length in LBAs, starting LBA; written into the slot's buffer.
        uint8_t* range = p_.bufCpu + static_cast<uint64_t>(slot) * p_.slotBytes;
        const uint32_t ctx = 0;
        std::memcpy(range, &ctx, 4);
        std::memcpy(range + 4, &s.blocks, 4);
        std::memcpy(range + 8, &s.lba, 8);
        entries_[slot].len = nvme::DSM_RANGE_SIZE;
      } else {
        entries_[slot].len = bytes;  // address and flags are the slot's, set up front
      }
      const uint64_t tSubmit = sample ? ticks() : 0;
      QueueIo io{write, p_.nsid, s.lba, s.blocks, p_.lbaSize, &entries_[slot], 1, slot};
      io.trim = trim;
      if (write ? p_.writeFua : p_.readFua) io.cdw12Extra = static_cast<uint32_t>(nvme::RW_CDW12_FUA);
      const QueueSubmitInfo info = q_.submit(io);
      if (sample) sampled += timed(tSubmit, ticks());
      if (info.result == QueueSubmit::kFull && (backlogRead || (backlogOn_ && phase_ == Phase::kVerify))) [[unlikely]] {
        // A backlog read not issued: its piece is the oldest again (and still due).
        backlogHead_--;
        if (backlogRead) verifyBatch_++;
        break;
      }
      if (info.result == QueueSubmit::kFull) {
        // Not issued after all; the next pass retries. trimwrite's trims never counted in
        // issuedBytes_ (the writes do); a replay's sync never gets here (it is kNotYet).
        if (!(trim && p_.trimWrite)) issuedBytes_ -= bytes;
        if (phase_ == Phase::kVerify) verifyPos_ -= bytes;
        else if (lastWasSeq_) seqPos_[lastPosIndex_] = seqPrev_[lastPosIndex_];
        // rw=randMODE:N: the refused IO's offset is the next one's, one more IO before a
        // new random offset.
        if (lastEvery_ && phase_ == Phase::kMain) {
          randomLeft_++;
          randomNext_[lastPosIndex_] = offset;
        }
        if (p_.trimWrite && phase_ == Phase::kMain) lastStart_[trim] = prevLastStart_;
        if (p_.replay && phase_ == Phase::kMain) replayPos_--;
        break;
      }
      if (info.result == QueueSubmit::kError) {
        fail(22, 0, s.lba, info.why ? info.why : "the queue refused the command");
        break;
      }
      free_.pop_back();
      s.inFlight = true;
      inflight_++;
      if (backlogOn_ && write) [[unlikely]] logPiece(s, offset, bytes);
      if (p_.flowShared && phase_ == Phase::kMain && !backlogRead) [[unlikely]] flowIssued();
      if (p_.ioLog) {
        if (r_.ioLogCount < p_.ioLogCap) {
          double* e = p_.ioLog + 3 * r_.ioLogCount;
          e[0] = static_cast<double>(s.lba * p_.lbaSize);
          e[1] = static_cast<double>(bytes);
          e[2] = write ? 1.0 : trim ? 2.0 : 0.0;
          if (write) lastLoggedWrite_ = s.lba * p_.lbaSize;
        }
        r_.ioLogCount++;
      }
      batch_.push_back(slot);
      batchWrites += write;
      batchTrims += trim;
      switch (info.format) {
        case DptrKind::kPrp: r_.prpCommands++; break;
        case DptrKind::kSgl: r_.sglCommands++; break;
        case DptrKind::kSplit: r_.splitCommands++; r_.childCommands += info.children; break;
        case DptrKind::kBounce: r_.bounces++; break;
        case DptrKind::kNone: break;
      }
      if (shaped_ && phase_ == Phase::kMain && !backlogRead) [[unlikely]] afterShapedIssue(write, bytes);
      if (shaped_ && p_.batchSubmit && batch_.size() - rung == p_.batchSubmit) [[unlikely]] {
        // iodepth_batch_submit: a doorbell for every batchSubmit commands.
        q_.ring();
        const uint64_t t = ticks();
        for (size_t i = rung; i < batch_.size(); i++) slots_[batch_[i]].tRing = t;
        rung = batch_.size();
      }
    }
    if (!batch_.empty()) {
      uint64_t tRing = slots_[batch_.back()].tRing;
      if (rung < batch_.size()) {
        const uint64_t tBeforeRing = sample ? ticks() : 0;
        q_.ring();
        tRing = ticks();
        if (sample) sampled += timed(tBeforeRing, tRing);
        for (size_t i = rung; i < batch_.size(); i++) slots_[batch_[i]].tRing = tRing;
      }
      batchSlat = tRing - tLoop;
      if (p_.iodepthLow && p_.iodepthLow < p_.iodepth && inflight_ >= p_.iodepth) draining_ = true;
      if (p_.batchCompleteMin > 1) {
        reapNeeded_ = std::min(p_.batchCompleteMin, inflight_);
        reapedSinceSubmit_ = 0;
      }
      // fio's "IO depths": the depth the queue reached with this submission, per IO.
      const uint32_t bucket = inflight_ >= 64 ? 6 : 31u - static_cast<uint32_t>(__builtin_clz(inflight_));
      r_.depthHist[bucket] += batch_.size();
    }

    // Reap what has completed.
    const uint64_t tPoll = sample ? ticks() : 0;
    const uint32_t n = q_.poll(tags, status, pollMax);
    now = ticks();
    if (sample && n) sampled += timed(tPoll, now);
    if (n) {
      if (ioRing_ && measuring_) [[unlikely]] logIos(tags, status, n, now);
      for (uint32_t i = 0; i < n; i++) {
        if (tags[i] >= p_.iodepth) {
          fail(71 /* EPROTO */, status[i], 0, "a completion carried a tag this job never issued");
          continue;
        }
        complete(static_cast<uint32_t>(tags[i]), status[i], now);
      }
      sincePublish += n;
      reapedSinceSubmit_ += n;
      if (draining_ && inflight_ <= p_.iodepthLow) draining_ = false;
      if (thinkAtReap_ && thinkCompleted_ > thinkFullCount_) [[unlikely]] thinkAfterFullQueue();
    }
    // slat: from the pass's timestamp, taken before the batch was prepared, to the one
    // right after its doorbell — the same value for every IO of the batch, so it is
    // recorded once per direction, weighted by the batch's IOs (after the reap, off the
    // doorbell's critical path).
    if (measuring_ && !batch_.empty()) {
      const uint64_t batchReads = batch_.size() - batchWrites - batchTrims;
      if (batchReads) r_.read.slat.recordN(batchSlat, batchReads);
      if (batchTrims) r_.trim.slat.recordN(batchSlat, batchTrims);
      if (batchWrites) r_.write.slat.recordN(batchSlat, batchWrites);
    }
    if (n || !batch_.empty()) {
      r_.busyTicks += now - tLoop;
      if (sample) {
        const uint64_t passIos = n > batch_.size() ? n : batch_.size();
        r_.sampledDriverTicks += sampled;
        r_.sampledIos += passIos;
        // Per-pass figures too: their median ignores the passes a preemption landed in.
        r_.driverPerIo.record(sampled / passIos);
      }
    }

    // Phase and time bookkeeping.
    if (!measuring_ && now >= rampEnd) {
      resetMeasurement(now);
      // The runtime counts from the end of the ramp as it actually happened.
      if (p_.runtimeNs) deadline = now + static_cast<uint64_t>(static_cast<double>(p_.runtimeNs) / k);
      publish(progress_, kProgState, static_cast<double>(JobState::kRunning));
      // fio's reset_all_stats at the ramp's end restarts the latency target's search.
      if (latOn_) {
        lat_.reset(now, 0);
        if (!latQuiesce_) depthLimit_ = lat_.depth();
      }
    }
    if (latOn_) [[unlikely]] latencyPass(now, deadline);
    if (now >= nextSample_) [[unlikely]] takeSamples(now);  // one compare per pass (UINT64_MAX: off)
    if (now >= deadline && phase_ == Phase::kMain) stopIssuing_ = true;
    if (stop_.load(std::memory_order_relaxed)) stopIssuing_ = true;
    if (sincePublish >= 1024 || (sincePublish && now >= nextPublish)) {
      publishProgress(now);
      sincePublish = 0;
      nextPublish = now + publishTicks;
    }
    if (snapshot_) {
      // Acquire pairs with the asker's release: nothing else to see, but it keeps the
      // request/answer pairing explicit for the reader (and for TSan).
      const uint32_t req = snapshot_->requested.load(std::memory_order_acquire);
      if (req != snapshot_->answered.load(std::memory_order_relaxed)) answerSnapshot(now, req);
    }
    // Waits the job asked for, taken only with nothing in flight (nothing to reap): the
    // thinktime, or a paced IO due later than a sleep's granularity.
    if (inflight_ == 0 && !stopIssuing_ && phase_ == Phase::kMain) {
      if (flowSleep_) [[unlikely]] {
        // flow_sleep: held back by the flow, drained; wait before trying again (fio's usleep).
        sleepUntil(std::min(now + static_cast<uint64_t>(static_cast<double>(p_.flowSleepUs) * 1000.0 / k), deadline));
        flowSleep_ = false;
        now = ticks();
      } else if (thinkPending_) {
        const uint64_t spent = think(deadline);
        if (p_.rateIgnoreThinktime && rated_) rateSkipsThink(spent);
        thinkPending_ = false;
        now = ticks();
      } else if (holdUntil_ > now) {
        sleepUntil(std::min(holdUntil_, deadline));
        now = ticks();
      }
      if (now >= deadline) stopIssuing_ = true;  // the wait took the job to its runtime
    }
    if (inflight_ == 0 && stopIssuing_) {
      thinkPending_ = false;
      held_ = false;
      syncPending_ = false;
      if (phase_ == Phase::kMain && p_.endFsync && !endFsyncDone_ && r_.error == 0 && !stop_.load(std::memory_order_relaxed)) {
        // end_fsync: flush what the write phase wrote before the job ends (or reads back).
        if (submitFlush(false)) endFsyncDone_ = true;
        if (r_.error) break;
        continue;
      }
      if (phase_ == Phase::kMain && verifyPass && r_.error == 0 && !stop_.load(std::memory_order_relaxed)) {
        // fio's do_verify: after the write phase, read back what was written.
        phase_ = Phase::kVerify;
        tMainEnd_ = now;
        stopIssuing_ = false;
        deadline = UINT64_MAX;
        publish(progress_, kProgState, static_cast<double>(JobState::kVerifying));
        continue;
      }
      break;
    }
    // A device that stops completing, or fails, must not hang the job.
    if (now >= nextCheck) {
      nextCheck = now + checkTicks;
      if (unhealthy(now, timeoutTicks)) break;
      if (rateMinWatched_) rateTooLow(now);
    }
  }
  const uint64_t tEnd = ticks();
  if (p_.flowShared) {
    // fio's flow_put: this job's IOs and weight leave the flow, so the others run on freely.
    __atomic_fetch_sub(&p_.flowShared[0], flowCount_, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&p_.flowShared[1], static_cast<uint64_t>(p_.flowWeight), __ATOMIC_RELAXED);
  }
  if (!measuring_) resetMeasurement(tEnd);
  r_.latencyDepth = latOn_ ? lat_.depth() : p_.iodepth;
  finishTimes(r_, tEnd);
  publishProgress(tEnd);
  publish(progress_, kProgState, static_cast<double>(JobState::kDone));
}

}  // namespace phyr::bench
