// Verify headers: every logical block a verifying job writes starts with a header naming
// the block (LBA), the write's sequence number and the job's seed, followed by a pattern
// derived from them; a CRC32C covers the whole block. Reading a block back proves the
// device returned the right block (LBA), intact (CRC) and — when the reader knows what it
// wrote — the latest write (sequence).
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr::bench {

// CRC32C (Castagnoli), as used by iSCSI, ext4 and fio's crc32c verify: the SSE4.2 crc32
// instruction, 8 bytes per step.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);

struct VerifyHeader {
  uint32_t magic;   // kVerifyMagic
  uint32_t crc;     // CRC32C of the block with this field zero
  uint64_t lba;     // the block's own address
  uint64_t seq;     // write sequence number (per job)
  uint64_t seed;    // the job's seed
};
static_assert(sizeof(VerifyHeader) == 32, "verify header is 32 bytes");

constexpr uint32_t kVerifyMagic = 0x56727970;  // "pyrV" little-endian

// Fills one block: header + pattern, then the CRC.
void fillVerifyBlock(uint8_t* block, uint32_t blockSize, uint64_t lba, uint64_t seq, uint64_t seed);

enum class VerifyResult : uint32_t { kOk = 0, kBadMagic = 1, kBadLba = 2, kBadCrc = 3, kBadSeq = 4, kBadSeed = 5 };

// Checks one block read from `lba`. `expectSeq` is the sequence last written there, or
// UINT64_MAX when unknown (any sequence accepted). `found` receives the header as read.
VerifyResult checkVerifyBlock(const uint8_t* block, uint32_t blockSize, uint64_t lba,
                              uint64_t expectSeq, uint64_t seed, VerifyHeader* found);

const char* verifyResultName(VerifyResult r);

}  // namespace phyr::bench
