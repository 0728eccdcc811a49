#include "bench/native/random.h"

#include <cmath>

namespace phyr::bench {

void Rng::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) {
    x += 0x9e3779b97f4a7c15ull;
    s = mix64(x);
  }
}

double zeta(uint64_t n, double theta) {
  constexpr uint64_t kExactTerms = 10'000'000;
  const uint64_t exact = n < kExactTerms ? n : kExactTerms;
  double sum = 0;
  for (uint64_t i = 1; i <= exact; i++) sum += std::pow(static_cast<double>(i), -theta);
  if (n > exact) {
    // Integral of x^-theta from exact+0.5 to n+0.5 (midpoint rule for the tail).
    const double a = static_cast<double>(exact) + 0.5, b = static_cast<double>(n) + 0.5;
    sum += (std::pow(b, 1 - theta) - std::pow(a, 1 - theta)) / (1 - theta);
  }
  return sum;
}

bool OffsetGenerator::init(Distribution dist, double param, uint64_t blocks, bool randomMap,
                           uint64_t seed) {
  if (blocks == 0) return false;
  dist_ = dist;
  blocks_ = blocks;
  randomMap_ = randomMap;
  rng_.reseed(seed);
  // The scatter permutes [0, 2^k) for the smallest 2^k >= blocks (see scatter()).
  uint32_t bits = 0;
  while ((1ull << bits) < blocks && bits < 63) bits++;
  shiftBits_ = bits / 2 + 1;
  if (dist != Distribution::kUniform) mask_ = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  scatterKey_ = mix64(seed ^ 0x5a5a5a5a5a5a5a5aull) & mask_;
  switch (dist) {
    case Distribution::kUniform: {
      uint64_t size = 1;
      while (size < blocks) size <<= 1;
      mask_ = size - 1;
      // a = 1 (mod 4) and c odd give the LCG modulo 2^k a full period (Hull-Dobell).
      lcgA_ = mask_ >= 3 ? (((rng_.next() << 2) | 1) & mask_) : 1;
      lcgC_ = (rng_.next() | 1) & mask_;
      state_ = rng_.next() & mask_;
      drawnThisPass_ = 0;
      return true;
    }
    case Distribution::kZipf: {
      if (!(param > 0) || param == 1.0 || !std::isfinite(param)) return false;
      theta_ = param;
      zetan_ = zeta(blocks, theta_);
      zeta2_ = zeta(2, theta_);
      alpha_ = 1.0 / (1.0 - theta_);
      eta_ = (1 - std::pow(2.0 / static_cast<double>(blocks), 1 - theta_)) / (1 - zeta2_ / zetan_);
      return true;
    }
    case Distribution::kZoned:
      return true;  // the zones come with setZones()
    case Distribution::kPareto: {
      if (!(param > 0) || !(param < 1)) return false;
      paretoPow_ = std::log(param) / std::log(1.0 - param);
      return true;
    }
    case Distribution::kNormal: {
      if (!(param >= 0) || !(param < 100)) return false;
      // fio: ceil(blocks × dev / 100), at most half the blocks.
      normalWidth_ = static_cast<uint64_t>(std::ceil(static_cast<double>(blocks) * param / 100.0));
      if (normalWidth_ > blocks / 2) normalWidth_ = blocks / 2;
      scatterKey_ = 0;  // fio hashes normal ranks unshifted unless a center is given
      return true;
    }
  }
  return false;
}

bool OffsetGenerator::setCenter(double center) {
  if (!(center >= 0 && center <= 1)) return false;
  if (dist_ != Distribution::kZipf && dist_ != Distribution::kPareto && dist_ != Distribution::kNormal) return false;
  scatterKey_ = 0;
  const double b = static_cast<double>(blocks_);
  double shift = dist_ == Distribution::kNormal ? b * (center - 0.5) : b * center;
  shift = std::fmod(shift, b);
  if (shift < 0) shift += b;
  shift_ = static_cast<uint64_t>(shift);
  if (shift_ >= blocks_) shift_ = 0;
  return true;
}

// fio's normal: 12 draws over [0, blocks] averaged (rounded up), plus a uniform deviation
// in [-width/2, width/2) that is halved until the rank stays below blocks.
uint64_t OffsetGenerator::normalRank() {
  constexpr int kDraws = 12;
  uint64_t sum = 0;
  for (int i = 0; i < kDraws; i++) sum += rng_.below(blocks_ + 1);
  int64_t rank = static_cast<int64_t>((sum + kDraws - 1) / kDraws);
  if (normalWidth_) {
    int64_t dev = static_cast<int64_t>(rng_.below(normalWidth_)) - static_cast<int64_t>(normalWidth_ / 2);
    while (dev != 0 && (rank + dev < 0 || rank + dev >= static_cast<int64_t>(blocks_))) dev /= 2;
    rank += dev;
  }
  // The mean can be blocks itself (every draw at the top): fio's modulo folds it to 0.
  return static_cast<uint64_t>(rank) % blocks_;
}

bool OffsetGenerator::setZones(const uint64_t* start, const uint64_t* units, const uint32_t* cum, uint32_t n) {
  if (n == 0 || n > kMaxZones || cum[n - 1] != 10000) return false;
  for (uint32_t i = 0; i < n; i++) {
    if ((i && cum[i] < cum[i - 1]) || units[i] == 0 || start[i] >= blocks_ || units[i] > blocks_ - start[i]) return false;
    zoneStart_[i] = start[i];
    zoneUnits_[i] = units[i];
    zoneCum_[i] = cum[i];
  }
  zoneCount_ = n;
  return true;
}

// Every pass walks the same permutation from the same block, as fio's does (measured on
// fio 3.33 with loops=2 and with io_size twice size: the second pass's offsets are the
// first's, in order, for each random_generator). The LCG's full cycle returns to its
// start after 2^k steps, so the state needs no reset: the draws after the pass's last
// block skip the values >= blocks and land on the pass's first block again.
void OffsetGenerator::newPass() { drawnThisPass_ = 0; }

uint64_t OffsetGenerator::nextOther() {
  switch (dist_) {
    case Distribution::kUniform:
      return randomMap_ ? nextPermuted() : rng_.below(blocks_);
    case Distribution::kZoned: {
      const uint32_t r = static_cast<uint32_t>(rng_.below(10000));
      uint32_t z = 0;
      while (z + 1 < zoneCount_ && r >= zoneCum_[z]) z++;
      return zoneStart_[z] + rng_.below(zoneUnits_[z]);
    }
    case Distribution::kZipf: {
      const double u = rng_.unit();
      const double uz = u * zetan_;
      uint64_t rank;
      if (uz < 1.0) rank = 0;
      else if (uz < 1.0 + std::pow(0.5, theta_)) rank = 1;
      else rank = static_cast<uint64_t>(static_cast<double>(blocks_) * std::pow(eta_ * u - eta_ + 1, alpha_));
      if (rank >= blocks_) rank = blocks_ - 1;
      return scatter(rank);
    }
    case Distribution::kPareto: {
      const double u = rng_.unit();
      uint64_t rank = static_cast<uint64_t>(static_cast<double>(blocks_ - 1) * std::pow(u, paretoPow_));
      if (rank >= blocks_) rank = blocks_ - 1;
      return scatter(rank);
    }
    case Distribution::kNormal:
      return scatter(normalRank());
  }
  return 0;
}

}  // namespace phyr::bench
