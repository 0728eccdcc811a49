#include "bench/native/verify.h"

#include <nmmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bench/native/random.h"

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

// ---- MD5, RFC 1321 ----

namespace {

// T[i] = floor(2^32 × |sin(i + 1)|), i = 0..63 (RFC 1321 §3.4, where i counts from 1).
// Computed once; the RFC's test vectors (bench_verify_test.cc) confirm every entry.
struct Md5Table {
  uint32_t t[64];
  Md5Table() {
    for (int i = 0; i < 64; i++) t[i] = static_cast<uint32_t>(std::floor(4294967296.0 * std::fabs(std::sin(i + 1.0))));
  }
};
const Md5Table& md5Table() {
  static const Md5Table table;
  return table;
}

inline uint32_t rotl32(uint32_t x, unsigned s) { return (x << s) | (x >> (32 - s)); }
inline uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

void Md5::init() {
  // Initial state words A, B, C, D (RFC 1321 §3.3), as little-endian integers.
  state_[0] = 0x67452301u;
  state_[1] = 0xefcdab89u;
  state_[2] = 0x98badcfeu;
  state_[3] = 0x10325476u;
  bytes_ = 0;
}

void Md5::block(const uint8_t* p) {
  // Per-round shift amounts (RFC 1321 §3.4), four per round.
  static constexpr unsigned kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
  const uint32_t* t = md5Table().t;
  uint32_t x[16];
  for (int i = 0; i < 16; i++) x[i] = le32(p + 4 * i);
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  // One step: a = b + ((a + f(b, c, d) + X[k] + T[i]) <<< s), then the words rotate.
  auto step = [&](uint32_t f, unsigned i, unsigned k, unsigned s) {
    const uint32_t sum = a + f + t[i] + x[k];
    a = d;
    d = c;
    c = b;
    b = b + rotl32(sum, s);
  };
  // The four rounds, each with its own function and message-word order (§3.4). Fully
  // unrolled, so shifts and word indices become constants.
#pragma GCC unroll 16
  for (unsigned i = 0; i < 16; i++) step((b & c) | (~b & d), i, i, kShift[0][i & 3]);                    // F
#pragma GCC unroll 16
  for (unsigned i = 16; i < 32; i++) step((b & d) | (c & ~d), i, (5 * i + 1) & 15, kShift[1][i & 3]);  // G
#pragma GCC unroll 16
  for (unsigned i = 32; i < 48; i++) step(b ^ c ^ d, i, (3 * i + 5) & 15, kShift[2][i & 3]);           // H
#pragma GCC unroll 16
  for (unsigned i = 48; i < 64; i++) step(c ^ (b | ~d), i, (7 * i) & 15, kShift[3][i & 3]);            // I
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
}

void Md5::update(const void* data, size_t len) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t have = static_cast<size_t>(bytes_ & 63);
  bytes_ += len;
  if (have) {
    const size_t take = len < 64 - have ? len : 64 - have;
    std::memcpy(buffer_ + have, p, take);
    p += take;
    len -= take;
    have += take;
    if (have < 64) return;
    block(buffer_);
  }
  for (; len >= 64; p += 64, len -= 64) block(p);
  if (len) std::memcpy(buffer_, p, len);
}

void Md5::finish(uint8_t digest[16]) {
  // Padding (RFC 1321 §3.1, §3.2): a 1 bit, zeros to 56 mod 64 bytes, then the message
  // length in bits as a 64-bit little-endian number.
  const uint64_t bits = bytes_ * 8;
  uint8_t pad[72] = {0x80};
  const size_t have = static_cast<size_t>(bytes_ & 63);
  const size_t padLen = (have < 56 ? 56 : 120) - have;
  for (int i = 0; i < 8; i++) pad[padLen + i] = static_cast<uint8_t>(bits >> (8 * i));
  update(pad, padLen + 8);
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < 4; j++) digest[4 * i + j] = static_cast<uint8_t>(state_[i] >> (8 * j));
  }
}

void md5(const void* data, size_t len, uint8_t digest[16]) {
  Md5 m;
  m.update(data, len);
  m.finish(digest);
}

// ---- verify headers ----

const char* verifyKindName(uint32_t kind) {
  switch (static_cast<VerifyKind>(kind)) {
    case VerifyKind::kCrc32c: return "crc32c";
    case VerifyKind::kMd5: return "md5";
    case VerifyKind::kNull: return "null";
    case VerifyKind::kPattern: return "pattern";
    case VerifyKind::kPatternHeader: return "pattern header";
    case VerifyKind::kMeta: return "meta";
  }
  return "unknown";
}

namespace {

// The checksum of a block whose header checksum field is taken as zero, as a header's
// checksum bytes (CRC32C little-endian in the first 4 bytes).
void blockChecksum(const uint8_t* block, uint32_t blockSize, VerifyKind kind, uint8_t out[16]) {
  constexpr size_t kAt = offsetof(VerifyHeader, checksum);
  constexpr size_t kLen = sizeof(VerifyHeader::checksum);
  static const uint8_t kZero[kLen] = {};
  std::memset(out, 0, kLen);
  if (kind == VerifyKind::kPatternHeader || kind == VerifyKind::kMeta) {
    // fio's VERIFY_PATTERN and VERIFY_HDR_ONLY headers: its checksum covers the header; the pattern is compared.
    const uint32_t crc = crc32c(crc32c(0, block, kAt), kZero, kLen);
    std::memcpy(out, &crc, sizeof(crc));
    return;
  }
  if (kind == VerifyKind::kMd5) {
    Md5 m;
    m.update(block, kAt);
    m.update(kZero, kLen);
    m.update(block + kAt + kLen, blockSize - kAt - kLen);
    m.finish(out);
    return;
  }
  // crc32c is chained through its ~ pre/post conditioning, so pieces feed in sequence.
  uint32_t crc = crc32c(0, block, kAt);
  crc = crc32c(crc, kZero, kLen);
  crc = crc32c(crc, block + kAt + kLen, blockSize - kAt - kLen);
  std::memcpy(out, &crc, sizeof(crc));  // little-endian host (x86-64)
}

}  // namespace

