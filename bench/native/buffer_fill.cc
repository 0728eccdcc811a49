#include "bench/native/buffer_fill.h"

#include <algorithm>
#include <cstring>

#include "bench/native/random.h"

namespace phyr::bench {

void fillPattern(uint8_t* buf, uint64_t len, const BytePattern& pattern) {
  if (!len) return;
  const uint64_t first = std::min<uint64_t>(pattern.bytes, len);
  std::memcpy(buf, pattern.data, first);
  // Doubling copies: each pass copies what is already filled (whole periods).
  for (uint64_t have = first; have < len;) {
    const uint64_t n = std::min(have, len - have);
    std::memcpy(buf + have, buf, n);
    have += n;
  }
}

void fillRandom(uint8_t* buf, uint64_t len, uint64_t seed) {
  uint64_t s[4];
  for (int i = 0; i < 4; i++) s[i] = mix64(seed + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(i + 1));
  uint64_t off = 0;
  for (; off + 32 <= len; off += 32) {
    for (int i = 0; i < 4; i++) {
      // xorshift64 per lane: a few ns per 32 bytes, enough to defeat compression and dedupe.
      s[i] ^= s[i] << 13;
      s[i] ^= s[i] >> 7;
      s[i] ^= s[i] << 17;
      std::memcpy(buf + off + 8 * i, &s[i], 8);
    }
  }
  for (int i = 0; off < len; i++) {
    const uint64_t w = mix64(s[i & 3] + off);
    const uint64_t n = std::min<uint64_t>(8, len - off);
    std::memcpy(buf + off, &w, n);
    off += n;
  }
}

void scrambleBuffer(uint8_t* buf, uint64_t len, uint64_t offset, uint64_t stamp) {
  const uint64_t pieces = len >> 9;
  const unsigned line = static_cast<unsigned>((stamp ^ offset) & 7);
  const uint64_t stampWords[2] = {stamp >> 32, stamp & 0xffffffffull};
  for (uint64_t i = 0; i < pieces; i++, buf += 512, offset += 512) {
    std::memcpy(buf + (line << 6), &offset, 8);
    std::memcpy(buf + 64 - 16, stampWords, 16);
  }
}

BufferFiller::BufferFiller(const BufferFill& f, uint64_t seed)
    : f_(f), state_(mix64(seed ^ 0x6275666665727321ull)), prev_(state_), dedupe_(mix64(seed ^ 0x6465647570652121ull)), workingSet_(mix64(seed ^ 0x776f726b73657421ull)) {}

namespace {
inline uint64_t nextSeed(uint64_t* s) {
  *s += 0x9e3779b97f4a7c15ull;
  return mix64(*s);
}
}  // namespace

// fio's dedupe, repeat mode: a buffer is drawn from the state the last unique buffer left
// (so it repeats the data a unique buffer drawn now would hold) with the given chance;
// at 100 % every buffer is drawn from the same state.
uint64_t* BufferFiller::pickState() {
  if (f_.dedupeWorkingSetPages) {
    // working_set: with its chance, one of the working set's pages, each the same data
    // whenever it is picked (its state derived from its index, no memory per page).
    if (nextSeed(&dedupe_) % 10000 >= f_.dedupeWorkingSetChance) return &state_;
    ret_ = mix64(workingSet_ + nextSeed(&dedupe_) % f_.dedupeWorkingSetPages);
    return &ret_;
  }
  if (!f_.dedupePercent) return &state_;
  if (f_.dedupePercent >= 100) {
    prev_ = state_;
    return &state_;
  }
  const uint64_t v = 1 + nextSeed(&dedupe_) % 100;
  if (v <= f_.dedupePercent) {
    ret_ = prev_;
    return &ret_;
  }
  return &state_;
}

void BufferFiller::saveState(uint64_t* used) {
  if (f_.dedupeWorkingSetPages) return;
  if (f_.dedupePercent >= 100) *used = prev_;
  else if (used == &state_) prev_ = state_;
}

// One chunk of fio's compressible data: (100 - percent) % random, then the fixed part
// (the pattern, or zeros), repeated by `segment` over `len` (here segment == len).
void BufferFiller::fillChunk(uint64_t seed, uint8_t* buf, uint64_t len) {
  const uint64_t randomPart = len * (100 - f_.compressPercent) / 100;
  fillRandom(buf, randomPart, seed);
  if (f_.pattern.bytes) fillPattern(buf + randomPart, len - randomPart, f_.pattern);
  else std::memset(buf + randomPart, 0, len - randomPart);
}

void BufferFiller::fill(uint8_t* buf, uint64_t len) {
  switch (f_.kind) {
    case FillKind::kZero:
      std::memset(buf, 0, len);
      return;
    case FillKind::kPattern:
      fillPattern(buf, len, f_.pattern);
      return;
    case FillKind::kRandom:
      fillRandom(buf, len, nextSeed(&state_));
      return;
    case FillKind::kCompress: break;
  }
  // A buffer is drawn from one state, chunk after chunk: a dedupe buffer repeats every
  // step its original took, compression included (fio's fill_io_buffer).
  uint64_t* rs = nullptr;
  uint64_t minWrite = f_.minWriteBytes, left = len;
  while (left) {
    if (!rs) rs = pickState();
    minWrite = std::min(minWrite, left);
    const uint64_t chunk = f_.compressChunk && f_.compressChunk < minWrite ? f_.compressChunk : minWrite;
    fillChunk(nextSeed(rs), buf, chunk);
    buf += chunk;
    left -= chunk;
    saveState(rs);
  }
}

}  // namespace phyr::bench
