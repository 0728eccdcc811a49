// The job engine against an in-memory queue: closed-loop depth, sizes and directions,
// runtime and size limits, verify (write + read back, corruption caught, verify_fatal),
// IO errors, and bad parameters — all without a controller.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "bench/native/engine.h"
#include "check.h"

using namespace phyr::bench;

namespace {

// A queue whose "device" is a byte array: commands complete on the next poll. Device
// addresses are CPU addresses (no IOMMU in this test).
class MemQueue {
 public:
  MemQueue(uint64_t lbas, uint32_t lbaSize, uint32_t capacity)
      : lbaSize_(lbaSize), capacity_(capacity), disk_(lbas * lbaSize, 0) {}

  QueueSubmitInfo submit(const QueueIo& io) {
    if (pending_.size() - head_ >= capacity_) return {QueueSubmit::kFull, DptrKind::kNone, 0, nullptr};
    if (io.trim) {
      // Dataset Management: the range list is in the data buffer; deallocated reads zero.
      uint32_t count;
      uint64_t slba;
      const uint8_t* range = reinterpret_cast<const uint8_t*>(io.data[0].addr);
      std::memcpy(&count, range + 4, 4);
      std::memcpy(&slba, range + 8, 8);
      if (io.data[0].len != 16 || slba != io.lba || count != io.blocks) return {QueueSubmit::kError, DptrKind::kNone, 0, "bad range"};
      std::memset(disk_.data() + slba * lbaSize_, 0, static_cast<size_t>(count) * lbaSize_);
      trims_++;
      pending_.push_back({io.tag, 0});
      return {QueueSubmit::kOk, DptrKind::kPrp, 1, nullptr};
    }
    if (io.flush) {
      // A flush covers the writes completed before it: none may be in flight.
      if (pending_.size() - head_ != 0) flushesOverInFlight_++;
      flushes_++;
      flushAfterWrites_.push_back(writes_);
      pending_.push_back({io.tag, 0});
      return {QueueSubmit::kOk, DptrKind::kNone, 1, nullptr};
    }
    if (io.lbaSize != lbaSize_ || io.dataCount != 1) return {QueueSubmit::kError, DptrKind::kNone, 0, "bad command"};
    const uint64_t bytes = static_cast<uint64_t>(io.blocks) * lbaSize_;
    if ((io.lba + io.blocks) * lbaSize_ > disk_.size() || io.data[0].len != bytes) return {QueueSubmit::kError, DptrKind::kNone, 0, "out of range"};
    uint8_t* mem = reinterpret_cast<uint8_t*>(io.data[0].addr);
    uint8_t* at = disk_.data() + io.lba * lbaSize_;
    if (io.write) std::memcpy(at, mem, bytes);
    else std::memcpy(mem, at, bytes);
    submitted_++;
    if (submitted_ == 1) niceAtFirst_ = getpriority(PRIO_PROCESS, 0);  // Linux: the calling thread's
    lbas_.push_back(io.lba);
    if (stampSubmits_) submitNs_.push_back(monotonicNs());
    if (cfsAfter_ && submitted_ > cfsAfter_) {
      // The device failed: it raises CSTS.CFS and fetches (completes) nothing more.
      if (csts_) *csts_ |= 0x2u;
      return {QueueSubmit::kOk, DptrKind::kPrp, 1, nullptr};
    }
    if (dropNth_ && submitted_ % dropNth_ == 0) return {QueueSubmit::kOk, DptrKind::kPrp, 1, nullptr};  // completion lost
    uint16_t status = 0;
    if (failLba_ != UINT64_MAX && io.lba <= failLba_ && failLba_ < io.lba + io.blocks) status = 0x80;  // LBA Out of Range
    for (size_t i = head_; i < pending_.size(); i++) {
      if (pending_[i].lba < io.lba + io.blocks && io.lba < pending_[i].lba + pending_[i].blocks) overlapsInFlight_++;
    }
    pending_.push_back({io.tag, status, io.lba, io.blocks});
    maxOutstanding_ = std::max<uint64_t>(maxOutstanding_, pending_.size() - head_);
    (io.write ? writes_ : reads_)++;
    return {QueueSubmit::kOk, DptrKind::kPrp, 1, nullptr};
  }
  void ring() { doorbells_++; }
  uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max) {
    if (pollLimit_ && max > pollLimit_) max = pollLimit_;
    maxPollAsked_ = std::max<uint64_t>(maxPollAsked_, max);
    uint32_t n = 0;
    while (head_ < pending_.size() && n < max) {
      tags[n] = pending_[head_].tag;
      status[n] = pending_[head_].status;
      head_++;
      n++;
    }
    if (head_ == pending_.size()) pending_.clear(), head_ = 0;
    return n;
  }
  void corrupt(uint64_t lba) { disk_[lba * lbaSize_ + 100] ^= 0xff; }

