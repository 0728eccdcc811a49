// The data-pointer policy: which format, and why, over a table of phyr arrays.
#include <cstring>
#include <vector>

#include "check.h"
#include "drivers/nvme/native/dptr_policy.h"
#include "dptr_test_pages.h"

using phyr::PhyrEntry;
using namespace phyr::nvme;
using phyr::test::whole;

namespace {
DptrCaps caps(uint8_t sgl, uint64_t mdts = 0, bool bucket = false) {
  DptrCaps c;
  c.preferSgl = false;
  c.sglSupport = sgl;
  c.maxTransfer = mdts;
  c.bitBucket = bucket;
  return c;
}
DptrCaps preferSgl(uint8_t sgl, uint64_t mdts = 0) {
  DptrCaps c = caps(sgl, mdts);
  c.preferSgl = true;
  return c;
}
DptrDecision run(const std::vector<PhyrEntry>& v, const DptrCaps& c, uint32_t lba = 512, bool admin = false,
                 SglBuckets b = {}) {
  DptrRequest r;
  r.data = whole(v);
  r.lbaSize = lba;
  r.admin = admin;
  r.buckets = b;
  return decide(r, c);
}
struct Row {
  const char* what;
  std::vector<PhyrEntry> data;
  DptrCaps caps;
  uint32_t lba;
  DptrFormat format;
  DptrReason reason;
  uint32_t children;
};
}  // namespace

TEST(policy_table) {
  const uint64_t K = 1024;
  std::vector<Row> rows = {
      {"4 KiB aligned, no SGL", {{0x10000, 4096, 0}}, caps(0), 512, DptrFormat::Prp, DptrReason::PrpSglUnsupported, 1},
      {"4 KiB aligned, SGL: small segment", {{0x10000, 4096, 0}}, caps(1), 512, DptrFormat::Prp, DptrReason::PrpSmallSegments, 1},
      {"128 KiB one segment, SGL", {{0x100000, 128 * K, 0}}, caps(1), 512, DptrFormat::Sgl, DptrReason::SglLargeSegments, 1},
      {"two 32 KiB segments, SGL", {{0x100000, 32 * K, 0}, {0x300000, 32 * K, 0}}, caps(2), 512, DptrFormat::Sgl, DptrReason::SglLargeSegments, 1},
      {"64 KiB in 16 pages, SGL: average 4 KiB", {}, caps(2), 512, DptrFormat::Prp, DptrReason::PrpSmallSegments, 1},
      {"large but dword-misaligned for SGL", {{0x100000, 64 * K, 0}, {0x300000, 64 * K - 2, 0}}, caps(2), 2, DptrFormat::Prp, DptrReason::PrpSglMisaligned, 1},
      {"not PRP-able, SGL", {{0x10000, 512, 0}, {0x20200, 512, 0}}, caps(1), 512, DptrFormat::Sgl, DptrReason::SglNotPrpable, 1},
      {"not PRP-able, no SGL, LBA-aligned breaks", {{0x10000, 512, 0}, {0x20200, 512, 0}, {0x30400, 1024, 0}}, caps(0), 512, DptrFormat::Split, DptrReason::SplitNotPrpable, 3},
      {"not PRP-able, dword SGL misaligned", {{0x10000, 512, 0}, {0x20200, 510, 0}}, caps(2), 2, DptrFormat::Split, DptrReason::SplitSglMisaligned, 2},
      {"break inside an LBA", {{0x10000, 256, 0}, {0x20200, 256, 0}}, caps(0), 512, DptrFormat::Bounce, DptrReason::BounceUnalignedBreak, 0},
      {"first byte not dword-aligned, no SGL", {{0x10001, 512, 0}}, caps(0), 512, DptrFormat::Bounce, DptrReason::BounceMisalignedStart, 0},
      {"peer memory cannot bounce", {{0x10000, 256, phyr::kPhyr_PEER_TO_PEER}, {0x20200, 256, 0}}, caps(0), 512, DptrFormat::Reject, DptrReason::RejectBouncePeer, 0},
      {"CMB then host at an LBA boundary", {{0x10000, 4096, phyr::kPhyr_CMB}, {0x11000, 4096, 0}}, caps(0), 512, DptrFormat::Split, DptrReason::SplitCmb, 2},
      {"CMB then host inside an LBA", {{0x10000, 256, phyr::kPhyr_CMB}, {0x10100, 256, 0}}, caps(1), 512, DptrFormat::Reject, DptrReason::RejectCmbMixUnaligned, 0},
      {"MDTS 128 KiB, 512 KiB IO", {{0x100000, 512 * K, 0}}, caps(0, 128 * K), 512, DptrFormat::Split, DptrReason::SplitMdts, 4},
      {"MDTS 128 KiB, 129 KiB IO", {{0x100000, 129 * K, 0}}, caps(0, 128 * K), 512, DptrFormat::Split, DptrReason::SplitMdts, 2},
      {"SGL requested, 4 KiB", {{0x10000, 4096, 0}}, preferSgl(1), 512, DptrFormat::Sgl, DptrReason::SglRequested, 1},
      {"SGL requested, dword-misaligned", {{0x10000, 4096, 0}, {0x11000, 510, 0}}, preferSgl(2), 2, DptrFormat::Prp, DptrReason::PrpSglMisaligned, 1},
      {"SGL requested, no SGL support", {{0x10000, 4096, 0}}, preferSgl(0), 512, DptrFormat::Prp, DptrReason::PrpSglUnsupported, 1},
      {"SGL requested, MDTS split", {{0x100000, 256 * K, 0}}, preferSgl(1, 128 * K), 512, DptrFormat::Split, DptrReason::SplitMdts, 2},
      {"CMB 16 KiB, no SGL: two-page children", {{0x10000, 16 * K, phyr::kPhyr_CMB}}, caps(0), 512, DptrFormat::Split, DptrReason::SplitCmbNoLists, 2},
      {"CMB 16 KiB, SGL: one inline descriptor", {{0x10000, 16 * K, phyr::kPhyr_CMB}}, caps(1), 512, DptrFormat::Sgl, DptrReason::SglCmbInline, 1},
      {"CMB 8 KiB, no list needed", {{0x10000, 8 * K, phyr::kPhyr_CMB}}, caps(1), 512, DptrFormat::Prp, DptrReason::PrpSmallSegments, 1},
      {"CMB 12 KiB from mid-page", {{0x10800, 12 * K, phyr::kPhyr_CMB}}, caps(0), 512, DptrFormat::Split, DptrReason::SplitCmbNoLists, 2},
      {"CMB two pages apart", {{0x10000, 4 * K, phyr::kPhyr_CMB}, {0x30000, 4 * K, phyr::kPhyr_CMB}}, caps(1), 512, DptrFormat::Prp, DptrReason::PrpSmallSegments, 1},
      {"CMB, SGL requested", {{0x10000, 4 * K, phyr::kPhyr_CMB}}, preferSgl(1), 512, DptrFormat::Sgl, DptrReason::SglCmbInline, 1},
      {"MDTS exactly", {{0x100000, 128 * K, 0}}, caps(0, 128 * K), 512, DptrFormat::Prp, DptrReason::PrpSglUnsupported, 1},
  };
  for (uint32_t i = 0; i < 16; i++) rows[4].data.push_back({0x100000ull + 0x10000ull * i, 4096, 0});
  for (const Row& row : rows) {
    DptrDecision d = run(row.data, row.caps, row.lba);
    bool ok = d.format == row.format && d.reason == row.reason && d.children == row.children;
    if (!ok) {
      std::fprintf(stderr, "    row '%s': got %s/%s/%u\n", row.what, dptrFormatName(d.format), dptrReasonName(d.reason),
                   d.children);
    }
    CHECK(ok);
  }
}

