// Cases the data-pointer fuzz target (test/fuzz/dptr_fuzz.cc) found, kept as plain tests
// so the native tier holds them without the fuzzer. Each failed (or hung) before its fix.
#include <chrono>
#include <vector>

#include "check.h"
#include "drivers/nvme/native/dptr_policy.h"
#include "dptr_test_pages.h"
#include "spec/nvme.h"
#include "drivers/nvme/native/prp.h"
#include "drivers/nvme/native/sgl.h"

using phyr::PhyrEntry;
using namespace phyr::nvme;
using phyr::test::FakePages;
using phyr::test::whole;

// SGLS = 10b takes dword-aligned Bit Bucket lengths only: the policy must not pick SGL
// for discarded bytes that are not a multiple of 4 (buildSgl refuses them; the IO used to
// fail with "dword-aligned" instead of bouncing).
TEST(dptr_finding_bucket_not_dword_aligned_bounces) {
  const std::vector<PhyrEntry> v{{0x10000000, 4096, 0}};
  DptrCaps c;
  c.sglSupport = SGLS_DWORD_ALIGNED;
  c.bitBucket = true;
  DptrRequest r;
  r.data = whole(v);
  r.data.length = 4096 - 1271 - 29;
  r.buckets = SglBuckets{1271, 29};
  const DptrDecision d = decide(r, c);
  CHECK(d.format == DptrFormat::Bounce);
  CHECK(d.reason == DptrReason::BounceBucketMisaligned);
  r.buckets = SglBuckets{1272, 28};  // dword multiples: SGL as before
  r.data.length = 4096 - 1272 - 28;
  CHECK(decide(r, c).format == DptrFormat::Sgl);
}

// A maximum transfer below one logical block leaves no whole-block child: refuse, rather
// than split into children whose NLB (length / LBA size) is 0.
TEST(dptr_finding_mdts_below_lba_rejects) {
  const std::vector<PhyrEntry> v{{0x10000000, 4096, 0}, {0x10001000, 4096, 0}};
  DptrCaps c;
  c.maxTransfer = 2590;
  DptrRequest r;
  r.data = whole(v);
  r.lbaSize = 4096;
  const DptrDecision d = decide(r, c);
  CHECK(d.format == DptrFormat::Reject);
  CHECK(d.reason == DptrReason::RejectMdtsBelowLba);
  CHECK(nextChild(r, c, 0).format == DptrFormat::Reject);
}

// Ranges in the last page of the 64-bit address space: the page walk used to wrap to 0
// (and loop forever), or, for a range ending at 2^64, not run at all (PRP1 unset).
TEST(dptr_finding_prp_last_page_of_address_space) {
  FakePages pages;
  uint64_t prp1 = 0, prp2 = 0;
  uint32_t used = 0;
  const std::vector<PhyrEntry> odd{{0xFFFFFFFFFFFFFF08ull, 1, 0}};
  CHECK(buildPrp(whole(odd), 4096, pages, &prp1, &prp2, &used) == DptrError::None);
  CHECK_EQ(prp1, 0xFFFFFFFFFFFFFF08ull);
  CHECK_EQ(prp2, 0ull);
  const std::vector<PhyrEntry> end{{0xFFFFFFFFFFFFE000ull, 0x2000, 0}};
  prp1 = prp2 = 0;
  CHECK(buildPrp(whole(end), 4096, pages, &prp1, &prp2, &used) == DptrError::None);
  CHECK_EQ(prp1, 0xFFFFFFFFFFFFE000ull);
  CHECK_EQ(prp2, 0xFFFFFFFFFFFFF000ull);
  CHECK_EQ(used, 0u);
}

// A block ending at 2^64 is not contiguous with one at address 0: two descriptors.
TEST(dptr_finding_sgl_no_merge_across_address_space_end) {
  const std::vector<PhyrEntry> v{{0xFFFFFFFFFFFFF000ull, 0x1000, 0}, {0, 0x1000, 0}};
  CHECK_EQ(sglDataDescriptorCount(whole(v)), 2ull);
}

// Walking the children in order used to restart from entry 0 for every child (and scan the
// rest of the array for CMB entries): 100,000 PRP-breaking entries took 43 s in decide()
// alone, on the JS thread. With the request's cursor it is linear: bounded here at 2 s.
TEST(dptr_finding_children_walk_is_linear) {
  const uint32_t n = 100000;
  std::vector<PhyrEntry> v(n);
  for (uint32_t i = 0; i < n; i++) v[i] = {0x100000000ull + 2ull * 4096 * i + 512, 3584, 0};
  DptrRequest r;
  r.data = whole(v);
  DptrCaps c;
  c.maxTransfer = 65536ull * 512;
  const auto t0 = std::chrono::steady_clock::now();
  const DptrDecision d = decide(r, c);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < d.children; i++) pos += nextChild(r, c, pos).length;  // as QueuePair::submit walks them
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(d.format == DptrFormat::Split);
  CHECK_EQ(d.children, n);
  CHECK_EQ(pos, r.data.length);
  CHECK(s < 2.0);
}