  uint32_t lbaSize_;
  uint32_t capacity_;
  std::vector<uint8_t> disk_;
  struct P {
    uint64_t tag;
    uint16_t status;
    uint64_t lba = 0;
    uint32_t blocks = 0;
  };
  uint64_t overlapsInFlight_ = 0;
  int niceAtFirst_ = 100;  // the submitting thread's nice value at the first read or write  // reads/writes accepted while one in flight shared a block
  std::vector<P> pending_;
  size_t head_ = 0;
  uint64_t maxOutstanding_ = 0, doorbells_ = 0, reads_ = 0, writes_ = 0;
  uint64_t flushes_ = 0, flushesOverInFlight_ = 0, trims_ = 0;
  uint32_t pollLimit_ = 0;  // a device that completes at most this many per poll (0 = all)
  uint64_t maxPollAsked_ = 0;
  std::vector<uint64_t> flushAfterWrites_;
  uint64_t failLba_ = UINT64_MAX;
  uint64_t submitted_ = 0;
  std::vector<uint64_t> lbas_;  // first LBA of each accepted command, in submission order
  bool stampSubmits_ = false;   // record when each read or write was accepted (submitNs_)
  std::vector<uint64_t> submitNs_;
  uint64_t dropNth_ = 0;   // never complete every Nth command (0 = off)
  uint64_t cfsAfter_ = 0;  // after this many commands, set CFS in *csts_ and go silent (0 = off)
  uint32_t* csts_ = nullptr;
};

JobParams baseParams(std::vector<uint8_t>& buf, uint32_t iodepth, uint32_t bs) {
  JobParams p;
  p.lbaSize = 512;
  p.regionLba = 0;
  p.regionBytes = 1 << 20;
  p.iodepth = iodepth;
  p.readBs.min = p.readBs.max = bs;
  p.writeBs.min = p.writeBs.max = bs;
  p.ioBytes = p.regionBytes;
  buf.assign(static_cast<size_t>(iodepth) * bs, 0);
  p.bufCpu = buf.data();
  p.bufIova = reinterpret_cast<uint64_t>(buf.data());
  p.slotBytes = bs;
  return p;
}

JobResults runJob(MemQueue& q, const JobParams& p, std::vector<double>* progress = nullptr) {
  JobResults r;
  std::atomic<bool> stop{false};
  JobEngine<MemQueue> e(q, p, r, progress ? progress->data() : nullptr, stop);
  e.run();
  return r;
}

}  // namespace

TEST(bench_engine_sequential_read_covers_size_at_depth) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 8, 4096);
  std::vector<double> progress(kProgFields, 0);
  const JobResults r = runJob(q, p, &progress);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 256u);  // 1 MiB / 4 KiB
  CHECK_EQ(r.read.bytes, 1u << 20);
  CHECK_EQ(r.write.ios, 0u);
  CHECK_EQ(q.maxOutstanding_, 8u);
  CHECK_EQ(r.read.clat.count(), 256u);
  CHECK_EQ(r.read.lat.count(), 256u);
  CHECK(r.read.lat.min() >= r.read.clat.min());
  CHECK_EQ(r.prpCommands, 256u);
  CHECK(r.depthHist[3] > 0);  // depth 8 reached
  CHECK(progress[kProgState] == static_cast<double>(JobState::kDone));
  CHECK(progress[kProgReadIos] == 256.0);
  CHECK(r.runtimeNs > 0);
}

TEST(bench_engine_random_mixed_respects_rwmix_and_bs_split) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 8192);
  p.random = true;
  p.readPercent = 70;
  p.readBs.min = 4096;
  p.readBs.max = 8192;
  p.readBs.splitCount = 2;
  p.readBs.splitBytes[0] = 4096;
  p.readBs.splitBytes[1] = 8192;
  p.readBs.splitCumulative[0] = 5000;
  p.readBs.splitCumulative[1] = 10000;
  p.ioBytes = 8u << 20;  // several passes over the 1 MiB region
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  const double readShare = static_cast<double>(r.read.ios) / static_cast<double>(r.read.ios + r.write.ios);
  CHECK(readShare > 0.65 && readShare < 0.75);
  // Reads average 6 KiB (half 4 KiB, half 8 KiB); writes are all 8 KiB.
  const double avgRead = static_cast<double>(r.read.bytes) / static_cast<double>(r.read.ios);
  CHECK(avgRead > 5600 && avgRead < 6600);
  CHECK_EQ(r.write.bytes, r.write.ios * 8192);
  CHECK(r.read.bytes + r.write.bytes >= (8u << 20));
}

TEST(bench_engine_time_based_runs_for_runtime) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 16, 4096);
  p.random = true;
  p.timeBased = true;
  p.runtimeNs = 30'000'000;  // 30 ms
  p.rampNs = 10'000'000;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK(r.runtimeNs >= 29'000'000 && r.runtimeNs < 500'000'000);
  CHECK(r.read.ios > 256);  // wrapped past one pass
}

TEST(bench_engine_write_then_verify_reads_back_clean) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 8, 4096);
  p.readPercent = 0;
  p.random = true;
  p.verify = true;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.write.ios, 256u);
  CHECK_EQ(r.read.ios, 256u);          // the verify pass read every written chunk back
  CHECK_EQ(r.verifyChecked, 2048u);    // every LBA of the region
  CHECK_EQ(r.verifyErrors, 0u);
}

