// Offset generators: determinism per seed, the random map's exactly-once-per-pass
// coverage, norandommap repeats, and zipf/pareto skew.
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "bench/native/random.h"
#include "check.h"

using phyr::bench::Distribution;
using phyr::bench::OffsetGenerator;
using phyr::bench::Rng;

TEST(bench_rng_same_seed_same_sequence_and_below_stays_in_range) {
  Rng a(42), b(42), c(43), d(0);
  bool differs = false;
  for (int i = 0; i < 1000; i++) {
    const uint64_t x = a.next();
    CHECK_EQ(x, b.next());
    differs |= x != c.next();
    CHECK(d.below(7) < 7);
    const double u = d.unit();
    CHECK(u >= 0.0 && u < 1.0);
  }
  CHECK(differs);
}

TEST(bench_random_map_draws_every_block_once_per_pass) {
  for (uint64_t blocks : {1ull, 2ull, 3ull, 1000ull, 4096ull, 5001ull}) {
    OffsetGenerator g;
    CHECK(g.init(Distribution::kUniform, 0, blocks, true, 7));
    for (int pass = 0; pass < 2; pass++) {
      std::vector<uint32_t> seen(blocks, 0);
      for (uint64_t i = 0; i < blocks; i++) {
        const uint64_t b = g.next();
        CHECK(b < blocks);
        if (b < blocks) seen[b]++;
      }
      CHECK(std::all_of(seen.begin(), seen.end(), [](uint32_t n) { return n == 1; }));
    }
  }
}

// fio repeats a pass's offsets in the next pass (loops, or io_size over size): so does
// the random map, for every region size (the walk past the last block must come back to
// the first).
TEST(bench_random_map_repeats_the_first_pass_order) {
  for (uint64_t blocks : {1ull, 2ull, 3ull, 1000ull, 4096ull, 5001ull}) {
    OffsetGenerator g;
    CHECK(g.init(Distribution::kUniform, 0, blocks, true, 9));
    std::vector<uint64_t> first(blocks);
    for (auto& b : first) b = g.next();
    for (int pass = 1; pass < 3; pass++) {
      bool same = true;
      for (uint64_t i = 0; i < blocks; i++) same &= g.next() == first[i];
      CHECK(same);
    }
  }
}

TEST(bench_random_map_order_depends_on_seed_and_is_not_sequential) {
  OffsetGenerator a, b;
  CHECK(a.init(Distribution::kUniform, 0, 10000, true, 1));
  CHECK(b.init(Distribution::kUniform, 0, 10000, true, 2));
  int same = 0, sequential = 0;
  uint64_t prev = a.next();
  b.next();
  for (int i = 0; i < 1000; i++) {
    const uint64_t x = a.next();
    same += x == b.next();
    sequential += x == prev + 1;
    prev = x;
  }
  CHECK(same < 50);
  CHECK(sequential < 50);
}

TEST(bench_norandommap_repeats_blocks) {
  OffsetGenerator g;
  CHECK(g.init(Distribution::kUniform, 0, 1000, false, 3));
  std::vector<uint32_t> seen(1000, 0);
  for (int i = 0; i < 1000; i++) seen[g.next()]++;
  // Independent draws: about 1000/e blocks are never drawn in 1000 draws.
  const auto untouched = std::count(seen.begin(), seen.end(), 0u);
  CHECK(untouched > 300 && untouched < 440);
}

static double hottestShare(Distribution d, double param, uint64_t blocks, int draws, double hotFraction) {
  OffsetGenerator g;
  if (!g.init(d, param, blocks, false, 11)) return -1;
  std::vector<uint32_t> seen(blocks, 0);
  for (int i = 0; i < draws; i++) {
    const uint64_t b = g.next();
    if (b >= blocks) return -1;
    seen[b]++;
  }
  std::sort(seen.begin(), seen.end(), std::greater<uint32_t>());
  uint64_t hot = 0;
  for (uint64_t i = 0; i < static_cast<uint64_t>(blocks * hotFraction); i++) hot += seen[i];
  return static_cast<double>(hot) / draws;
}

TEST(bench_zipf_and_pareto_are_skewed) {
  // Uniform: the hottest 10 % of blocks get a bit more than 10 % of the draws (noise).
  const double uniform = hottestShare(Distribution::kUniform, 0, 10000, 200000, 0.1);
  CHECK(uniform > 0.1 && uniform < 0.2);
  // zipf:1.2 over 10 000 blocks: the hottest 10 % take well over half the draws.
  const double z = hottestShare(Distribution::kZipf, 1.2, 10000, 200000, 0.1);
  CHECK(z > 0.7);
  // pareto:0.2 is fio's 80/20 rule: the hottest 20 % of blocks get about 80 % of the IO.
  const double p = hottestShare(Distribution::kPareto, 0.2, 10000, 200000, 0.2);
  CHECK(p > 0.7 && p < 0.95);
}

TEST(bench_distribution_rejects_bad_parameters) {
  OffsetGenerator g;
  CHECK(!g.init(Distribution::kZipf, 1.0, 100, false, 1));
  CHECK(!g.init(Distribution::kZipf, -2, 100, false, 1));
  CHECK(!g.init(Distribution::kPareto, 1.0, 100, false, 1));
  CHECK(!g.init(Distribution::kPareto, 0, 100, false, 1));
  CHECK(!g.init(Distribution::kUniform, 0, 0, true, 1));
}

TEST(bench_zeta_matches_direct_sum_and_tail_approximation) {
  double direct = 0;
  for (int i = 1; i <= 1000; i++) direct += std::pow(i, -1.2);
  CHECK(std::fabs(phyr::bench::zeta(1000, 1.2) - direct) < 1e-9);
  // Beyond the exact range the tail integral keeps the value within 1e-6 relative.
  const double big = phyr::bench::zeta(20'000'000, 0.8);
  double ref = phyr::bench::zeta(10'000'000, 0.8);
  for (uint64_t i = 10'000'001; i <= 20'000'000; i++) ref += std::pow(static_cast<double>(i), -0.8);
  CHECK(std::fabs(big - ref) / ref < 1e-6);
}

// fio's zoned: 60% of draws in the first zone, 40% in the second, none outside them.
TEST(bench_random_zoned_shares_and_bounds) {
  OffsetGenerator g;
  CHECK(g.init(Distribution::kZoned, 0, 1000, false, 7));
  const uint64_t start[2] = {0, 100}, units[2] = {100, 800};
  const uint32_t cum[2] = {6000, 10000};
  CHECK(g.setZones(start, units, cum, 2));
  uint64_t first = 0, outside = 0;
  for (int i = 0; i < 100000; i++) {
    const uint64_t b = g.next();
    first += b < 100;
    outside += b >= 900;
  }
  CHECK(first > 59000 && first < 61000);
  CHECK_EQ(outside, 0u);
  const uint32_t bad[2] = {6000, 9000};
  CHECK(!g.setZones(start, units, bad, 2));  // shares must end at 100 %
  const uint64_t over[2] = {100, 901};
  CHECK(!g.setZones(start, over, cum, 2));  // a zone beyond the blocks
}
