// verify_backlog(_batch), verify_only and verify_interval in the job engine, against an
// in-memory queue: the order of writes and read-backs is fio 3.33's (sequences measured with
// fio --ioengine=psync --write_iolog on a regular file), a dry run issues no write, and one
// header per verify interval is written and checked.
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "bench/native/engine.h"
#include "check.h"

using namespace phyr::bench;

namespace {

// A byte-array "device" completing each command on the next poll; a read of `badLba_`
// returns one byte flipped (the medium's copy stays intact).
class VerifyQueue {
 public:
  VerifyQueue(uint64_t lbas, uint32_t lbaSize) : lbaSize_(lbaSize), disk_(lbas * lbaSize, 0) {}
  QueueSubmitInfo submit(const QueueIo& io) {
    const uint64_t bytes = static_cast<uint64_t>(io.blocks) * lbaSize_;
    if (io.flush || io.trim || io.dataCount != 1 || (io.lba + io.blocks) * lbaSize_ > disk_.size()) return {QueueSubmit::kError, DptrKind::kNone, 0, "unexpected command"};
    uint8_t* mem = reinterpret_cast<uint8_t*>(io.data[0].addr);
    uint8_t* at = disk_.data() + io.lba * lbaSize_;
    if (io.write) {
      std::memcpy(at, mem, bytes);
      writes_++;
    } else {
      std::memcpy(mem, at, bytes);
      if (badLba_ >= io.lba && badLba_ < io.lba + io.blocks) mem[(badLba_ - io.lba) * lbaSize_ + 200] ^= 0xff;
      reads_++;
    }
    pending_.push_back(io.tag);
    return {QueueSubmit::kOk, DptrKind::kPrp, 1, nullptr};
  }
  void ring() {}
  uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max) {
    uint32_t n = 0;
    for (; n < max && n < pending_.size(); n++) tags[n] = pending_[n], status[n] = 0;
    pending_.erase(pending_.begin(), pending_.begin() + n);
    return n;
  }
  uint32_t lbaSize_;
  std::vector<uint8_t> disk_;
  std::vector<uint64_t> pending_;
  uint64_t writes_ = 0, reads_ = 0;
  uint64_t badLba_ = UINT64_MAX;
};

// A sequential 4 KiB write job with crc32c verify over `bytes`, iodepth 1 (fio's psync).
JobParams writeJob(std::vector<uint8_t>& buf, uint64_t bytes, uint32_t bs = 4096) {
  JobParams p;
  p.lbaSize = 512;
  p.regionBytes = p.ioBytes = bytes;
  p.readPercent = 0;
  p.iodepth = 1;
  p.readBs.min = p.readBs.max = p.writeBs.min = p.writeBs.max = bs;
  buf.assign(bs, 0);
  p.bufCpu = buf.data();
  p.bufIova = reinterpret_cast<uint64_t>(buf.data());
  p.slotBytes = bs;
  p.verify = true;
  return p;
}

// Runs `p`, logging its IOs, and returns them as fio's iolog would list them: "w0 r0 ..."
// (direction, then the offset in 4 KiB units).
std::string runLogged(VerifyQueue& q, JobParams p, JobResults& r) {
  std::vector<double> log(3 * 1024);
  p.ioLog = log.data();
  p.ioLogCap = 1024;
  std::atomic<bool> stop{false};
  JobEngine<VerifyQueue> e(q, p, r, nullptr, stop);
  e.run();
  std::string out;
  for (uint64_t i = 0; i < r.ioLogCount && i < p.ioLogCap; i++) {
    if (!out.empty()) out += ' ';
    out += (log[3 * i + 2] == 1.0 ? 'w' : 'r') + std::to_string(static_cast<uint64_t>(log[3 * i]) / 4096);
  }
  return out;
}