bool matchesPattern(const uint8_t* buf, uint64_t len, const BytePattern& pattern, uint32_t phase) {
  const uint64_t n = pattern.bytes;
  // The first period (from `phase`, wrapping once), then every later byte equals the one
  // a period before it: two memcmp calls, no per-byte loop.
  const uint64_t head = std::min<uint64_t>(len, n - phase);
  if (std::memcmp(buf, pattern.data + phase, head) != 0) return false;
  const uint64_t wrap = std::min<uint64_t>(len - head, phase);
  if (wrap && std::memcmp(buf + head, pattern.data, wrap) != 0) return false;
  return len <= n || std::memcmp(buf, buf + n, len - n) == 0;
}

void fillVerifyBlock(uint8_t* block, uint32_t blockSize, uint64_t lba, uint64_t seq, uint64_t seed, VerifyKind kind,
                     const BytePattern* pattern) {
  const bool patterned = pattern && pattern->bytes;
  if (patterned) fillPattern(block, blockSize, *pattern);
  if (kind == VerifyKind::kPattern) return;  // no header: the block is the pattern
  VerifyHeader h{kVerifyMagic, static_cast<uint32_t>(kind), lba, seq, seed, {}};
  std::memcpy(block, &h, sizeof(h));
  if (!patterned) {
    // The pattern depends on (seed, lba, seq), so stale data from an older write or another
    // block cannot pass even if its header was copied.
    uint64_t x = mix64(seed ^ mix64(lba ^ mix64(seq)));
    for (uint32_t off = sizeof(h); off + 8 <= blockSize; off += 8) {
      x += 0x9e3779b97f4a7c15ull;
      const uint64_t w = mix64(x);
      std::memcpy(block + off, &w, 8);
    }
  }
  uint8_t sum[16];
  blockChecksum(block, blockSize, kind, sum);
  std::memcpy(block + offsetof(VerifyHeader, checksum), sum, sizeof(sum));
}

VerifyResult checkVerifyBlock(const uint8_t* block, uint32_t blockSize, uint64_t lba,
                              uint64_t expectSeq, uint64_t seed, VerifyHeader* found, VerifyKind kind,
                              const BytePattern* pattern) {
  VerifyHeader h;
  std::memcpy(&h, block, sizeof(h));
  if (found) *found = h;
  const bool patterned = pattern && pattern->bytes;
  if (kind == VerifyKind::kPattern) return patterned && matchesPattern(block, blockSize, *pattern, 0) ? VerifyResult::kOk : VerifyResult::kBadPattern;
  if (h.magic != kVerifyMagic) return VerifyResult::kBadMagic;
  // Another known kind: written with a different --verify. An unknown value is damage
  // to the header, which the checksum (covering the kind field) reports below.
  if (h.kind != static_cast<uint32_t>(kind) && std::strcmp(verifyKindName(h.kind), "unknown") != 0) return VerifyResult::kBadKind;
  if (h.lba != lba) return VerifyResult::kBadLba;
  uint8_t sum[16];
  blockChecksum(block, blockSize, kind, sum);
  if (std::memcmp(sum, h.checksum, sizeof(sum)) != 0) return VerifyResult::kBadCrc;
  if (h.seed != seed) return VerifyResult::kBadSeed;
  if (expectSeq != UINT64_MAX && h.seq != expectSeq) return VerifyResult::kBadSeq;
  // The header checksum of kPatternHeader covers the header only: the pattern is compared.
  if (kind == VerifyKind::kPatternHeader &&
      !(patterned && matchesPattern(block + sizeof(h), blockSize - sizeof(h), *pattern, sizeof(h) % pattern->bytes))) return VerifyResult::kBadPattern;
  // verify=meta: the data after the header is compared only with a verify_pattern (fio).
  if (kind == VerifyKind::kMeta && patterned &&
      !matchesPattern(block + sizeof(h), blockSize - sizeof(h), *pattern, sizeof(h) % pattern->bytes)) return VerifyResult::kBadPattern;
  return VerifyResult::kOk;
}

const char* verifyResultName(VerifyResult r, VerifyKind kind) {
  switch (r) {
    case VerifyResult::kOk: return "ok";
    case VerifyResult::kBadMagic: return "bad magic (not a verify header)";
    case VerifyResult::kBadLba: return "header names another LBA";
    case VerifyResult::kBadCrc:
      return kind == VerifyKind::kMd5 ? "md5 mismatch" : kind == VerifyKind::kPatternHeader || kind == VerifyKind::kMeta ? "header crc32c mismatch" : "crc32c mismatch";
    case VerifyResult::kBadPattern: return "pattern mismatch (the block does not hold verify_pattern)";
    case VerifyResult::kBadSeq: return "stale data (older write sequence)";
    case VerifyResult::kBadSeed: return "written by another job or run (seed differs)";
    case VerifyResult::kBadKind:
      return kind == VerifyKind::kMd5             ? "header mismatch: the header holds no md5 checksum (written with another --verify)"
             : kind == VerifyKind::kPatternHeader ? "header mismatch: the header is no pattern header (written with another --verify)"
             : kind == VerifyKind::kMeta          ? "header mismatch: the header is no meta header (written with another --verify)"
                                                  : "header mismatch: the header holds no crc32c checksum (written with another --verify)";
  }
  return "?";
}

}  // namespace phyr::bench
