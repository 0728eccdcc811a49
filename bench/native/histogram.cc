#include "bench/native/histogram.h"

#include <cmath>
#include <cstring>

namespace phyr::bench {

void LatencyHistogram::reset() {
  std::memset(counts_, 0, sizeof(counts_));
  count_ = 0;
  sum_ = 0;
  sumSquares_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

uint64_t LatencyHistogram::bucketLow(size_t i) {
  if (i < kSub) return i;
  const uint64_t shift = i / kSub - 1;
  const uint64_t sub = i % kSub;
  return (kSub + sub) << shift;
}

uint64_t LatencyHistogram::bucketHigh(size_t i) {
  if (i < kSub) return i;
  const uint64_t shift = i / kSub - 1;
  const uint64_t low = bucketLow(i);
  return low + ((1ull << shift) - 1);
}

uint64_t LatencyHistogram::bucketValue(size_t i) {
  const uint64_t lo = bucketLow(i);
  return lo + (bucketHigh(i) - lo) / 2;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; i++) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  sumSquares_ += other.sumSquares_;
  if (other.count_) {
    if (other.min_ < min_) min_ = other.min_;
    if (other.max_ > max_) max_ = other.max_;
  }
}

double LatencyHistogram::mean() const {
  return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

double LatencyHistogram::stddev() const {
  if (count_ < 2) return 0.0;
  const double n = static_cast<double>(count_);
  const double m = static_cast<double>(sum_) / n;
  const double var = (sumSquares_ - n * m * m) / (n - 1);
  return var > 0 ? std::sqrt(var) : 0.0;
}

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (p <= 0) return min();
  if (p >= 100) return max_;
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_) - 1e-9));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; i++) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t v = bucketValue(i);
      if (v < min_) v = min_;
      if (v > max_) v = max_;
      return v;
    }
  }
  return max_;
}

size_t LatencyHistogram::nonEmptyBuckets() const {
  size_t n = 0;
  for (size_t i = 0; i < kBuckets; i++) n += counts_[i] != 0;
  return n;
}

size_t LatencyHistogram::exportBins(double* out, size_t maxPairs) const {
  size_t n = 0;
  for (size_t i = 0; i < kBuckets && n < maxPairs; i++) {
    if (!counts_[i]) continue;
    out[2 * n] = static_cast<double>(bucketValue(i));
    out[2 * n + 1] = static_cast<double>(counts_[i]);
    n++;
  }
  return n;
}

}  // namespace phyr::bench