// "w0 w1 w2 r0 r1 r2": `n` writes from `from`, then their read-backs.
std::string writesThenReads(uint32_t from, uint32_t n) {
  std::string w, r;
  for (uint32_t i = from; i < from + n; i++) w += " w" + std::to_string(i), r += " r" + std::to_string(i);
  return w.substr(1) + r;
}

// Strings compared with both printed when they differ (CHECK_EQ prints numbers).
#define CHECK_STR(a, b) checkStr((a), (b), #a, __LINE__)
void checkStr(const std::string& got, const std::string& want, const char* what, int line) {
  if (got == want) return;
  std::fprintf(stderr, "    %s:%d: %s:\n      got  %s\n      want %s\n", __FILE__, line, what, got.c_str(), want.c_str());
  ::phyr::test::currentFailures++;
}

}  // namespace

TEST(bench_verify_backlog_reads_back_every_n_writes_as_fio) {
  VerifyQueue q(256, 512);
  std::vector<uint8_t> buf;
  JobParams p = writeJob(buf, 128 << 10);
  p.verifyBacklog = 4;
  JobResults r;
  const std::string seq = runLogged(q, p, r);
  // fio 3.33: w0 w1 w2 w3 r0 r1 r2 r3 w4 ... — after the last write the phase ends and the
  // read-back reads the last four.
  std::string want;
  for (uint32_t i = 0; i < 32; i += 4) want += (want.empty() ? "" : " ") + writesThenReads(i, 4);
  CHECK_STR(seq, want);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.write.ios, 32u);
  CHECK_EQ(r.read.ios, 32u);
  CHECK_EQ(r.verifyChecked, 256u);  // every 512-byte block of the 128 KiB
  CHECK_EQ(r.verifyErrors, 0u);
}

TEST(bench_verify_backlog_batch_smaller_and_larger_than_the_backlog_as_fio) {
  std::vector<uint8_t> buf;
  {
    // verify_backlog=4 verify_backlog_batch=2, measured on fio 3.33.
    VerifyQueue q(256, 512);
    JobParams p = writeJob(buf, 128 << 10);
    p.verifyBacklog = 4;
    p.verifyBacklogBatch = 2;
    JobResults r;
    std::string want = "w0 w1 w2 w3 r0 r1";
    for (uint32_t i = 4; i < 32; i += 2) want += " w" + std::to_string(i) + " w" + std::to_string(i + 1) + " r" + std::to_string(i - 2) + " r" + std::to_string(i - 1);
    want += " r30 r31";
    CHECK_STR(runLogged(q, p, r), want);
    CHECK_EQ(r.read.ios, 32u);
  }
  {
    // verify_backlog=4 verify_backlog_batch=6, fio 3.33's sequence as it printed it.
    VerifyQueue q(256, 512);
    JobParams p = writeJob(buf, 128 << 10);
    p.verifyBacklog = 4;
    p.verifyBacklogBatch = 6;
    JobResults r;
    CHECK_STR(runLogged(q, p, r),
             std::string("w0 w1 w2 w3 r0 r1 r2 r3 w4 r4 w5 r5 w6 w7 w8 w9 r6 r7 r8 r9 w10 r10 w11 r11 w12 w13 w14 w15 r12 r13 r14 r15 ") +
                 "w16 r16 w17 r17 w18 w19 w20 w21 r18 r19 r20 r21 w22 r22 w23 r23 w24 w25 w26 w27 r24 r25 r26 r27 w28 r28 w29 r29 w30 w31 r30 r31");
  }
  {
    // verify_backlog=5: w0..w4 r0..r4, ..., then w30 w31 and the read-back of those two.
    VerifyQueue q(256, 512);
    JobParams p = writeJob(buf, 128 << 10);
    p.verifyBacklog = 5;
    JobResults r;
    std::string want;
    for (uint32_t i = 0; i < 30; i += 5) want += (want.empty() ? "" : " ") + writesThenReads(i, 5);
    CHECK_STR(runLogged(q, p, r), want + " " + writesThenReads(30, 2));
  }
}

