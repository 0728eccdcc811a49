// The benchmark's log-linear latency histogram: bucket bounds, exactness below 64,
// bounded relative error above, percentiles, mean/stddev, merge and export.
#include <cmath>
#include <thread>
#include <vector>

#include "bench/native/histogram.h"
#include "check.h"

using phyr::bench::LatencyHistogram;

TEST(bench_histogram_buckets_cover_every_value_once) {
  // Consecutive buckets tile the value space with no gap or overlap.
  for (size_t i = 0; i + 1 < 64 * 20; i++) {
    CHECK_EQ(LatencyHistogram::bucketHigh(i) + 1, LatencyHistogram::bucketLow(i + 1));
    CHECK_EQ(LatencyHistogram::bucketOf(LatencyHistogram::bucketLow(i)), i);
    CHECK_EQ(LatencyHistogram::bucketOf(LatencyHistogram::bucketHigh(i)), i);
  }
  CHECK_EQ(LatencyHistogram::bucketOf(UINT64_MAX), LatencyHistogram::kBuckets - 1);
  CHECK_EQ(LatencyHistogram::bucketHigh(LatencyHistogram::kBuckets - 1), UINT64_MAX);
}

TEST(bench_histogram_exact_below_64_and_within_1_6_percent_above) {
  for (uint64_t v = 0; v < 64; v++) CHECK_EQ(LatencyHistogram::bucketValue(LatencyHistogram::bucketOf(v)), v);
  for (uint64_t v = 64; v < (1ull << 40); v = v * 3 + 7) {
    const uint64_t rep = LatencyHistogram::bucketValue(LatencyHistogram::bucketOf(v));
    const double err = std::fabs(static_cast<double>(rep) - static_cast<double>(v)) / static_cast<double>(v);
    CHECK(err <= 1.0 / 64);
  }
}

TEST(bench_histogram_percentiles_mean_stddev) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; v++) h.record(v * 1000);  // 1 us .. 100 us
  CHECK_EQ(h.count(), 100u);
  CHECK_EQ(h.min(), 1000u);
  CHECK_EQ(h.max(), 100000u);
  CHECK(std::fabs(h.mean() - 50500.0) < 1e-6);
  // Sample stddev of 1000*[1..100] = 1000 * sqrt(100*101/12) = 29011.49...
  CHECK(std::fabs(h.stddev() - 29011.49) < 0.5);
  const struct { double p; uint64_t want; } cases[] = {{50, 50000}, {90, 90000}, {99, 99000}, {1, 1000}, {100, 100000}};
  for (const auto& c : cases) {
    const double got = static_cast<double>(h.percentile(c.p));
    CHECK(std::fabs(got - static_cast<double>(c.want)) / static_cast<double>(c.want) <= 1.0 / 64);
  }
}

TEST(bench_histogram_empty_is_all_zero) {
  LatencyHistogram h;
  CHECK_EQ(h.count(), 0u);
  CHECK_EQ(h.min(), 0u);
  CHECK_EQ(h.max(), 0u);
  CHECK_EQ(h.percentile(99), 0u);
  CHECK(h.mean() == 0.0);
  CHECK(h.stddev() == 0.0);
}

TEST(bench_histogram_merge_equals_recording_everything_in_one) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 0; v < 5000; v++) {
    const uint64_t x = (v * 2654435761u) % 1000000;
    (v % 3 ? a : b).record(x);
    all.record(x);
  }
  a.merge(b);
  CHECK_EQ(a.count(), all.count());
  CHECK_EQ(a.min(), all.min());
  CHECK_EQ(a.max(), all.max());
  CHECK_EQ(a.sum(), all.sum());
  for (size_t i = 0; i < LatencyHistogram::kBuckets; i++) CHECK_EQ(a.bucketCount(i), all.bucketCount(i));
  CHECK_EQ(a.percentile(99.9), all.percentile(99.9));
}

TEST(bench_histogram_export_bins_lists_nonempty_buckets_in_order) {
  LatencyHistogram h;
  h.record(5);
  h.record(5);
  h.record(70000);
  CHECK_EQ(h.nonEmptyBuckets(), 2u);
  std::vector<double> out(8, -1);
  CHECK_EQ(h.exportBins(out.data(), 4), 2u);
  CHECK(out[0] == 5.0);
  CHECK(out[1] == 2.0);
  CHECK(std::fabs(out[2] - 70000.0) / 70000.0 <= 1.0 / 64);
  CHECK(out[3] == 1.0);
  CHECK_EQ(h.exportBins(out.data(), 1), 1u);  // honours the caller's capacity
}

TEST(bench_histogram_thread_per_job_then_merge) {
  // The engine's pattern: each job thread owns its histogram; the reporter merges them
  // after joining, so recording needs no atomics.
  LatencyHistogram h[2];
  std::thread a([&] { for (uint64_t v = 0; v < 100000; v++) h[0].record(v); });
  std::thread b([&] { for (uint64_t v = 0; v < 100000; v++) h[1].record(v + 100000); });
  a.join();
  b.join();
  h[0].merge(h[1]);
  CHECK_EQ(h[0].count(), 200000u);
  CHECK_EQ(h[0].min(), 0u);
  CHECK_EQ(h[0].max(), 199999u);
}

TEST(bench_histogram_weighted_record_equals_repeated_records) {
  // recordN(v, n) stands for n record(v) calls (a batch's shared slat).
  LatencyHistogram one, many;
  const struct { uint64_t v, n; } cases[] = {{0, 3}, {63, 1}, {64, 5}, {1000, 128}, {123456789, 7}, {5, 0}};
  for (const auto& c : cases) {
    one.recordN(c.v, c.n);
    for (uint64_t i = 0; i < c.n; i++) many.record(c.v);
  }
  CHECK_EQ(one.count(), many.count());
  CHECK_EQ(one.count(), 144u);
  CHECK_EQ(one.sum(), many.sum());
  CHECK_EQ(one.min(), many.min());
  CHECK_EQ(one.max(), many.max());
  for (size_t i = 0; i < LatencyHistogram::kBuckets; i++) CHECK_EQ(one.bucketCount(i), many.bucketCount(i));
  CHECK(std::fabs(one.stddev() - many.stddev()) <= 1e-9 * many.stddev());
  LatencyHistogram none;
  none.recordN(42, 0);  // nothing recorded: min/max stay empty
  CHECK_EQ(none.count(), 0u);
  CHECK_EQ(none.max(), 0u);
}
