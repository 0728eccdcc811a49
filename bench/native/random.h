// Random block-index generators for the benchmark's random IO: a seeded PRNG, and the
// distributions fio offers (uniform with or without a random map, zipf:theta,
// pareto:h). Everything is deterministic for a given seed, so a run can be repeated and a
// verify pass can recompute what a write pass did.
#pragma once
#include <cstdint>

namespace phyr::bench {

// xoshiro256** seeded through splitmix64: 1 ns per draw, passes BigCrush, and any seed
// (including 0) gives a usable state.
class Rng {
 public:
  explicit Rng(uint64_t seed = 1) { reseed(seed); }
  void reseed(uint64_t seed);
  inline uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) without modulo bias worth measuring (Lemire's multiply-shift).
  inline uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform in [0, 1).
  inline double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A 64-bit mixing function (splitmix64's finaliser): scatters the hot ranks of zipf and
// pareto over the whole range, as fio does, so "hot" does not mean "the first blocks".
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

enum class Distribution : uint32_t { kUniform = 0, kZipf = 1, kPareto = 2, kZoned = 3, kNormal = 4 };

// Draws block indices in [0, blocks).
//  - uniform with a random map (fio's default): a full-period permutation — every block is
//    drawn exactly once per pass, in a random order, with no memory per block. A linear
//    congruential generator modulo the next power of two >= blocks has full period when
//    a = 1 (mod 4) and c is odd (Hull-Dobell); values >= blocks are skipped (cycle
//    walking, fewer than 2 steps on average). Each pass repeats the first's order, as
//    fio's passes do. fio's random_generator=lfsr promises the same exactly-once pass, so
//    it takes this generator too, even under norandommap.
//  - uniform with norandommap: independent draws, blocks may repeat.
//  - zipf:theta: rank k drawn with probability proportional to 1/k^theta (Gray et al.,
//    "Quickly generating billion-record synthetic databases", SIGMOD 1994), then scattered.
//  - pareto:h: fio's pareto: rank = (blocks-1) * u^(log(h)/log(1-h)), then scattered.
//  - normal:dev: fio's normal: the rank is the mean of 12 uniform draws over [0, blocks]
//    (a central-limit approximation around blocks/2), moved by a uniform deviation of
//    width dev % of the blocks (halved until it stays inside), then scattered.
// Scattering hashes the rank over the range. With a center (fio's second parameter,
// 0..1), the hash is unkeyed (mix64(0) = 0) and shifted so that rank 0 — the most
// probable of zipf and pareto — lands at center × blocks, as fio's does; for normal the
// shift is (center − 0.5) × blocks, fio's. Without one, zipf and pareto are shifted by a
// random key, normal is not shifted.
class OffsetGenerator {
 public:
  // theta for zipf (> 0, != 1), h for pareto (0 < h < 1), dev for normal (0 <= dev < 100);
  // ignored for uniform.
  bool init(Distribution dist, double param, uint64_t blocks, bool randomMap, uint64_t seed);
  // fio's distribution center (0..1) for zipf, pareto and normal; call after init().
  bool setCenter(double center);
  // The default (uniform over a random map) is inlined into the IO loop; the rest call out.
  inline uint64_t next() {
    if (dist_ == Distribution::kUniform && randomMap_) [[likely]] return nextPermuted();
    return nextOther();
  }
  uint64_t blocks() const { return blocks_; }
  // fio's zoned / zoned_abs: zone i gets the share of draws up to cum[i] (1/100 %, the last
  // 10000) and spans units [start[i], start[i] + units[i]); draws within a zone are
  // uniform and independent (blocks may repeat). Call after init(kZoned, ...).
  static constexpr uint32_t kMaxZones = 16;
  bool setZones(const uint64_t* start, const uint64_t* units, const uint32_t* cum, uint32_t n);

 private:
  inline uint64_t nextPermuted() {
    if (mask_ == 0) return 0;
    // A pass ends after `blocks_` draws; the next pass walks the same permutation again.
    if (drawnThisPass_ == blocks_) [[unlikely]] newPass();
    do {
      state_ = (lcgA_ * state_ + lcgC_) & mask_;
    } while (state_ >= blocks_);
    drawnThisPass_++;
    return state_;
  }
  void newPass();
  uint64_t nextOther();
  // A rank's block: a keyed permutation of [0, blocks) — a bijection, as fio's
  // multiplicative hash is on a power-of-two range, so distinct ranks never share a block
  // (a plain hash modulo blocks would leave a third of them unused). Odd multipliers and
  // right xorshifts are bijective modulo 2^k; values >= blocks walk the cycle on (fewer
  // than two steps on average). Unkeyed, rank 0 stays block 0, so a center puts it there.
  uint64_t scatter(uint64_t rank) const {
    uint64_t x = rank;
    do {
      x = ((x + scatterKey_) * 0x9e3779b97f4a7c15ull) & mask_;
      x ^= x >> shiftBits_;
      x = (x * 0xbf58476d1ce4e5b9ull) & mask_;
      x ^= x >> shiftBits_;
    } while (x >= blocks_);
    return shift_ ? (x + shift_) % blocks_ : x;
  }
  uint64_t normalRank();

  Distribution dist_ = Distribution::kUniform;
  uint64_t blocks_ = 1;
  bool randomMap_ = true;
  Rng rng_;
  // Permutation state.
  uint64_t mask_ = 0, lcgA_ = 0, lcgC_ = 0, state_ = 0, drawnThisPass_ = 0;
  // Zipf (Gray et al.) constants.
  double theta_ = 0, alpha_ = 0, zetan_ = 0, eta_ = 0, zeta2_ = 0;
  // Pareto exponent.
  double paretoPow_ = 0;
  uint32_t zoneCount_ = 0;
  uint64_t zoneStart_[kMaxZones] = {}, zoneUnits_[kMaxZones] = {};
  uint32_t zoneCum_[kMaxZones] = {};
  uint64_t scatterKey_ = 0;
  uint64_t shift_ = 0;  // a center's shift, in blocks (0..blocks-1)
  uint32_t shiftBits_ = 1;  // the scatter's xorshift: about half the range's bits
  // Normal: the deviation's width in blocks (fio's stddev).
  uint64_t normalWidth_ = 0;
};

// zeta(n, theta) = sum_{i=1..n} 1/i^theta; summed exactly up to 10 M terms, then the
// Euler-Maclaurin tail integral (error far below the histogram's resolution).
double zeta(uint64_t n, double theta);

}  // namespace phyr::bench