TEST(bench_verify_backlog_catches_corruption_during_the_write_phase) {
  VerifyQueue q(256, 512);
  q.badLba_ = 9;  // in the third write (LBAs 8..15)
  std::vector<uint8_t> buf;
  JobParams p = writeJob(buf, 128 << 10);
  p.verifyBacklog = 4;
  p.verifyFatal = true;
  JobResults r;
  const std::string seq = runLogged(q, p, r);
  CHECK_EQ(r.error, 84);  // EILSEQ, at the first batch's read-back of LBA 8
  CHECK(std::strstr(r.errorText, "LBA 9") != nullptr);
  CHECK_EQ(r.write.ios, 4u);  // it stopped in the write phase, after the first backlog
  CHECK_STR(seq.substr(0, 11), std::string("w0 w1 w2 w3"));
}

TEST(bench_verify_backlog_at_depth_reads_each_write_once_after_it_completed) {
  VerifyQueue q(2048, 512);
  std::vector<uint8_t> buf;
  JobParams p = writeJob(buf, 1 << 20);
  p.iodepth = 8;
  buf.assign(8 * 4096, 0);
  p.bufCpu = buf.data();
  p.bufIova = reinterpret_cast<uint64_t>(buf.data());
  p.random = true;
  p.verifyBacklog = 3;
  JobResults r;
  runLogged(q, p, r);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.write.ios, 256u);
  CHECK_EQ(r.read.ios, 256u);  // each write read back exactly once
  CHECK_EQ(r.verifyChecked, 2048u);
  CHECK_EQ(r.verifyErrors, 0u);
}

TEST(bench_verify_only_issues_no_write_and_checks_an_earlier_run) {
  VerifyQueue q(256, 512);
  std::vector<uint8_t> buf;
  JobParams w = writeJob(buf, 128 << 10);
  w.random = true;
  w.doVerify = false;
  JobResults wr;
  runLogged(q, w, wr);
  CHECK_EQ(q.writes_, 32u);
  JobParams v = w;
  v.doVerify = true;
  v.verifyOnly = true;
  JobResults r;
  runLogged(q, v, r);
  CHECK_EQ(q.writes_, 32u);   // no write reached the device
  CHECK_EQ(r.write.ios, 32u);  // the dry run's writes, counted as fio counts them
  CHECK_EQ(r.write.bytes, 128u << 10);
  CHECK_EQ(r.write.clat.count(), 0u);  // and not timed: nothing was issued
  CHECK_EQ(r.mainPhaseNs, 0u);
  CHECK_EQ(r.read.ios, 32u);
  CHECK_EQ(r.verifyChecked, 256u);
  CHECK_EQ(r.verifyErrors, 0u);
  // A block changed since: the check fails it.
  q.badLba_ = 77;
  JobResults bad;
  runLogged(q, v, bad);
  CHECK_EQ(bad.verifyErrors, 1u);
  CHECK_EQ(bad.failures[0].lba, 77u);
  // Another seed (other options): every block is someone else's.
  JobParams other = v;
  other.seed = 0x1234;
  q.badLba_ = UINT64_MAX;
  JobResults o;
  runLogged(q, other, o);
  CHECK_EQ(o.verifyErrors, 256u);
  // do_verify=0: the dry run alone.
  JobParams dry = v;
  dry.doVerify = false;
  JobResults d;
  CHECK_STR(runLogged(q, dry, d), std::string());
  CHECK_EQ(d.write.ios, 32u);
  CHECK_EQ(d.read.ios, 0u);
}

