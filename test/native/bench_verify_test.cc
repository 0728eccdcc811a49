// Verify headers: CRC32C and MD5 against known vectors, a filled block checks clean under
// either checksum, and every kind of damage (including a checksum-kind mismatch) is named.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/native/memcpy_bandwidth.h"
#include "bench/native/verify.h"
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

namespace {
std::string md5Hex(const void* data, size_t len) {
  uint8_t d[16];
  md5(data, len, d);
  char out[33];
  for (int i = 0; i < 16; i++) std::snprintf(out + 2 * i, 3, "%02x", d[i]);
  return out;
}
}  // namespace

TEST(bench_md5_rfc1321_test_suite) {
  // RFC 1321 appendix A.5: the reference test suite.
  const struct { const char* in; const char* want; } cases[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const auto& c : cases) {
    const std::string got = md5Hex(c.in, std::strlen(c.in));
    if (got != c.want) std::fprintf(stderr, "    md5(\"%s\") = %s, want %s\n", c.in, got.c_str(), c.want);
    CHECK(got == c.want);
  }
}

TEST(bench_md5_pieces_equal_one_pass_at_every_split) {
  // Padding edges (55, 56, 63, 64 bytes) and splits across the 64-byte block boundary.
  std::vector<uint8_t> msg(200);
  for (size_t i = 0; i < msg.size(); i++) msg[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t len : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
    uint8_t whole[16];
    md5(msg.data(), len, whole);
    for (size_t cut = 0; cut <= len; cut += 13) {
      Md5 m;
      m.update(msg.data(), cut);
      m.update(msg.data() + cut, len - cut);
      uint8_t pieces[16];
      m.finish(pieces);
      CHECK(std::memcmp(whole, pieces, 16) == 0);
    }
  }
  // A million 'a's: a long message through many blocks (a widely published MD5 value).
  std::vector<uint8_t> as(1000000, 'a');
  CHECK(md5Hex(as.data(), as.size()) == std::string("7707d6ae4e027c70eea2a935c2296f21"));
}

TEST(bench_verify_md5_blocks_round_trip_and_a_kind_mismatch_is_a_header_mismatch) {
  for (uint32_t bs : {512u, 4096u}) {
    std::vector<uint8_t> m(bs), c(bs);
    fillVerifyBlock(m.data(), bs, 77, 3, 5, VerifyKind::kMd5);
    fillVerifyBlock(c.data(), bs, 77, 3, 5, VerifyKind::kCrc32c);
    VerifyHeader h{};
    CHECK(checkVerifyBlock(m.data(), bs, 77, 3, 5, &h, VerifyKind::kMd5) == VerifyResult::kOk);
    CHECK_EQ(h.kind, static_cast<uint32_t>(VerifyKind::kMd5));
    CHECK(std::string(verifyKindName(h.kind)) == std::string("md5"));
    // The stored digest is the MD5 of the block with the digest field zeroed.
    std::vector<uint8_t> zeroed = m;
    std::memset(zeroed.data() + offsetof(VerifyHeader, checksum), 0, 16);
    uint8_t d[16];
    md5(zeroed.data(), bs, d);
    CHECK(std::memcmp(d, h.checksum, 16) == 0);
    // Damage anywhere after the header is caught by md5.
    std::vector<uint8_t> flipped = m;
    flipped[bs / 2] ^= 1;
    CHECK(checkVerifyBlock(flipped.data(), bs, 77, 3, 5, &h, VerifyKind::kMd5) == VerifyResult::kBadCrc);
    CHECK(std::string(verifyResultName(VerifyResult::kBadCrc, VerifyKind::kMd5)) == std::string("md5 mismatch"));
    // Written under one kind, read under the other: a header mismatch, both ways.
    CHECK(checkVerifyBlock(c.data(), bs, 77, 3, 5, &h, VerifyKind::kMd5) == VerifyResult::kBadKind);
    CHECK(std::string(verifyKindName(h.kind)) == std::string("crc32c"));
    CHECK(checkVerifyBlock(m.data(), bs, 77, 3, 5, &h, VerifyKind::kCrc32c) == VerifyResult::kBadKind);
    CHECK(std::strstr(verifyResultName(VerifyResult::kBadKind, VerifyKind::kMd5), "header mismatch") != nullptr);
    // A kind field that names no checksum is damage, caught by the checksum over it.
    std::vector<uint8_t> damaged = c;
    damaged[offsetof(VerifyHeader, kind)] ^= 0x40;
    CHECK(checkVerifyBlock(damaged.data(), bs, 77, 3, 5, &h, VerifyKind::kCrc32c) == VerifyResult::kBadCrc);
    CHECK(std::strcmp(verifyKindName(h.kind), "unknown") == 0);
  }
  CHECK(std::string(verifyKindName(0)) == std::string("unknown"));
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
  CHECK(std::memcmp(a.data() + 48, b.data() + 48, 464) != 0);
  CHECK(std::memcmp(a.data() + 48, c.data() + 48, 464) != 0);
}

TEST(bench_memcpy_bandwidth_measures_something_plausible) {
  const MemcpyBandwidth r = measureMemcpyBandwidth(1 << 20, 5);
  CHECK(r.bytesCopied >= (1u << 20));
  CHECK(r.bytesPerSecond > 1e8);  // any machine copies more than 100 MB/s
  CHECK(measureMemcpyBandwidth(0, 1).bytesCopied == 0);
}
