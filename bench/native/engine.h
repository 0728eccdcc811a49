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
#include <cstdio>
#include <vector>

#include "bench/native/clock.h"
#include "bench/native/job_params.h"
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
  JobEngine(Queue& queue, const JobParams& params, JobResults& results, double* progress,
            const std::atomic<bool>& stop, ResultsSnapshot* snapshot = nullptr)
      : q_(queue), p_(params), r_(results), progress_(progress), stop_(stop), snapshot_(snapshot) {}

  void run();

 private:
  struct Slot {
    uint64_t tPrep;
    uint64_t tRing;
    uint64_t lba;
    uint32_t blocks;
    bool write;
    bool inFlight;  // submitted and not completed (the periodic health check scans these)
  };
  static constexpr uint32_t kPollBatch = 256;
  static constexpr uint32_t kSamplePeriod = 16;  // power of two
  enum class Phase { kMain, kVerify, kDrain };

  bool nextMainIo(bool* write, uint64_t* offset, uint32_t* bytes);
  bool nextVerifyIo(uint64_t* offset, uint32_t* bytes);
  void complete(uint32_t slot, uint16_t status, uint64_t now);
  void checkRead(const Slot& s);
  void fail(int32_t code, uint32_t status, uint64_t lba, const char* text);
  void resetMeasurement(uint64_t now);
  void publishProgress(uint64_t now);
  void finishTimes(JobResults& out, uint64_t now) const;
  void answerSnapshot(uint64_t now, uint32_t request);
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
  uint64_t unit_ = 0;              // random offsets are multiples of this many bytes
  uint32_t lbaShift_ = 0;          // log2(lbaSize): bytes <-> blocks without a division
  uint64_t seqPos_[2] = {0, 0};    // sequential position per direction
  uint64_t seqPrev_[2] = {0, 0};   // the position before the last IO (restored if its submit is refused)
  uint64_t verifyPos_ = 0;
  uint64_t issuedBytes_ = 0;
  uint64_t writeSeq_ = 0;
  uint32_t inflight_ = 0;
  Phase phase_ = Phase::kMain;
  bool stopIssuing_ = false;
  bool measuring_ = false;
  uint64_t tMeasure_ = 0;
  uint64_t tMainEnd_ = 0;          // when the verify read-back began (0: it did not)
  ThreadCpu cpu0_{};
  uint64_t overhead_ = 0;
  // An interval between two TSC reads, less what the reads themselves cost.
  uint64_t timed(uint64_t a, uint64_t b) const { return b - a > overhead_ ? b - a - overhead_ : 0; }
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