TEST(bench_verify_interval_writes_one_header_per_interval) {
  VerifyQueue q(256, 512);
  std::vector<uint8_t> buf;
  JobParams p = writeJob(buf, 128 << 10, 8192);
  p.verifyInterval = 2048;
  JobResults r;
  runLogged(q, p, r);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.verifyChecked, 64u);  // 128 KiB / 2 KiB headers
  CHECK_EQ(r.verifyErrors, 0u);
  VerifyHeader h;
  std::memcpy(&h, q.disk_.data() + 6144, sizeof(h));
  CHECK_EQ(h.magic, kVerifyMagic);
  CHECK_EQ(h.lba, 12u);  // the interval's first LBA
  std::memcpy(&h, q.disk_.data() + 6144 + 512, sizeof(h));
  CHECK(h.magic != kVerifyMagic);  // no header inside an interval
  // A changed byte anywhere in an interval fails that interval's checksum.
  q.badLba_ = 13;
  JobParams v = p;
  v.verifyOnly = true;
  JobResults bad;
  runLogged(q, v, bad);
  CHECK_EQ(bad.verifyErrors, 1u);
  CHECK_EQ(bad.failures[0].lba, 12u);
  CHECK(bad.failures[0].result == VerifyResult::kBadCrc);
}

TEST(bench_verify_offset_moves_the_header_into_the_interval) {
  VerifyQueue q(256, 512);
  std::vector<uint8_t> buf;
  JobParams p = writeJob(buf, 64 << 10);
  p.verifyInterval = 4096;
  p.verifyOffset = 1000;
  JobResults r;
  runLogged(q, p, r);
  CHECK_EQ(r.error, 0);
  CHECK_EQ(r.verifyChecked, 16u);
  CHECK_EQ(r.verifyErrors, 0u);
  VerifyHeader h;
  std::memcpy(&h, q.disk_.data() + 3 * 4096 + 1000, sizeof(h));
  CHECK_EQ(h.magic, kVerifyMagic);  // on the medium, the header sits at the offset
  CHECK_EQ(h.lba, 24u);
  std::memcpy(&h, q.disk_.data() + 3 * 4096, sizeof(h));
  CHECK(h.magic != kVerifyMagic);
  // Read back without the offset, the interval's start holds no header.
  JobParams plain = p;
  plain.verifyOffset = 0;
  plain.verifyOnly = true;
  JobResults bad;
  runLogged(q, plain, bad);
  CHECK_EQ(bad.verifyErrors, 16u);
  CHECK(bad.failures[0].result == VerifyResult::kBadMagic);
}

TEST(bench_verify_options_bad_parameters_are_named) {
  std::vector<uint8_t> buf;
  const auto why = [&](JobParams p) {
    const char* e = validateJobParams(p);
    return std::string(e ? e : "");
  };
  JobParams p = writeJob(buf, 128 << 10, 8192);
  p.verifyInterval = 3072;
  CHECK_STR(why(p), std::string("verify_interval must divide every block size of the job"));
  p.verifyInterval = 1000;
  CHECK_STR(why(p), std::string("verify_interval must be a multiple of the LBA size"));
  p.verifyInterval = 0;
  p.verifyBacklog = kMaxVerifyBacklog + 1;
  CHECK_STR(why(p), std::string("verify_backlog and verify_backlog_batch must be at most 1048576"));
  p.verifyBacklog = 4;
  p.verifyOnly = true;
  CHECK_STR(why(p), std::string("verify_backlog with verify_only is not supported"));
  p.verifyOnly = false;
  p.verify = false;
  CHECK_STR(why(p), std::string("verify_interval, verify_backlog and verify_only need verify"));
  p.verify = true;
  p.readPercent = 100;
  CHECK_STR(why(p), std::string("verify_backlog and verify_only apply to a write job"));
  p.readPercent = 0;
  p.verifyBacklog = 0;
  p.verifyOffset = 20;
  CHECK_STR(why(p), std::string("verify_offset must be 48 .. the verify interval - 48"));
  p.verifyOffset = 512 - 47;
  CHECK_STR(why(p), std::string("verify_offset must be 48 .. the verify interval - 48"));
  p.verifyOffset = 100;
  CHECK_STR(why(p), std::string());
  p.verifyKind = VerifyKind::kNull;
  CHECK_STR(why(p), std::string("verify_offset moves a verify header: it needs a verify kind that writes one"));
}