TEST(bench_engine_read_verify_catches_corruption_and_names_the_lba) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams w = baseParams(buf, 8, 4096);
  w.readPercent = 0;
  w.verify = true;
  w.doVerify = false;
  CHECK_EQ(runJob(q, w).error, 0);
  q.corrupt(777);
  JobParams rd = w;
  rd.readPercent = 100;
  const JobResults r = runJob(q, rd);
  CHECK_EQ(r.error, 0);  // not fatal: the job continued
  CHECK_EQ(r.read.ios, 256u);
  CHECK_EQ(r.verifyErrors, 1u);
  CHECK_EQ(r.failureCount, 1u);
  CHECK_EQ(r.failures[0].lba, 777u);
  CHECK(r.failures[0].result == VerifyResult::kBadCrc);
  CHECK_EQ(r.failures[0].found.lba, 777u);
  // verify_fatal stops at the first failure.
  rd.verifyFatal = true;
  const JobResults f = runJob(q, rd);
  CHECK_EQ(f.error, 84);
  CHECK(std::strstr(f.errorText, "LBA 777") != nullptr);
  CHECK(f.read.ios < 256u);
}

TEST(bench_engine_md5_verify_round_trip_and_crc32c_blocks_are_a_header_mismatch) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams w = baseParams(buf, 8, 4096);
  w.readPercent = 0;
  w.random = true;
  w.verify = true;
  w.verifyKind = VerifyKind::kMd5;
  const JobResults r = runJob(q, w);  // write, then read back (do_verify)
  CHECK_EQ(r.error, 0);
  // The write phase ended where the read-back began: its time is part of the job's, not all.
  CHECK(r.mainPhaseNs > 0 && r.mainPhaseNs < r.runtimeNs);
  CHECK_EQ(r.verifyChecked, 2048u);
  CHECK_EQ(r.verifyErrors, 0u);
  VerifyHeader h;
  std::memcpy(&h, q.disk_.data() + 5 * 512, sizeof(h));
  CHECK_EQ(h.kind, static_cast<uint32_t>(VerifyKind::kMd5));  // md5 is what landed on disk
  // Rewrite the first 64 KiB with crc32c headers; an md5 read job flags each such block.
  JobParams c = baseParams(buf, 8, 4096);
  c.readPercent = 0;
  c.regionBytes = c.ioBytes = 64 << 10;
  c.verify = true;
  c.doVerify = false;
  const JobResults cw = runJob(q, c);
  CHECK_EQ(cw.error, 0);
  CHECK_EQ(cw.mainPhaseNs, cw.runtimeNs);  // no read-back: the main phase is the whole job
  JobParams rd = w;
  rd.readPercent = 100;
  rd.random = false;
  const JobResults m = runJob(q, rd);
  CHECK_EQ(m.error, 0);
  CHECK_EQ(m.verifyChecked, 2048u);
  CHECK_EQ(m.verifyErrors, 128u);  // the 128 blocks of 64 KiB
  CHECK(m.failures[0].result == VerifyResult::kBadKind);
  CHECK_EQ(m.failures[0].found.kind, static_cast<uint32_t>(VerifyKind::kCrc32c));
  rd.verifyFatal = true;
  const JobResults f = runJob(q, rd);
  CHECK_EQ(f.error, 84);
  CHECK(std::strstr(f.errorText, "header mismatch") != nullptr);
  // An unknown kind is refused before any IO.
  JobParams bad = w;
  bad.verifyKind = static_cast<VerifyKind>(9);
  CHECK(validateJobParams(bad) != nullptr);
}

TEST(bench_engine_io_error_stops_the_job_with_status) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  q.failLba_ = 100;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 5);
  CHECK_EQ(r.errorStatus, 0x80u);
  CHECK(std::strstr(r.errorText, "status 0x80") != nullptr);
  CHECK(r.read.ios < 256u);
}

TEST(bench_engine_queue_full_is_retried_not_fatal) {
  MemQueue q(2048, 512, 3);  // the queue holds fewer than iodepth
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 16, 4096);
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 256u);
  CHECK_EQ(q.maxOutstanding_, 3u);
}

