// Buffer contents with fio's meaning: patterns repeat from a buffer's start, compressible
// chunks are random then fixed, dedupe repeats whole buffers at the asked rate, scramble
// stamps every 512-byte piece, and the pattern verify kinds catch a changed byte.
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/native/buffer_fill.h"
#include "bench/native/verify.h"
#include "check.h"

using namespace phyr::bench;

namespace {
BytePattern pat(std::initializer_list<uint8_t> bytes) {
  BytePattern p;
  for (uint8_t b : bytes) p.data[p.bytes++] = b;
  return p;
}
}  // namespace

TEST(bench_fill_pattern_repeats_from_the_start) {
  const BytePattern p = pat({0xde, 0xad, 0xbe});
  std::vector<uint8_t> buf(1000, 0x55);
  fillPattern(buf.data(), 999, p);
  for (size_t i = 0; i < 999; i++) CHECK_EQ(buf[i], p.data[i % 3]);
  CHECK_EQ(buf[999], 0x55);  // not past len
  CHECK(matchesPattern(buf.data(), 999, p, 0));
  CHECK(matchesPattern(buf.data() + 1, 998, p, 1));
  CHECK(!matchesPattern(buf.data(), 999, p, 1));
  buf[700] ^= 1;
  CHECK(!matchesPattern(buf.data(), 999, p, 0));
}

TEST(bench_fill_kinds) {
  BufferFill f;
  std::vector<uint8_t> buf(4096, 0x55);
  f.kind = FillKind::kZero;
  BufferFiller(f, 1).fill(buf.data(), buf.size());
  for (uint8_t b : buf) CHECK_EQ(b, 0);
  f.kind = FillKind::kPattern;
  f.pattern = pat({1, 2, 3, 4});
  BufferFiller(f, 1).fill(buf.data(), buf.size());
  CHECK(matchesPattern(buf.data(), buf.size(), f.pattern, 0));
  // Random: two buffers of one filler differ; no 8-byte word repeats within one.
  f.kind = FillKind::kRandom;
  BufferFiller r(f, 7);
  std::vector<uint8_t> a(4096), b(4096);
  r.fill(a.data(), a.size());
  r.fill(b.data(), b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size()) != 0);
  std::set<uint64_t> words;
  for (size_t i = 0; i < a.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, a.data() + i, 8);
    words.insert(w);
  }
  CHECK_EQ(words.size(), a.size() / 8);
}

TEST(bench_fill_compress_chunks_are_random_then_fixed) {
  BufferFill f;
  f.kind = FillKind::kCompress;
  f.compressPercent = 75;
  f.compressChunk = 512;
  f.minWriteBytes = 4096;
  std::vector<uint8_t> buf(4096, 0x55);
  BufferFiller(f, 3).fill(buf.data(), buf.size());
  for (size_t c = 0; c < 4096; c += 512) {
    // 25 % random (128 bytes), the rest zeros.
    size_t nonzero = 0;
    for (size_t i = 0; i < 128; i++) nonzero += buf[c + i] != 0;
    CHECK(nonzero > 100);
    for (size_t i = 128; i < 512; i++) CHECK_EQ(buf[c + i], 0);
  }
  // Chunk 0: one chunk of the smallest write size; the fixed part is the pattern.
  f.compressChunk = 0;
  f.compressPercent = 50;
  f.pattern = pat({0xab});
  BufferFiller(f, 3).fill(buf.data(), buf.size());
  for (size_t i = 2048; i < 4096; i++) CHECK_EQ(buf[i], 0xab);
  CHECK(buf[0] != 0xab || buf[1] != 0xab || buf[2] != 0xab);
}

// dedupe_mode=working_set: the dedupe buffers are the working set's pages only (each the
// same data whenever picked), at the given chance.
TEST(bench_fill_dedupe_working_set_draws_from_its_pages) {
  BufferFill f;
  f.kind = FillKind::kCompress;
  f.minWriteBytes = 4096;
  f.dedupePercent = 50;
  f.dedupeWorkingSetPages = 40;
  f.dedupeWorkingSetChance = 5000;
  BufferFiller filler(f, 5);
  std::map<std::string, uint32_t> count;
  std::vector<uint8_t> buf(4096);
  for (int i = 0; i < 4000; i++) {
    filler.fill(buf.data(), buf.size());
    count[std::string(buf.begin(), buf.end())]++;
  }
  uint32_t repeated = 0, inSet = 0;
  for (const auto& [data, n] : count) {
    if (n > 1) {
      repeated++;
      inSet += n;
    }
  }
  CHECK_EQ(repeated, 40u);  // 2000 picks over 40 pages: every page drawn, more than once
  CHECK(inSet > 1800 && inSet < 2200);
}

