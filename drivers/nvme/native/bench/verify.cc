#include "bench/verify.h"

#include <nmmintrin.h>

#include <cstring>

#include "bench/random.h"

namespace phyr::bench {

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (len--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

void fillVerifyBlock(uint8_t* block, uint32_t blockSize, uint64_t lba, uint64_t seq, uint64_t seed) {
  VerifyHeader h{kVerifyMagic, 0, lba, seq, seed};
  std::memcpy(block, &h, sizeof(h));
  // The pattern depends on (seed, lba, seq), so stale data from an older write or another
  // block cannot pass even if its header was copied.
  uint64_t x = mix64(seed ^ mix64(lba ^ mix64(seq)));
  for (uint32_t off = sizeof(h); off + 8 <= blockSize; off += 8) {
    x += 0x9e3779b97f4a7c15ull;
    const uint64_t w = mix64(x);
    std::memcpy(block + off, &w, 8);
  }
  const uint32_t crc = crc32c(0, block, blockSize);
  std::memcpy(block + offsetof(VerifyHeader, crc), &crc, sizeof(crc));
}

VerifyResult checkVerifyBlock(const uint8_t* block, uint32_t blockSize, uint64_t lba,
                              uint64_t expectSeq, uint64_t seed, VerifyHeader* found) {
  VerifyHeader h;
  std::memcpy(&h, block, sizeof(h));
  if (found) *found = h;
  if (h.magic != kVerifyMagic) return VerifyResult::kBadMagic;
  if (h.lba != lba) return VerifyResult::kBadLba;
  // CRC of the block with the crc field taken as zero: crc over [0,4), zeros, rest.
  const uint32_t zero = 0;
  uint32_t crc = crc32c(0, block, offsetof(VerifyHeader, crc));
  // crc32c is chained through the ~ pre/post conditioning, so feed pieces in sequence.
  crc = crc32c(crc, &zero, sizeof(zero));
  crc = crc32c(crc, block + offsetof(VerifyHeader, lba), blockSize - offsetof(VerifyHeader, lba));
  if (crc != h.crc) return VerifyResult::kBadCrc;
  if (h.seed != seed) return VerifyResult::kBadSeed;
  if (expectSeq != UINT64_MAX && h.seq != expectSeq) return VerifyResult::kBadSeq;
  return VerifyResult::kOk;
}

const char* verifyResultName(VerifyResult r) {
  switch (r) {
    case VerifyResult::kOk: return "ok";
    case VerifyResult::kBadMagic: return "bad magic (not a verify header)";
    case VerifyResult::kBadLba: return "header names another LBA";
    case VerifyResult::kBadCrc: return "crc32c mismatch";
    case VerifyResult::kBadSeq: return "stale data (older write sequence)";
    case VerifyResult::kBadSeed: return "written by another job or run (seed differs)";
  }
  return "?";
}

}  // namespace phyr::bench