// fio's rw=MODE:N: the offsets fio 3.33 wrote to its iolog for a 64 KiB region, 4 KiB
// blocks, rw=read:8k (forward: the pass ends at the region's end) and rw=read:-8k (backward:
// wraps from the start to the last block, ends by bytes). A queue of 3 for a depth of 16
// makes refused submits roll the position back.
TEST(bench_engine_sequential_skip_offsets_are_fios) {
  const std::vector<std::pair<int64_t, std::vector<uint64_t>>> cases = {
      {8192, {0, 12, 24, 36, 48, 60}},
      {-8192, {0, 56, 52, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0}},
      {-4096, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
  };
  for (const auto& [skip, kib] : cases) {
    MemQueue q(2048, 512, 3);
    std::vector<uint8_t> buf;
    JobParams p = baseParams(buf, 16, 4096);
    p.regionBytes = p.ioBytes = 64 << 10;
    p.seqSkip = skip;
    const JobResults r = runJob(q, p);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(q.lbas_.size(), kib.size());
    for (size_t i = 0; i < kib.size() && i < q.lbas_.size(); i++) CHECK_EQ(q.lbas_[i] * 512, kib[i] * 1024);
  }
}

TEST(bench_engine_rejects_bad_parameters) {
  MemQueue q(2048, 512, 16);
  std::vector<uint8_t> buf;
  struct Case {
    void (*mutate)(JobParams&);
  } cases[] = {
      {[](JobParams& p) { p.seqSkip = 100; }},
      {[](JobParams& p) { p.seqSkip = -(4 << 20); }},
      {[](JobParams& p) { p.seqSkip = 4096; p.random = true; }},
      {[](JobParams& p) { p.lbaSize = 1000; }},
      {[](JobParams& p) { p.iodepth = 0; }},
      {[](JobParams& p) { p.regionBytes = 0; }},
      {[](JobParams& p) { p.readBs.min = p.readBs.max = 1000; }},
      {[](JobParams& p) { p.readBs.max = 1 << 20; }},
      {[](JobParams& p) { p.ioBytes = 0; }},
      {[](JobParams& p) { p.timeBased = true; }},
      {[](JobParams& p) { p.readPercent = 50; p.verify = true; }},
      {[](JobParams& p) { p.regionBytes = 2048; }},
      {[](JobParams& p) { p.cmdTimeoutNs = 0; }},
      {[](JobParams& p) { p.cmdTimeoutNs = kMinCmdTimeoutNs - 1; }},
      {[](JobParams& p) { p.cmdTimeoutNs = kMaxCmdTimeoutNs + 1; }},
      {[](JobParams& p) { p.rateBps[0] = 4096; p.rateMinBps[0] = 8192; }},
      {[](JobParams& p) { p.rateCycleNs = 999'999; }},
      {[](JobParams& p) { p.thinktimeNs = 1000; p.thinktimeBlocks = 0; }},
      {[](JobParams& p) { p.thinktimeNs = 1000; p.thinktimeSpinNs = 2000; }},
      {[](JobParams& p) { p.iodepthLow = 5; }},
      {[](JobParams& p) { p.batchSubmit = 5; }},
      {[](JobParams& p) { p.batchCompleteMin = 3; p.batchCompleteMax = 2; }},
  };
  for (const Case& c : cases) {
    JobParams p = baseParams(buf, 4, 4096);
    c.mutate(p);
    CHECK(validateJobParams(p) != nullptr);
    const JobResults r = runJob(q, p);
    CHECK_EQ(r.error, 22);
    CHECK_EQ(r.read.ios, 0u);
  }
  JobParams ok = baseParams(buf, 4, 4096);
  CHECK(validateJobParams(ok) == nullptr);
}

TEST(bench_engine_lost_completion_times_out_naming_the_command) {
  MemQueue q(2048, 512, 1024);
  q.dropNth_ = 40;
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.timeBased = true;
  p.runtimeNs = 60'000'000'000ull;  // would run a minute
  p.cmdTimeoutNs = 50'000'000ull;   // 50 ms
  const uint64_t t0 = monotonicNs();
  const JobResults r = runJob(q, p);
  const uint64_t took = monotonicNs() - t0;
  CHECK_EQ(r.error, 110);
  CHECK(std::strstr(r.errorText, "command timed out: read (opcode 02h) of 8 blocks at LBA ") != nullptr);
  CHECK(std::strstr(r.errorText, "cmd_timeout 50 ms") != nullptr);
  // The 40th command was dropped: its LBA is the one named (sequential reads of 8 blocks).
  CHECK_EQ(r.errorLba, 39u * 8u);
  CHECK(took >= 50'000'000ull && took < 1'000'000'000ull);
}

TEST(bench_engine_controller_fatal_status_ends_the_job_at_once) {
  MemQueue q(2048, 512, 1024);
  uint32_t csts = 0x1;  // RDY
  q.csts_ = &csts;
  q.cfsAfter_ = 100;
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 8, 4096);
  p.timeBased = true;
  p.runtimeNs = 60'000'000'000ull;
  p.csts = &csts;  // the default 10 s command timeout stays: CFS must end the job well before
  const uint64_t t0 = monotonicNs();
  const JobResults r = runJob(q, p);
  const uint64_t took = monotonicNs() - t0;
  CHECK_EQ(r.error, 5);
  CHECK(std::strstr(r.errorText, "controller fatal status: CSTS.CFS = 1 (CSTS = 0x3)") != nullptr);
  CHECK(std::strstr(r.errorText, "8 command(s) in flight, the oldest: read (opcode 02h)") != nullptr);
  CHECK(took < 1'000'000'000ull);
}

TEST(bench_engine_csts_all_ones_is_a_gone_device) {
  MemQueue q(2048, 512, 1024);
  uint32_t csts = 0xFFFFFFFFu;
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.timeBased = true;
  p.runtimeNs = 60'000'000'000ull;
  p.csts = &csts;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 19);
  CHECK(std::strstr(r.errorText, "the controller is gone: CSTS reads all ones") != nullptr);
}

TEST(bench_engine_healthy_controller_is_watched_without_failing) {
  MemQueue q(2048, 512, 1024);
  uint32_t csts = 0x1;
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.timeBased = true;
  p.runtimeNs = 100'000'000ull;  // 100 ms: several health checks
  p.cmdTimeoutNs = kMinCmdTimeoutNs;
  p.csts = &csts;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK(r.read.ios > 0u);
}

TEST(bench_engine_thread_per_job_with_stop_flag) {
  // Two jobs on two threads, each with its own queue, stopped from outside mid-run.
  MemQueue q1(2048, 512, 64), q2(2048, 512, 64);
  std::vector<uint8_t> b1, b2;
  JobParams p1 = baseParams(b1, 8, 4096), p2 = baseParams(b2, 8, 4096);
  p1.timeBased = p2.timeBased = true;
  p1.runtimeNs = p2.runtimeNs = 10'000'000'000ull;  // would run 10 s
  std::vector<double> prog1(kProgFields, 0), prog2(kProgFields, 0);
  JobResults r1, r2;
  std::atomic<bool> stop{false};
  std::thread t1([&] { JobEngine<MemQueue>(q1, p1, r1, prog1.data(), stop).run(); });
  std::thread t2([&] { JobEngine<MemQueue>(q2, p2, r2, prog2.data(), stop).run(); });
  // Watch progress the way JS does (atomic loads of the shared doubles) until both run.
  auto ios = [](std::vector<double>& pr) {
    uint64_t bits = __atomic_load_n(reinterpret_cast<uint64_t*>(&pr[kProgReadIos]), __ATOMIC_RELAXED);
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    return d;
  };
  const uint64_t t0 = monotonicNs();
  while ((ios(prog1) < 2048 || ios(prog2) < 2048) && monotonicNs() - t0 < 5'000'000'000ull) std::this_thread::yield();
  stop.store(true);
  t1.join();
  t2.join();
  CHECK(r1.read.ios >= 2048 && r2.read.ios >= 2048);
  CHECK(r1.runtimeNs < 5'000'000'000ull);
  CHECK_EQ(r1.error, 0);
}

#include "bench/native/loopback.h"

TEST(bench_engine_drives_the_driver_queue_pair_through_a_loopback_controller) {
  const char* why = "";
  auto q = LoopbackQueue::create(64, &why);
  CHECK(q != nullptr);
  if (!q) return;
  CHECK_EQ(q->capacity(), 48u);
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = 1 << 20;
  p.random = true;
  p.iodepth = 48;
  p.ioBytes = 8u << 20;
  p.readBs.min = p.readBs.max = 4096;
  p.slotBytes = 4096;
  p.bufIova = 1ull << 40;
  JobResults r;
  std::atomic<bool> stop{false};
  JobEngine<LoopbackQueue>(*q, p, r, nullptr, stop).run();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 2048u);
  CHECK_EQ(q->answered(), 2048u);  // every SQE reached the "controller" once
  CHECK_EQ(r.prpCommands, 2048u);
  CHECK(r.depthHist[5] > 0);       // depth 32..63 reached
  CHECK(LoopbackQueue::create(1, &why) == nullptr);
}

// fio's rate_iops=200 for 100 ms issues ~20 IOs: the schedule is by time, not by how fast
// the (instant) queue completes, at any depth.
TEST(bench_engine_rate_paces_the_ios_to_the_schedule) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 8, 4096);
  p.timeBased = true;
  p.runtimeNs = 100'000'000;
  p.rateBps[0] = 200 * 4096;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK(r.read.ios >= 17 && r.read.ios <= 22);
  // Unpaced, the same job does thousands.
  JobParams fast = baseParams(buf, 8, 4096);
  fast.timeBased = true;
  fast.runtimeNs = 100'000'000;
  CHECK(runJob(q, fast).read.ios > 1000);
}

TEST(bench_engine_poisson_rate_keeps_the_mean) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.timeBased = true;
  p.runtimeNs = 300'000'000;
  p.rateBps[0] = 1000 * 4096;
  p.ratePoisson = true;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  // 300 expected; a Poisson count has a standard deviation of ~17.
  CHECK(r.read.ios >= 230 && r.read.ios <= 370);
}

TEST(bench_engine_rate_limits_one_direction_of_a_mix) {
  // fio's rate=,R: writes paced, reads free; a write not yet due gives way to a read.
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.readPercent = 50;
  p.timeBased = true;
  p.runtimeNs = 100'000'000;
  p.rateBps[1] = 100 * 4096;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  // ~11 due in 100 ms (one at 0, one every 10 ms); a preempted thread may miss the last.
  CHECK(r.write.ios >= 8 && r.write.ios <= 12);
  CHECK(r.read.ios > 100);
}

TEST(bench_engine_number_ios_ends_a_size_bound_job) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.maxIos = 10;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 10u);
}

