// Verify headers: every logical block a verifying job writes starts with a header naming
// the block (LBA), the write's sequence number, the job's seed and which checksum it
// carries, followed by a pattern derived from them; the checksum (CRC32C or MD5, fio's
// two cheapest verify kinds) covers the whole block. Reading a block back proves the
// device returned the right block (LBA), intact (checksum) and — when the reader knows
// what it wrote — the latest write (sequence).
#pragma once
#include <cstddef>
#include <cstdint>

#include "bench/native/buffer_fill.h"

namespace phyr::bench {

// CRC32C (Castagnoli), as used by iSCSI, ext4 and fio's crc32c verify: the SSE4.2 crc32
// instruction, 8 bytes per step.
uint32_t crc32c(uint32_t crc, const void* data, size_t len);

// MD5 (RFC 1321), incremental: init, update with pieces, then finish for the 16-byte digest.
class Md5 {
 public:
  Md5() { init(); }
  void init();
  void update(const void* data, size_t len);
  void finish(uint8_t digest[16]);

 private:
  void block(const uint8_t* p);  // one 64-byte block into the state (RFC 1321 §3.4)
  uint32_t state_[4];
  uint64_t bytes_;       // message length so far
  uint8_t buffer_[64];   // a partial block awaiting more input
};
// One-shot MD5 of a buffer.
void md5(const void* data, size_t len, uint8_t digest[16]);

// Which checksum a header carries (stored in the header, so a block written under one
// kind and read under another is reported as such, not as corruption).
// kNull is fio's verify=null: the read-back phase runs, nothing is written into or checked
// in the blocks (never stored in a header).
// kPattern is fio's verify=pattern: no header, every block holds the verify pattern,
// compared on read. kPatternHeader is fio's verify_pattern given without verify: a header
// whose checksum covers the header only, then the pattern, both checked on read.
// With a pattern, every block restarts it at its first byte (so a block can be checked on
// its own, whichever IO wrote it); the checksum kinds carry it after their header.
// kMeta is fio 3.33's verify=meta (VERIFY_HDR_ONLY, verify.c): the header alone is checked
// (its checksum covers the header), and verify_pattern after it when one is given.
enum class VerifyKind : uint32_t { kCrc32c = 1, kMd5 = 2, kNull = 3, kPattern = 4, kPatternHeader = 5, kMeta = 6 };
const char* verifyKindName(uint32_t kind);  // "crc32c", "md5", "null", "pattern", "pattern header", "meta", or "unknown"

struct VerifyHeader {
  uint32_t magic;         // kVerifyMagic
  uint32_t kind;          // VerifyKind of `checksum`
  uint64_t lba;           // the block's own address
  uint64_t seq;           // write sequence number (per job)
  uint64_t seed;          // the job's seed
  uint8_t checksum[16];   // of the whole block with this field zero: CRC32C in the first
                          // 4 bytes (little-endian, rest zero), or the MD5 digest
};
static_assert(sizeof(VerifyHeader) == 48, "verify header is 48 bytes");

constexpr uint32_t kVerifyMagic = 0x56727970;  // "pyrV" little-endian

// Fills one block: header + pattern, then the checksum. `pattern` (fio's verify_pattern;
// required by kPattern and kPatternHeader) replaces the derived pattern after the header.
void fillVerifyBlock(uint8_t* block, uint32_t blockSize, uint64_t lba, uint64_t seq, uint64_t seed,
                     VerifyKind kind = VerifyKind::kCrc32c, const BytePattern* pattern = nullptr);

// True when `len` bytes at `buf` are `pattern` repeated, starting at the pattern's byte
// `phase` (< pattern.bytes).
bool matchesPattern(const uint8_t* buf, uint64_t len, const BytePattern& pattern, uint32_t phase);

enum class VerifyResult : uint32_t {
  kOk = 0,
  kBadMagic = 1,
  kBadLba = 2,
  kBadCrc = 3,   // the checksum (of the header's kind) does not match the block
  kBadSeq = 4,
  kBadSeed = 5,
  kBadKind = 6,  // the header carries another checksum kind than the job verifies with
  kBadPattern = 7,  // the block does not hold the verify pattern
};

// Checks one block read from `lba` with checksum `kind`. `expectSeq` is the sequence last
// written there, or UINT64_MAX when unknown (any sequence accepted). `found` receives the
// header as read.
VerifyResult checkVerifyBlock(const uint8_t* block, uint32_t blockSize, uint64_t lba,
                              uint64_t expectSeq, uint64_t seed, VerifyHeader* found,
                              VerifyKind kind = VerifyKind::kCrc32c, const BytePattern* pattern = nullptr);

// What a result means; a checksum mismatch is named after the kind checked.
const char* verifyResultName(VerifyResult r, VerifyKind kind = VerifyKind::kCrc32c);

}  // namespace phyr::bench
