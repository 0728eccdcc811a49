#include "bench/native/engine.h"

namespace phyr::bench {

static const char* checkBs(const BlockSizes& b, uint32_t lbaSize, uint64_t slotBytes) {
  if (b.min == 0 || b.max < b.min) return "block size range is empty";
  if (b.min % lbaSize || b.max % lbaSize) return "block sizes must be multiples of the LBA size";
  if (b.max > slotBytes) return "the largest block size exceeds the buffer slot";
  if (b.splitCount > BlockSizes::kMaxSplit) return "too many bssplit entries (at most 16)";
  for (uint32_t i = 0; i < b.splitCount; i++) {
    if (b.splitBytes[i] == 0 || b.splitBytes[i] % lbaSize) return "bssplit sizes must be multiples of the LBA size";
    if (i && b.splitCumulative[i] < b.splitCumulative[i - 1]) return "bssplit weights must be cumulative";
  }
  if (b.splitCount && b.splitCumulative[b.splitCount - 1] != 10000) return "bssplit weights must add up to 100 %";
  if (!b.splitCount && b.max % b.min) return "bsrange maximum must be a multiple of its minimum";
  return nullptr;
}

// verify_interval, verify_backlog and verify_only (job_params.h).
static const char* checkVerifyOptions(const JobParams& p) {
  if ((p.verifyInterval || p.verifyBacklog || p.verifyBacklogBatch || p.verifyOnly) && !p.verify) return "verify_interval, verify_backlog and verify_only need verify";
  if (p.verifyBacklog > kMaxVerifyBacklog || p.verifyBacklogBatch > kMaxVerifyBacklog) return "verify_backlog and verify_backlog_batch must be at most 1048576";
  if ((p.verifyBacklog || p.verifyOnly) && p.readPercent != 0) return "verify_backlog and verify_only apply to a write job";
  if (p.verifyBacklog && p.verifyOnly) return "verify_backlog with verify_only is not supported";
  const uint32_t iv = p.verifyInterval;
  if (p.verifyOffset) {
    const uint32_t unit = iv ? iv : p.lbaSize;
    if (!p.verify || p.verifyKind == VerifyKind::kPattern || p.verifyKind == VerifyKind::kNull) return "verify_offset moves a verify header: it needs a verify kind that writes one";
    if (p.verifyOffset < sizeof(VerifyHeader) || p.verifyOffset > unit - sizeof(VerifyHeader)) return "verify_offset must be 48 .. the verify interval - 48";
  }
  if (!iv) return nullptr;
  if (iv % p.lbaSize) return "verify_interval must be a multiple of the LBA size";
  const auto divides = [iv](const BlockSizes& b) {
    if (b.min % iv || b.max % iv) return false;
    for (uint32_t i = 0; i < b.splitCount; i++)
      if (b.splitBytes[i] % iv) return false;
    return true;
  };
  if ((p.readPercent > 0 && !divides(p.readBs)) || (p.readPercent < 100 && !divides(p.writeBs))) return "verify_interval must divide every block size of the job";
  const uint64_t skip = p.seqSkip < 0 ? 0 - static_cast<uint64_t>(p.seqSkip) : static_cast<uint64_t>(p.seqSkip);
  if (skip % iv || (p.blockAlign && p.blockAlign % iv)) return "verify_interval must divide the sequential skip and blockalign";
  return nullptr;
}

const char* validateJobParams(const JobParams& p) {
  if (p.lbaSize < 512 || (p.lbaSize & (p.lbaSize - 1))) return "LBA size must be a power of two >= 512";
  if (p.iodepth == 0 || p.iodepth > 65535) return "iodepth must be 1..65535";
  if (p.regionBytes == 0 || p.regionBytes % p.lbaSize) return "region must be a non-zero multiple of the LBA size";
  if (p.readPercent > 100) return "read percentage must be 0..100";
  if (!p.bufCpu && p.verify && p.verifyKind != VerifyKind::kNull) return "verify needs CPU-visible buffers";
  if (p.verify && (static_cast<uint32_t>(p.verifyKind) < 1 || static_cast<uint32_t>(p.verifyKind) > 6)) return "verify kind must be crc32c (1), md5 (2), null (3), pattern (4), pattern header (5) or meta (6)";
  if (p.verify && (p.verifyKind == VerifyKind::kPattern || p.verifyKind == VerifyKind::kPatternHeader) && p.verifyPattern.bytes == 0) return "verify=pattern needs a verify pattern";
  if (p.verifyPattern.bytes > BytePattern::kMaxBytes || p.fill.pattern.bytes > BytePattern::kMaxBytes) return "a pattern holds at most 512 bytes";
  if (p.fill.kind == FillKind::kPattern && p.fill.pattern.bytes == 0) return "a pattern fill needs a pattern";
  if (static_cast<uint32_t>(p.fill.kind) > 3 || p.fill.compressPercent > 99 || p.fill.dedupePercent > 100) return "buffer fill: kind 0..3, compress percentage 0..99, dedupe percentage 0..100";
  if (p.verify && (p.verifyKind == VerifyKind::kPatternHeader || p.verifyKind == VerifyKind::kMeta) && p.lbaSize <= sizeof(VerifyHeader)) return "the verify header needs a block larger than itself";
  if (p.slotBytes == 0 || p.slotBytes > 0xFFFFFFFFull) return "buffer slot size must be 1 byte .. 4 GiB - 1";
  if (p.readPercent > 0) {
    if (const char* e = checkBs(p.readBs, p.lbaSize, p.slotBytes)) return e;
    if (p.readBs.max > p.regionBytes) return "the region is smaller than the largest read block size";
  }
  if (p.readPercent < 100) {
    if (const char* e = checkBs(p.writeBs, p.lbaSize, p.slotBytes)) return e;
    if (p.writeBs.max > p.regionBytes) return "the region is smaller than the largest write block size";
  }
  if (!p.timeBased && p.ioBytes == 0) return "a job needs a size (bytes to transfer) or time_based with a runtime";
  if (p.timeBased && p.runtimeNs == 0) return "time_based needs a runtime";
  if (p.verify && p.readPercent != 0 && p.readPercent != 100) return "verify with mixed reads and writes is not supported";
  if (p.sampleIntervalNs != 0 && p.sampleIntervalNs < 1'000'000ull) return "the sample interval (bw_avg_time / iops_avg_time) must be at least 1 ms";
  if (p.logWindowNs != 0 && p.logWindowNs < 1'000'000ull) return "the log window (log_avg_msec) must be at least 1 ms";
  if (p.iopsIntervalNs != 0 && p.iopsIntervalNs < 1'000'000ull) return "the IOPS sample interval (iops_avg_time) must be at least 1 ms";
  if (p.histWindowNs != 0 && p.histWindowNs < 1'000'000ull) return "the histogram window (log_hist_msec) must be at least 1 ms";
  if (p.cmdTimeoutNs < kMinCmdTimeoutNs || p.cmdTimeoutNs > kMaxCmdTimeoutNs) return "the per-command timeout must be 1 ms .. 1 h";
  if (p.verify && p.regionBytes / p.lbaSize > (1ull << 34)) return "verify region too large (at most 2^34 blocks)";
  if (p.seqSkip != 0) {
    // The magnitude bounds the backward wrap (region - |skip| >= 0) and keeps offsets LBA-aligned.
    const uint64_t mag = p.seqSkip < 0 ? 0 - static_cast<uint64_t>(p.seqSkip) : static_cast<uint64_t>(p.seqSkip);
    if (p.random) return "a sequential skip (rw=MODE:N) applies to sequential modes only";
    if (mag % p.lbaSize) return "a sequential skip must be a multiple of the LBA size";
    if (mag > p.regionBytes) return "a sequential skip must not exceed the region";
  }
  for (int d = 0; d < 2; d++) {
    if (p.rateBps[d] && p.rateMinBps[d] > p.rateBps[d]) return "the minimum rate exceeds the rate";
  }
  if (p.rateCycleNs < 1'000'000ull) return "the rate check cycle must be at least 1 ms";
  if (p.trim && !p.bufCpu) return "trims need CPU-visible buffers (the range list is written by the CPU)";
  if (p.trim && p.verify) return "verify with trims is not supported";
  if (p.replay) {
    if (p.replayCount == 0) return "a replay needs at least one IO";
    if (p.random || p.trim || p.trimWrite || p.verify || p.timeBased || p.regionLba != 0) return "a replay (read_iolog) issues the log's IOs over the whole namespace only: no random, trim, trimwrite, verify or time_based";
    for (uint64_t i = 0; i < p.replayCount; i++) {
      const double* e = p.replay + 4 * i;
      if (e[2] == 3 && e[3] >= 0) continue;  // a sync: no offset or length of its own
      if (!(e[1] >= p.lbaSize) || e[1] > static_cast<double>(p.slotBytes) || !(e[0] >= 0) || e[0] + e[1] > static_cast<double>(p.regionBytes) || !(e[2] >= 0 && e[2] <= 2) || !(e[3] >= 0))
        return "a replayed IO lies outside the namespace, is larger than its buffer slot, or has a bad direction";
      if (static_cast<uint64_t>(e[0]) % p.lbaSize || static_cast<uint64_t>(e[1]) % p.lbaSize) return "a replayed IO is not whole logical blocks";
    }
    if (!p.bufCpu) return "a replay needs CPU-visible buffers (a trim's range list is written by the CPU)";
  }
  if (p.trimWrite) {
    if (p.trim || p.readPercent != 0 || p.random) return "trimwrite is sequential trims and writes only (readPercent 0, not random, not trim)";
    if (const char* e = checkBs(p.readBs, p.lbaSize, p.slotBytes)) return e;
    if (p.readBs.max > p.regionBytes) return "the region is smaller than the largest trim block size";
    if (!p.bufCpu) return "trims need CPU-visible buffers (the range list is written by the CPU)";
    if (p.verify) return "verify with trims is not supported";
  }
  if (const char* e = checkVerifyOptions(p)) return e;
  if (p.blockAlign % p.lbaSize) return "blockalign must be a multiple of the LBA size";
  if (p.blockAlign > p.regionBytes) return "blockalign must not exceed the region";
  if (p.percentageRandom > 100) return "percentage_random must be 0..100";
  if (p.iodepthLow > p.iodepth) return "iodepth_low must not exceed iodepth";
  if (p.batchSubmit > p.iodepth) return "iodepth_batch_submit must not exceed iodepth";
  if (p.batchCompleteMax && p.batchCompleteMin > p.batchCompleteMax) return "iodepth_batch_complete_min must not exceed iodepth_batch_complete_max";
  if (p.thinktimeBlocks == 0 && p.thinktimeIotimeNs == 0) return "thinktime_blocks must be at least 1 (0 only with thinktime_iotime)";
  if (p.nice < -20 || p.nice > 19) return "nice must be -20..19";
  if (p.thinktimeSpinNs > p.thinktimeNs) return "thinktime_spin must not exceed thinktime";
  return nullptr;
}

}  // namespace phyr::bench