TEST(bench_engine_thinktime_pauses_after_every_n_blocks) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 1, 4096);
  p.timeBased = true;
  p.runtimeNs = 100'000'000;
  p.thinktimeNs = 20'000'000;
  p.thinktimeSpinNs = 5'000'000;
  p.thinktimeBlocks = 2;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  // Two IOs, then 20 ms of thought: five rounds in 100 ms, none started after the runtime.
  CHECK(r.read.ios >= 8 && r.read.ios <= 10);
}

// The indexes i where the submission of IO i+1 came at least gapNs after IO i's: a think
// lies between them (sleeps never end early; IOs between thinks go µs apart).
std::vector<size_t> thinkGaps(const MemQueue& q, uint64_t gapNs) {
  std::vector<size_t> at;
  for (size_t i = 1; i < q.submitNs_.size(); i++) {
    if (q.submitNs_[i] - q.submitNs_[i - 1] >= gapNs) at.push_back(i - 1);
  }
  return at;
}

TEST(bench_engine_thinktime_blocks_count_completions_or_issues) {
  // iodepth 8, a think after every block, 16 IOs. issue: a think after every IO issued, so
  // never two in flight. complete (fio's default): the 8 of the first pass go before any
  // completes; the 8th fills the queue, the test after its reap counts one completion (as
  // fio's, which reaps one at a time) and thinks; the other 7 drained count towards the
  // next test, so from then on one IO completes per think: 9 thinks, as fio's.
  for (const bool byCompletion : {false, true}) {
    MemQueue q(2048, 512, 1024);
    q.stampSubmits_ = true;
    std::vector<uint8_t> buf;
    JobParams p = baseParams(buf, 8, 4096);
    p.ioBytes = 16 * 4096;
    p.thinktimeNs = 20'000'000;
    p.thinktimeBlocks = 1;
    p.thinktimeByCompletion = byCompletion;
    const JobResults r = runJob(q, p);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(r.read.ios, 16u);
    const std::vector<size_t> gaps = thinkGaps(q, 19'000'000);
    if (!byCompletion) {
      CHECK_EQ(q.maxOutstanding_, 1u);
      CHECK_EQ(gaps.size(), 15u);
    } else {
      CHECK_EQ(q.maxOutstanding_, 8u);
      CHECK_EQ(gaps.size(), 8u);
      CHECK(!gaps.empty() && gaps.front() == 7);  // between the 8th IO and the 9th
    }
  }
}