TEST(bench_fill_dedupe_repeats_whole_buffers_at_the_rate) {
  BufferFill f;
  f.kind = FillKind::kCompress;
  f.minWriteBytes = 4096;
  const auto duplicates = [&](uint32_t percent) {
    f.dedupePercent = percent;
    BufferFiller filler(f, 11);
    std::set<std::string> seen;
    uint32_t dup = 0;
    std::vector<uint8_t> buf(4096);
    for (int i = 0; i < 4000; i++) {
      filler.fill(buf.data(), buf.size());
      if (!seen.insert(std::string(buf.begin(), buf.end())).second) dup++;
    }
    return dup;
  };
  CHECK_EQ(duplicates(0), 0u);
  CHECK_EQ(duplicates(100), 3999u);
  const uint32_t half = duplicates(50);
  CHECK(half > 1800 && half < 2200);
  const uint32_t fifth = duplicates(20);
  CHECK(fifth > 650 && fifth < 950);
}

TEST(bench_fill_scramble_stamps_every_piece) {
  std::vector<uint8_t> buf(2048, 0);
  const uint64_t offset = 1 << 20, stamp = 0x1234567890abcdefull;
  scrambleBuffer(buf.data(), buf.size(), offset, stamp);
  const unsigned line = (stamp ^ offset) & 7;
  for (uint64_t i = 0; i < 4; i++) {
    uint64_t at;
    std::memcpy(&at, buf.data() + 512 * i + 64 * line, 8);
    CHECK_EQ(at, offset + 512 * i);
    uint64_t t[2];
    std::memcpy(t, buf.data() + 512 * i + 48, 16);
    CHECK_EQ(t[0], stamp >> 32);
    CHECK_EQ(t[1], stamp & 0xffffffffull);
  }
  // Less than a piece: untouched (fio stamps whole 512-byte pieces only).
  std::vector<uint8_t> small(511, 0);
  scrambleBuffer(small.data(), small.size(), 0, stamp);
  for (uint8_t b : small) CHECK_EQ(b, 0);
}

TEST(bench_verify_pattern_kinds_catch_a_changed_byte) {
  const BytePattern p = pat({0xde, 0xad, 0xbe, 0xef, 0x01});
  std::vector<uint8_t> block(512);
  // verify=pattern: no header, the block is the pattern.
  fillVerifyBlock(block.data(), 512, 9, 1, 5, VerifyKind::kPattern, &p);
  CHECK(matchesPattern(block.data(), 512, p, 0));
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kPattern, &p) == VerifyResult::kOk);
  block[300] ^= 0x10;
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kPattern, &p) == VerifyResult::kBadPattern);
  // verify_pattern alone: header (its own checksum) + pattern.
  fillVerifyBlock(block.data(), 512, 9, 1, 5, VerifyKind::kPatternHeader, &p);
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kPatternHeader, &p) == VerifyResult::kOk);
  CHECK(checkVerifyBlock(block.data(), 512, 10, UINT64_MAX, 5, nullptr, VerifyKind::kPatternHeader, &p) == VerifyResult::kBadLba);
  block[400] ^= 1;
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kPatternHeader, &p) == VerifyResult::kBadPattern);
  block[400] ^= 1;
  block[20] ^= 1;  // the header's seq
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kPatternHeader, &p) == VerifyResult::kBadCrc);
  // crc32c with a pattern: the pattern follows the header and the checksum covers it.
  fillVerifyBlock(block.data(), 512, 9, 1, 5, VerifyKind::kCrc32c, &p);
  CHECK(matchesPattern(block.data() + 48, 512 - 48, p, 48 % 5));
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kCrc32c, &p) == VerifyResult::kOk);
  block[511] ^= 1;
  CHECK(checkVerifyBlock(block.data(), 512, 9, UINT64_MAX, 5, nullptr, VerifyKind::kCrc32c, &p) == VerifyResult::kBadCrc);
}