TEST(policy_split_children_are_lba_multiples_at_prp_breaks) {
  std::vector<PhyrEntry> v{{0x10000, 4096, 0}, {0x20000, 1024, 0}, {0x30200, 3072, 0}, {0x40000, 512, 0}};
  DptrRequest r;
  r.data = whole(v);
  r.lbaSize = 512;
  DptrCaps c = caps(0);
  DptrChild a = nextChild(r, c, 0);
  CHECK(a.format == DptrFormat::Prp);
  CHECK_EQ(a.offset, 0ull);
  CHECK_EQ(a.length, 5120ull);  // 0x10000 page, then 0x20000 (starts on a page, ends off-page)
  CHECK(a.reason == DptrReason::SplitNotPrpable);
  DptrChild b = nextChild(r, c, 5120);
  CHECK_EQ(b.length, 3072ull);  // 0x30200 range ends page-aligned at 0x31000...
  DptrChild d = nextChild(r, c, 8192);
  CHECK_EQ(d.length, 512ull);
  CHECK(d.reason == DptrReason::PrpSglUnsupported);  // the last piece is PRP-able on its own
  CHECK(decide(r, c).children == 3u);
}

TEST(policy_mdts_children_respect_lba_size) {
  std::vector<PhyrEntry> v{{0x100000, 12 * 4096, 0}};
  DptrRequest r;
  r.data = whole(v);
  r.lbaSize = 4096;
  DptrCaps c = caps(0, 5 * 4096 + 100);  // not a multiple of the LBA size
  DptrChild a = nextChild(r, c, 0);
  CHECK_EQ(a.length, 5ull * 4096);
  DptrDecision d = decide(r, c);
  CHECK(d.format == DptrFormat::Split);
  CHECK(d.reason == DptrReason::SplitMdts);
  CHECK_EQ(d.children, 3u);
}

TEST(policy_admin_and_bit_bucket) {
  DptrDecision a = run({{0x10000, 4096, 0}}, caps(1), 512, true);
  CHECK(a.format == DptrFormat::Prp && a.reason == DptrReason::PrpAdmin);
  DptrDecision bad = run({{0x10000, 512, 0}, {0x20200, 512, 0}}, caps(1), 512, true);
  CHECK(bad.format == DptrFormat::Reject && bad.reason == DptrReason::RejectAdminNotPrpable);
  DptrDecision bb = run({{0x10000, 1000, 0}}, caps(1, 0, true), 512, false, SglBuckets{24, 0});
  CHECK(bb.format == DptrFormat::Sgl && bb.reason == DptrReason::SglBitBucket);
  DptrDecision nb = run({{0x10000, 1000, 0}}, caps(1, 0, false), 512, false, SglBuckets{24, 0});
  CHECK(nb.format == DptrFormat::Bounce && nb.reason == DptrReason::BounceNoBitBucket);
  DptrDecision split = run({{0x10000, 1000, 0}}, caps(1, 512, true), 512, false, SglBuckets{24, 0});
  CHECK(split.format == DptrFormat::Reject && split.reason == DptrReason::RejectBucketSplit);
}

TEST(policy_reason_texts_are_complete) {
  for (uint32_t i = 0; i < static_cast<uint32_t>(DptrReason::Count); i++) {
    CHECK(std::strcmp(dptrReasonName(static_cast<DptrReason>(i)), "Unknown") != 0);
    CHECK(std::strlen(dptrReasonText(static_cast<DptrReason>(i))) > 10);
  }
}