TEST(bench_engine_thinktime_complete_at_depth_one_is_issue) {
  // iodepth 1: each IO completes before the next, so counting completions thinks after the
  // same IOs as counting issues (fio's psync): 8 IOs, a think after every 2, the last too.
  for (const bool byCompletion : {false, true}) {
    MemQueue q(2048, 512, 1024);
    q.stampSubmits_ = true;
    std::vector<uint8_t> buf;
    JobParams p = baseParams(buf, 1, 4096);
    p.ioBytes = 8 * 4096;
    p.thinktimeNs = 10'000'000;
    p.thinktimeBlocks = 2;
    p.thinktimeByCompletion = byCompletion;
    const auto t0 = std::chrono::steady_clock::now();
    const JobResults r = runJob(q, p);
    const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    CHECK_EQ(r.read.ios, 8u);
    CHECK(thinkGaps(q, 9'500'000) == (std::vector<size_t>{1, 3, 5}));
    CHECK(wall >= 40'000'000);  // and the fourth think after the last IO
  }
}

TEST(bench_engine_thinktime_iotime_alternates_io_and_thought) {
  // 40 ms of IO, 20 ms of thought, over 200 ms. fio 3.33 times the IO from the last think's
  // start, so the first stretch is 60 ms: thinks at ~60, ~120 and ~180 ms (a loaded machine
  // may push the last past the runtime).
  MemQueue q(2048, 512, 1024);
  q.stampSubmits_ = true;
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 1, 4096);
  p.timeBased = true;
  p.runtimeNs = 200'000'000;
  p.rateBps[0] = 20'000ull * 4096;  // keeps the log of submissions small
  p.thinktimeNs = 20'000'000;
  p.thinktimeBlocks = 0;  // time only: thinktime_iotime without thinktime_blocks
  p.thinktimeIotimeNs = 40'000'000;
  CHECK(validateJobParams(p) == nullptr);
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  const std::vector<size_t> gaps = thinkGaps(q, 19'000'000);
  CHECK(gaps.size() >= 2 && gaps.size() <= 3);
  // A think is decided at the last IO before it: 60 ms (iotime + thinktime) after the job
  // started, then after the last decision.
  uint64_t from = q.submitNs_.front();
  for (size_t g : gaps) {
    CHECK(q.submitNs_[g] - from >= 59'000'000);
    from = q.submitNs_[g];
  }
  // With thinktime_blocks as well, whichever comes first: here every 5 IOs.
  MemQueue q2(2048, 512, 1024);
  q2.stampSubmits_ = true;
  JobParams b = baseParams(buf, 1, 4096);
  b.ioBytes = 20 * 4096;
  b.thinktimeNs = 10'000'000;
  b.thinktimeBlocks = 5;
  b.thinktimeIotimeNs = 10'000'000'000ull;
  const JobResults r2 = runJob(q2, b);
  CHECK_EQ(r2.read.ios, 20u);
  const std::vector<size_t> g2 = thinkGaps(q2, 9'500'000);
  CHECK(g2 == (std::vector<size_t>{4, 9, 14}));
}

TEST(bench_engine_rate_ignore_thinktime_restarts_the_schedule) {
  // 100 IOPS, a 50 ms think after every 5 IOs, 500 ms. The schedule catches up after a
  // think (fio's default): the 5 IOs owed go at once, so the rate holds (~50 IOs). With
  // rate_ignore_thinktime the 5 IOs take their 50 ms after each think: ~25.
  for (const bool ignore : {false, true}) {
    MemQueue q(2048, 512, 1024);
    std::vector<uint8_t> buf;
    JobParams p = baseParams(buf, 1, 4096);
    p.timeBased = true;
    p.runtimeNs = 500'000'000;
    p.rateBps[0] = 100 * 4096;
    p.thinktimeNs = 50'000'000;
    p.thinktimeBlocks = 5;
    p.rateIgnoreThinktime = ignore;
    const JobResults r = runJob(q, p);
    CHECK_EQ(r.error, 0);
    if (ignore) CHECK(r.read.ios >= 18 && r.read.ios <= 31);
    else CHECK(r.read.ios >= 40 && r.read.ios <= 56);
  }
}

