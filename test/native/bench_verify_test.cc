// Verify headers: CRC32C against known vectors, a filled block checks clean, and every
// kind of damage is named.
#include <cstring>
#include <vector>

#include "bench/memcpy_bandwidth.h"
#include "bench/verify.h"
#include "check.h"

using namespace phyr::bench;

TEST(bench_crc32c_known_vectors) {
  // RFC 3720 B.4 test vectors and the classic "123456789" check value.
  CHECK_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), inc(32);
  for (int i = 0; i < 32; i++) inc[i] = static_cast<uint8_t>(i);
  CHECK_EQ(crc32c(0, zeros.data(), 32), 0x8A9136AAu);
  CHECK_EQ(crc32c(0, ones.data(), 32), 0x62A8AB43u);
  CHECK_EQ(crc32c(0, inc.data(), 32), 0x46DD794Eu);
  // Chaining pieces equals one pass.
  CHECK_EQ(crc32c(crc32c(0, inc.data(), 13), inc.data() + 13, 19), 0x46DD794Eu);
}

TEST(bench_verify_block_round_trip_and_damage_is_named) {
  for (uint32_t bs : {512u, 4096u}) {
    std::vector<uint8_t> b(bs);
    fillVerifyBlock(b.data(), bs, 1234, 7, 99);
    VerifyHeader h{};
    CHECK(checkVerifyBlock(b.data(), bs, 1234, 7, 99, &h) == VerifyResult::kOk);
    CHECK(checkVerifyBlock(b.data(), bs, 1234, UINT64_MAX, 99, &h) == VerifyResult::kOk);
    CHECK_EQ(h.lba, 1234u);
    CHECK_EQ(h.seq, 7u);
    CHECK(checkVerifyBlock(b.data(), bs, 1235, 7, 99, &h) == VerifyResult::kBadLba);
    CHECK(checkVerifyBlock(b.data(), bs, 1234, 8, 99, &h) == VerifyResult::kBadSeq);
    CHECK(checkVerifyBlock(b.data(), bs, 1234, 7, 98, &h) == VerifyResult::kBadSeed);
    std::vector<uint8_t> flipped = b;
    flipped[bs - 1] ^= 0x10;
    CHECK(checkVerifyBlock(flipped.data(), bs, 1234, 7, 99, &h) == VerifyResult::kBadCrc);
    std::vector<uint8_t> zero(bs, 0);
    CHECK(checkVerifyBlock(zero.data(), bs, 1234, 7, 99, &h) == VerifyResult::kBadMagic);
    CHECK(std::strlen(verifyResultName(VerifyResult::kBadCrc)) > 0);
  }
}

TEST(bench_verify_pattern_differs_per_lba_and_sequence) {
  std::vector<uint8_t> a(512), b(512), c(512);
  fillVerifyBlock(a.data(), 512, 1, 1, 5);
  fillVerifyBlock(b.data(), 512, 2, 1, 5);
  fillVerifyBlock(c.data(), 512, 1, 2, 5);
  CHECK(std::memcmp(a.data() + 32, b.data() + 32, 480) != 0);
  CHECK(std::memcmp(a.data() + 32, c.data() + 32, 480) != 0);
}

TEST(bench_memcpy_bandwidth_measures_something_plausible) {
  const MemcpyBandwidth r = measureMemcpyBandwidth(1 << 20, 5);
  CHECK(r.bytesCopied >= (1u << 20));
  CHECK(r.bytesPerSecond > 1e8);  // any machine copies more than 100 MB/s
  CHECK(measureMemcpyBandwidth(0, 1).bytesCopied == 0);
}
