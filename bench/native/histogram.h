// A log-linear latency histogram, recorded in the benchmark hot loop.
//
// Values (nanoseconds) below 2^kSubBits are counted exactly; above, every power-of-two
// range [2^m, 2^(m+1)) is split into 2^kSubBits equal sub-buckets, so a bucket is never
// wider than 1/64 (1.6 %) of its values — the same shape as fio's latency histogram and
// HdrHistogram. Recording is a count-leading-zeros, a shift and an increment: a few ns,
// no allocation, no branch on the value's magnitude beyond one compare.
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr::bench {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 6;
  static constexpr uint64_t kSub = 1ull << kSubBits;
  // Exact range (kSub values), then one group of kSub buckets per power of two up to 2^64.
  static constexpr size_t kBuckets = kSub + (64 - kSubBits) * kSub;

  LatencyHistogram() { reset(); }
  void reset();

  // Bucket index of a value: exact below 2*kSub, log-linear above. With
  // shift = max(msb - kSubBits, 0), (v >> shift) is v itself below 2*kSub and lies in
  // [kSub, 2*kSub) above, so shift * kSub + (v >> shift) is the exact value below and
  // group (shift + 1), sub-bucket (v >> shift) - kSub above — no branch on the
  // magnitude (`v | 1` keeps clz defined at 0; the max is a conditional move).
  static inline size_t bucketOf(uint64_t v) {
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v | 1));
    const unsigned shift = msb > kSubBits ? msb - kSubBits : 0;
    return (static_cast<size_t>(shift) << kSubBits) + static_cast<size_t>(v >> shift);
  }
  // Smallest and largest value that fall in bucket `i`.
  static uint64_t bucketLow(size_t i);
  static uint64_t bucketHigh(size_t i);

  inline void record(uint64_t v) {
    counts_[bucketOf(v)]++;
    count_++;
    sum_ += v;
    sumSquares_ += static_cast<double>(v) * static_cast<double>(v);
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }
  // Records `n` samples of the same value at once (a batch of IOs that share both
  // timestamps): the same histogram as n record(v) calls, for the cost of one.
  [[gnu::always_inline]] inline void recordN(uint64_t v, uint64_t n) {
    if (n == 0) return;
    counts_[bucketOf(v)] += n;
    count_ += n;
    sum_ += v * n;
    sumSquares_ += static_cast<double>(v) * static_cast<double>(v) * static_cast<double>(n);
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }

  // Adds every sample of `other` (histograms of several jobs into a group).
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  uint64_t sum() const { return sum_; }
  double sumSquares() const { return sumSquares_; }
  double mean() const;
  double stddev() const;  // sample standard deviation, like fio (n - 1)
  // The value at percentile p (0 < p <= 100): the representative value of the bucket
  // that holds the ceil(p/100 * count)-th smallest sample, clamped to [min, max].
  uint64_t percentile(double p) const;
  uint64_t bucketCount(size_t i) const { return counts_[i]; }

  // Writes the non-empty buckets as (representative value, count) pairs; returns the
  // number of pairs written (at most maxPairs).
  size_t exportBins(double* out, size_t maxPairs) const;
  size_t nonEmptyBuckets() const;

  // The representative value reported for bucket i: its midpoint (exact below kSub).
  static uint64_t bucketValue(size_t i);

 private:
  uint64_t counts_[kBuckets];
  uint64_t count_;
  uint64_t sum_;
  double sumSquares_;
  uint64_t min_;
  uint64_t max_;
};

}  // namespace phyr::bench