TEST(bench_engine_serialize_overlap_never_has_two_overlapping_ios_in_flight) {
  // rw=rw at iodepth 8: the read and the write streams both start at the region's start, so
  // a write of a block is drawn while the read of it is in flight. A device that completes
  // one command per poll keeps them in flight long enough to overlap.
  for (const bool serialize : {false, true}) {
    MemQueue q(2048, 512, 1024);
    q.pollLimit_ = 1;
    std::vector<uint8_t> buf;
    JobParams p = baseParams(buf, 8, 4096);
    p.readPercent = 50;
    p.ioBytes = 256 * 1024;
    p.serializeOverlap = serialize;
    const JobResults r = runJob(q, p);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(r.read.bytes + r.write.bytes, 256u * 1024);
    if (serialize) CHECK_EQ(q.overlapsInFlight_, 0u);
    else CHECK(q.overlapsInFlight_ > 0);
  }
  // Random writes of two sizes over a small region overlap often; serialized, never.
  MemQueue q(2048, 512, 1024);
  q.pollLimit_ = 2;
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 16, 16384);
  p.random = true;
  p.readPercent = 0;
  p.regionBytes = 128 * 1024;
  p.writeBs.min = 4096;
  p.writeBs.max = 16384;
  p.ioBytes = 4 << 20;
  p.serializeOverlap = true;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.write.bytes, 4u << 20);
  CHECK_EQ(q.overlapsInFlight_, 0u);
}

TEST(bench_engine_nice_raises_the_job_threads_nice_value_only) {
  // On a thread of its own: nice(2) changes the calling thread's value for good.
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 1, 4096);
  p.ioBytes = 16 * 4096;
  p.nice = 3;
  const int before = getpriority(PRIO_PROCESS, 0);
  JobResults r;
  std::thread th([&] { r = runJob(q, p); });
  th.join();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 16u);
  CHECK_EQ(q.niceAtFirst_, std::min(before + 3, 19));
  CHECK_EQ(getpriority(PRIO_PROCESS, 0), before);  // this thread's is unchanged
  JobParams bad = baseParams(buf, 1, 4096);
  bad.nice = 20;
  CHECK(validateJobParams(bad) != nullptr);
}

TEST(bench_engine_startdelay_is_not_runtime) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.startDelayNs = 50'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  const JobResults r = runJob(q, p);
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 256u);
  CHECK(wall >= 50'000'000);
  CHECK(r.runtimeNs < 50'000'000);
}

TEST(bench_engine_rate_min_fails_a_slow_job_with_eio) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 1, 4096);
  p.timeBased = true;
  p.runtimeNs = 5'000'000'000;
  p.rateBps[0] = 1000 * 4096;
  p.rateMinBps[0] = 900 * 4096;
  p.rateCycleNs = 100'000'000;
  p.thinktimeNs = 2'000'000;  // 2 ms per IO: at most 500 IOPS, below the minimum
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 5);
  CHECK(std::strstr(r.errorText, "rate_min=3686400B/s not met") != nullptr);
  // 2 s settle, a baseline, one 100 ms cycle: it ends well before its runtime.
  CHECK(r.runtimeNs >= 2'000'000'000 && r.runtimeNs < 3'000'000'000);
}

// fio's fsync=16 over 256 writes flushes 15 times: after every 16th write when more IO
// follows, never with a write in flight (a Flush covers completed writes only).
TEST(bench_engine_fsync_flushes_after_every_n_writes) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.readPercent = 0;
  p.fsyncEvery = 16;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.write.ios, 256u);
  CHECK_EQ(q.flushes_, 15u);
  CHECK_EQ(r.sync.ios, 15u);
  CHECK_EQ(r.sync.lat.count(), 15u);
  CHECK_EQ(q.flushesOverInFlight_, 0u);
  for (size_t i = 0; i < q.flushAfterWrites_.size(); i++) CHECK_EQ(q.flushAfterWrites_[i], 16u * (i + 1));
}

TEST(bench_engine_end_fsync_flushes_once_uncounted) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.readPercent = 0;
  p.endFsync = true;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(q.flushes_, 1u);
  CHECK_EQ(q.flushAfterWrites_[0], 256u);
  CHECK_EQ(q.flushesOverInFlight_, 0u);
  CHECK_EQ(r.sync.ios, 0u);
}

TEST(bench_engine_trim_deallocates_the_region_as_dataset_management) {
  MemQueue q(4096, 512, 1024);
  std::fill(q.disk_.begin(), q.disk_.end(), 0xab);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 65536);
  p.trim = true;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.trim.ios, 16u);  // 1 MiB in 64 KiB ranges
  CHECK_EQ(r.trim.bytes, 1u << 20);
  CHECK_EQ(r.read.ios, 0u);
  CHECK_EQ(q.trims_, 16u);
  CHECK_EQ(q.reads_, 0u);
  bool zero = true;
  for (uint32_t i = 0; i < (1u << 20); i++) zero = zero && q.disk_[i] == 0;
  CHECK(zero);
  CHECK(q.disk_[1u << 20] == 0xab);  // nothing beyond the region
}

// fio's iodepth_batch_submit=4 at iodepth=16: a doorbell per 4 commands, not per pass.
TEST(bench_engine_batch_submit_rings_per_n_commands) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 16, 4096);
  p.batchSubmit = 4;
  CHECK_EQ(runJob(q, p).read.ios, 256u);
  CHECK_EQ(q.doorbells_, 64u);
  MemQueue all(2048, 512, 1024);
  p.batchSubmit = 0;
  runJob(all, p);
  CHECK_EQ(all.doorbells_, 16u);  // one per pass of 16
}