template <class Queue>
void JobEngine<Queue>::resetMeasurement(uint64_t now) {
  r_.read = DirectionStats{};
  r_.write = DirectionStats{};
  std::fill(std::begin(r_.depthHist), std::end(r_.depthHist), 0);
  r_.prpCommands = r_.sglCommands = r_.splitCommands = r_.childCommands = r_.bounces = 0;
  r_.sampledDriverTicks = r_.sampledIos = r_.busyTicks = 0;
  r_.driverPerIo.reset();
  tMeasure_ = now;
  cpu0_ = threadCpu();
  measuring_ = true;
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

template <class Queue>
bool JobEngine<Queue>::nextMainIo(bool* write, uint64_t* offset, uint32_t* bytes) {
  if (!p_.timeBased && issuedBytes_ >= p_.ioBytes) return false;
  const bool w = p_.readPercent == 0 ? true : p_.readPercent >= 100 ? false : rng_.below(100) >= p_.readPercent;
  uint32_t bs = (w ? p_.writeBs : p_.readBs).pick(rng_);
  if (bs > p_.regionBytes) bs = static_cast<uint32_t>(p_.regionBytes);
  uint64_t off;
  if (p_.random) {
    off = offsets_.next() * unit_;
    if (off + bs > p_.regionBytes) off = (p_.regionBytes - bs) / unit_ * unit_;
  } else {
    uint64_t& pos = seqPos_[w ? 1 : 0];
    if (pos + bs > p_.regionBytes) {
      // A forward skip ends the pass at the region's end (fio's rw=MODE:N); otherwise wrap
      // (time_based, or mixed directions).
      if (p_.seqSkip > 0 && !p_.timeBased) return false;
      pos = 0;
    }
    seqPrev_[w ? 1 : 0] = pos;
    off = pos;
    const int64_t next = static_cast<int64_t>(pos) + bs + p_.seqSkip;
    // Backward past the start: continue from the last block, as fio 3.33 does.
    pos = next >= 0 ? static_cast<uint64_t>(next) : p_.regionBytes - bs - static_cast<uint64_t>(-next);
  }
  *write = w;
  *offset = off;
  *bytes = bs;
  issuedBytes_ += bs;
  return true;
}

template <class Queue>
bool JobEngine<Queue>::nextVerifyIo(uint64_t* offset, uint32_t* bytes) {
  // Read back the region in slot-sized chunks, skipping chunks with no written block.
  while (verifyPos_ < p_.regionBytes) {
    const uint64_t len = std::min<uint64_t>(p_.slotBytes, p_.regionBytes - verifyPos_);
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

template <class Queue>
void JobEngine<Queue>::checkRead(const Slot& s) {
  const uint8_t* base = p_.bufCpu + (&s - slots_.data()) * p_.slotBytes;
  for (uint32_t b = 0; b < s.blocks; b++) {
    const uint64_t lbaInRegion = s.lba - p_.regionLba + b;
    // In the verify pass, only blocks this job wrote carry headers.
    if (phase_ != Phase::kMain && !((written_[lbaInRegion >> 6] >> (lbaInRegion & 63)) & 1)) continue;
    VerifyHeader found;
    const VerifyResult v = checkVerifyBlock(base + static_cast<uint64_t>(b) * p_.lbaSize, p_.lbaSize, s.lba + b, UINT64_MAX, p_.seed, &found, p_.verifyKind);
    r_.verifyChecked++;
    if (v == VerifyResult::kOk) continue;
    r_.verifyErrors++;
    if (r_.failureCount < JobResults::kMaxFailures) r_.failures[r_.failureCount++] = {s.lba + b, v, found};
    if (p_.verifyFatal) {
      char text[sizeof(r_.errorText)];
      std::snprintf(text, sizeof(text), "verify failed at LBA %llu (%s); verify_fatal stops the job",
                    static_cast<unsigned long long>(s.lba + b), verifyResultName(v, p_.verifyKind));
      fail(84 /* EILSEQ */, 0, s.lba + b, text);
      return;
    }
  }
}

template <class Queue>
void JobEngine<Queue>::complete(uint32_t slot, uint16_t status, uint64_t now) {
  Slot& s = slots_[slot];
  inflight_--;
  s.inFlight = false;
  free_.push_back(slot);
  if (status != 0) {
    char text[128];
    std::snprintf(text, sizeof(text), "%s of %u blocks at LBA %llu failed with NVMe status 0x%x",
                  s.write ? "write" : "read", s.blocks, static_cast<unsigned long long>(s.lba), status);
    fail(5 /* EIO */, status, s.lba, text);
    return;
  }
  if (s.write && p_.verify) {
    const uint64_t first = s.lba - p_.regionLba;
    for (uint64_t i = first; i < first + s.blocks; i++) written_[i >> 6] |= 1ull << (i & 63);
  }
  if (!s.write && p_.verify && p_.verifyKind != VerifyKind::kNull) checkRead(s);
  if (!measuring_) return;
  DirectionStats& d = s.write ? r_.write : r_.read;
  d.ios++;
  d.bytes += static_cast<uint64_t>(s.blocks) << lbaShift_;
  // Recorded in TSC ticks (no floating point per IO); reports scale by nsPerTick. slat is
  // recorded per submitted batch in run() (fio, too, counts slat at submission).
  d.clat.record(now - s.tRing);
  d.lat.record(now - s.tPrep);
}

template <class Queue>
void JobEngine<Queue>::run() {
  const char* bad = validateJobParams(p_);
  if (bad) {
    fail(22, 0, 0, bad);
    publish(progress_, kProgState, static_cast<double>(JobState::kDone));
    return;
  }
  // Everything the loop needs is allocated here, before the first IO.
  slots_.assign(p_.iodepth, Slot{});
  entries_.resize(p_.iodepth);
  for (uint32_t i = 0; i < p_.iodepth; i++) entries_[i] = PhyrEntry{p_.bufIova + static_cast<uint64_t>(i) * p_.slotBytes, 0, p_.bufFlags};
  free_.reserve(p_.iodepth);
  for (uint32_t i = p_.iodepth; i-- > 0;) free_.push_back(i);
  batch_.reserve(p_.iodepth);
  if (p_.verify) written_.assign((p_.regionBytes / p_.lbaSize + 63) / 64, 0);
  rng_.reseed(mix64(p_.seed) ^ p_.stream);
  lbaShift_ = static_cast<uint32_t>(__builtin_ctz(p_.lbaSize));  // a power of two (validated)
  unit_ = std::min(p_.readPercent > 0 ? p_.readBs.min : UINT32_MAX, p_.readPercent < 100 ? p_.writeBs.min : UINT32_MAX);
  if (p_.random && !offsets_.init(p_.dist, p_.distParam, p_.regionBytes / unit_, p_.randomMap, mix64(p_.seed ^ 0xa5a5) + p_.stream)) {
    fail(22, 0, 0, "bad random distribution parameter");
  }
  const double k = nsPerTick();
  overhead_ = tickOverhead();
  const uint64_t tStart = ticks();
  const uint64_t rampEnd = tStart + static_cast<uint64_t>(static_cast<double>(p_.rampNs) / k);
  uint64_t deadline = p_.runtimeNs ? rampEnd + static_cast<uint64_t>(static_cast<double>(p_.runtimeNs) / k) : UINT64_MAX;
  if (p_.rampNs == 0) resetMeasurement(tStart);
  publish(progress_, kProgState, static_cast<double>(p_.rampNs ? JobState::kRamp : JobState::kRunning));
  const bool verifyPass = p_.verify && p_.doVerify && p_.readPercent == 0;

  uint64_t tags[kPollBatch];
  uint16_t status[kPollBatch];
  uint32_t sincePublish = 0;
  // Tick counts computed once: no floating point per pass. The health check runs every
  // eighth of the timeout, at most every 10 ms (one CSTS read and a scan of the slots).
  const uint64_t timeoutTicks = static_cast<uint64_t>(static_cast<double>(p_.cmdTimeoutNs) / k);
  const uint64_t checkTicks = std::max<uint64_t>(1, std::min<uint64_t>(timeoutTicks / 8, static_cast<uint64_t>(10e6 / k)));
  uint64_t now = ticks();
  uint64_t nextCheck = now + checkTicks;
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
    uint64_t batchSlat = 0;
    while (!stopIssuing_ && inflight_ < p_.iodepth) {
      bool write = false;
      uint64_t offset;
      uint32_t bytes;
      const bool more = phase_ == Phase::kMain ? nextMainIo(&write, &offset, &bytes) : nextVerifyIo(&offset, &bytes);
      if (!more) {
        stopIssuing_ = true;
        break;
      }
      const uint32_t slot = free_.back();
      Slot& s = slots_[slot];
      s.tPrep = tLoop;
      s.lba = p_.regionLba + (offset >> lbaShift_);
      s.blocks = bytes >> lbaShift_;
      s.write = write;
      if (write && p_.verify && p_.verifyKind != VerifyKind::kNull) {
        uint8_t* cpu = p_.bufCpu + static_cast<uint64_t>(slot) * p_.slotBytes;
        writeSeq_++;
        for (uint32_t b = 0; b < s.blocks; b++) fillVerifyBlock(cpu + static_cast<uint64_t>(b) * p_.lbaSize, p_.lbaSize, s.lba + b, writeSeq_, p_.seed, p_.verifyKind);
      }
      entries_[slot].len = bytes;  // address and flags are the slot's, set up front
      const uint64_t tSubmit = sample ? ticks() : 0;
      const QueueSubmitInfo info = q_.submit(QueueIo{write, p_.nsid, s.lba, s.blocks, p_.lbaSize, &entries_[slot], 1, slot});
      if (sample) sampled += timed(tSubmit, ticks());
      if (info.result == QueueSubmit::kFull) {
        issuedBytes_ -= bytes;  // not issued after all; the next pass retries
        if (phase_ == Phase::kVerify) verifyPos_ -= bytes;
        else if (!p_.random) seqPos_[write ? 1 : 0] = seqPrev_[write ? 1 : 0];
        break;
      }
      if (info.result == QueueSubmit::kError) {
        fail(22, 0, s.lba, info.why ? info.why : "the queue refused the command");
        break;
      }
      free_.pop_back();
      s.inFlight = true;
      inflight_++;
      if (p_.ioLog) {
        if (r_.ioLogCount < p_.ioLogCap) {
          p_.ioLog[2 * r_.ioLogCount] = static_cast<double>(s.lba * p_.lbaSize);
          p_.ioLog[2 * r_.ioLogCount + 1] = write ? -static_cast<double>(bytes) : static_cast<double>(bytes);
        }
        r_.ioLogCount++;
      }
      batch_.push_back(slot);
      batchWrites += write;
      switch (info.format) {
        case DptrKind::kPrp: r_.prpCommands++; break;
        case DptrKind::kSgl: r_.sglCommands++; break;
        case DptrKind::kSplit: r_.splitCommands++; r_.childCommands += info.children; break;
        case DptrKind::kBounce: r_.bounces++; break;
        case DptrKind::kNone: break;
      }
    }
    if (!batch_.empty()) {
      const uint64_t tBeforeRing = sample ? ticks() : 0;
      q_.ring();
      const uint64_t tRing = ticks();
      if (sample) sampled += timed(tBeforeRing, tRing);
      for (uint32_t slot : batch_) slots_[slot].tRing = tRing;
      batchSlat = tRing - tLoop;
      // fio's "IO depths": the depth the queue reached with this submission, per IO.
      const uint32_t bucket = inflight_ >= 64 ? 6 : 31u - static_cast<uint32_t>(__builtin_clz(inflight_));
      r_.depthHist[bucket] += batch_.size();
    }

    // Reap what has completed.
    const uint64_t tPoll = sample ? ticks() : 0;
    const uint32_t n = q_.poll(tags, status, kPollBatch);
    now = ticks();
    if (sample && n) sampled += timed(tPoll, now);
    if (n) {
      for (uint32_t i = 0; i < n; i++) {
        if (tags[i] >= p_.iodepth) {
          fail(71 /* EPROTO */, status[i], 0, "a completion carried a tag this job never issued");
          continue;
        }
        complete(static_cast<uint32_t>(tags[i]), status[i], now);
      }
      sincePublish += n;
    }
    // slat: from the pass's timestamp, taken before the batch was prepared, to the one
    // right after its doorbell — the same value for every IO of the batch, so it is
    // recorded once per direction, weighted by the batch's IOs (after the reap, off the
    // doorbell's critical path).
    if (measuring_ && !batch_.empty()) {
      const uint64_t batchReads = batch_.size() - batchWrites;
      if (batchReads) r_.read.slat.recordN(batchSlat, batchReads);
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
    }
    if (now >= deadline && phase_ == Phase::kMain) stopIssuing_ = true;
    if (stop_.load(std::memory_order_relaxed)) stopIssuing_ = true;
    if (sincePublish >= 1024) {
      publishProgress(now);
      sincePublish = 0;
    }
    if (snapshot_) {
      // Acquire pairs with the asker's release: nothing else to see, but it keeps the
      // request/answer pairing explicit for the reader (and for TSan).
      const uint32_t req = snapshot_->requested.load(std::memory_order_acquire);
      if (req != snapshot_->answered.load(std::memory_order_relaxed)) answerSnapshot(now, req);
    }
    if (inflight_ == 0 && stopIssuing_) {
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
    }
  }
  const uint64_t tEnd = ticks();
  if (!measuring_) resetMeasurement(tEnd);
  finishTimes(r_, tEnd);
  publishProgress(tEnd);
  publish(progress_, kProgState, static_cast<double>(JobState::kDone));
}

}  // namespace phyr::bench