// iodepth_low=4: once 16 are in flight, reap down to 4 before refilling (in one batch of 12).
TEST(bench_engine_iodepth_low_refills_from_the_low_mark) {
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 16, 4096);
  MemQueue q(2048, 512, 1024);
  q.pollLimit_ = 1;
  p.iodepthLow = 4;
  CHECK_EQ(runJob(q, p).read.ios, 256u);
  CHECK_EQ(q.doorbells_, 21u);  // 16, then 20 refills of 12
  MemQueue full(2048, 512, 1024);
  full.pollLimit_ = 1;
  p.iodepthLow = 0;
  runJob(full, p);
  CHECK(full.doorbells_ > 200);  // keeps the queue full: a refill per completion
}

// iodepth_batch_complete_min=8: reap 8 before submitting again; _max=2 caps each reap.
TEST(bench_engine_batch_complete_min_and_max) {
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 16, 4096);
  MemQueue q(2048, 512, 1024);
  q.pollLimit_ = 1;
  p.batchCompleteMin = 8;
  CHECK_EQ(runJob(q, p).read.ios, 256u);
  CHECK(q.doorbells_ <= 32);  // 16, then refills of 8
  MemQueue capped(2048, 512, 1024);
  p.batchCompleteMin = 0;
  p.batchCompleteMax = 2;
  CHECK_EQ(runJob(capped, p).read.ios, 256u);
  CHECK_EQ(capped.maxPollAsked_, 2u);
}

// fio's continue_on_error=read: the failed read is counted (an IO, no bytes) and the job
// reads the whole region; an error type not named still ends it, uncounted.
TEST(bench_engine_continue_on_error_counts_and_goes_on) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  q.failLba_ = 100;
  p.errorCountTypes = 1;
  p.continueEio = 1;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.totalErrors, 1u);
  CHECK_EQ(r.firstError, 5);
  CHECK(std::strstr(r.firstErrorText, "status 0x80") != nullptr);
  CHECK_EQ(r.read.ios, 256u);
  CHECK_EQ(r.read.bytes, 255u * 4096);
  MemQueue q2(2048, 512, 1024);
  q2.failLba_ = 100;
  p.errorCountTypes = 2;
  p.continueEio = 2;
  const JobResults w = runJob(q2, p);
  CHECK_EQ(w.error, 5);
  CHECK_EQ(w.totalErrors, 0u);
}

// fio's max_latency: a latency above it ends the job with ETIMEDOUT, the slow IO counted.
TEST(bench_engine_max_latency_ends_the_job_with_etimedout) {
  MemQueue q(2048, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 1, 4096);
  p.maxLatencyNs[0] = 1;  // every completion takes longer than 1 ns
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 110);
  CHECK_EQ(r.read.ios, 1u);
  CHECK(std::strstr(r.errorText, "exceeds specified max (1 nsec)") != nullptr);
  MemQueue q2(2048, 512, 1024);
  p.maxLatencyNs[0] = 0;
  p.maxLatencyNs[1] = 1;  // a write limit does not bound reads
  CHECK_EQ(runJob(q2, p).error, 0);
}

// rw=trimwrite: each block trimmed, then written (fio's set_rw_ddir); the size counts writes.
TEST(bench_engine_trimwrite_trims_then_writes_each_block) {
  MemQueue q(4096, 512, 1024);
  std::fill(q.disk_.begin(), q.disk_.end(), 0xab);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 4, 4096);
  p.readPercent = 0;
  p.trimWrite = true;
  p.ioBytes = 64 * 1024;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.trim.ios, 16u);
  CHECK_EQ(r.write.ios, 16u);
  CHECK_EQ(q.trims_, 16u);
  CHECK_EQ(q.lbas_.size(), 16u);
  for (uint32_t i = 0; i < 16; i++) CHECK_EQ(q.lbas_[i], i * 8ull);  // the writes, in order
  CHECK(q.disk_[64 * 1024] == 0xab);  // nothing beyond the 64 KiB
}

// read_iolog: the log's IOs in order, at their offsets, lengths and directions.
TEST(bench_engine_replay_issues_the_log_in_order) {
  MemQueue q(4096, 512, 1024);
  std::vector<uint8_t> buf;
  JobParams p = baseParams(buf, 2, 8192);
  const std::vector<double> log = {81920, 4096, 0, 0, 4096, 8192, 1, 0, 0, 512, 2, 0, 512, 4096, 0, 0};
  p.replay = log.data();
  p.replayCount = 4;
  p.readPercent = 50;
  p.readBs.min = p.writeBs.min = 512;
  p.ioBytes = 4096 + 8192 + 512 + 4096;
  const JobResults r = runJob(q, p);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.read.ios, 2u);
  CHECK_EQ(r.write.ios, 1u);
  CHECK_EQ(r.trim.ios, 1u);
  CHECK_EQ(q.lbas_.size(), 3u);
  CHECK_EQ(q.lbas_[0], 160u);
  CHECK_EQ(q.lbas_[1], 8u);
  CHECK_EQ(q.lbas_[2], 1u);
}
