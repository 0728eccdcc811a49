// SGL encoding from phyr arrays, byte for byte (NVMe 1.4 §4.4).
#include <vector>

#include "check.h"
#include "dptr_test_pages.h"
#include "spec/nvme.h"
#include "drivers/nvme/native/sgl.h"

using phyr::PhyrEntry;
using phyr::nvme::buildSgl;
using phyr::nvme::DptrCaps;
using phyr::nvme::DptrError;
using phyr::nvme::SglBuckets;
using phyr::test::FakePages;
using phyr::test::whole;

namespace {
struct Sgl {
  DptrError err;
  uint64_t w0, w1;
  uint32_t pages;
};
DptrCaps caps(uint8_t support, bool bucket = false) {
  DptrCaps c;
  c.sglSupport = support;
  c.bitBucket = bucket;
  return c;
}
Sgl build(const std::vector<PhyrEntry>& v, const DptrCaps& c, FakePages& pages, SglBuckets b = {}) {
  Sgl r{};
  r.err = buildSgl(whole(v), c, b, pages, &r.w0, &r.w1, &r.pages);
  return r;
}
// A descriptor's second word: length in bits 31:0, identifier in bits 63:56.
uint64_t word1(uint32_t len, uint8_t type) { return static_cast<uint64_t>(len) | static_cast<uint64_t>(type << 4) << 56; }
void checkDesc(const FakePages& p, uint32_t page, uint32_t index, uint64_t addr, uint32_t len, uint8_t type) {
  CHECK_EQ(p.u64(page, index * 2), addr);
  CHECK_EQ(p.u64(page, index * 2 + 1), word1(len, type));
}
}  // namespace

TEST(sgl_single_data_block_in_sgl1) {
  FakePages pages;
  Sgl r = build({{0x10003, 777, 0}}, caps(1), pages);  // byte-aligned SGL takes any address
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.w0, 0x10003ull);
  CHECK_EQ(r.w1, word1(777, 0x0));
  CHECK_EQ(pages.taken(), 0u);
}

TEST(sgl_adjacent_ranges_merge_into_one_descriptor) {
  FakePages pages;
  Sgl r = build({{0x10000, 100, 0}, {0x10064, 200, phyr::kPhyr_HUGEPAGE}, {0x1012C, 4, 0}}, caps(1), pages);
  CHECK_EQ(r.w0, 0x10000ull);
  CHECK_EQ(r.w1, word1(304, 0x0));
  CHECK_EQ(pages.taken(), 0u);
  // CMB and host memory never merge, even when adjacent.
  Sgl c = build({{0x10000, 100, 0}, {0x10064, 100, phyr::kPhyr_CMB}}, caps(1), pages);
  CHECK_EQ(c.w1, word1(32, 0x3));  // Last Segment with two descriptors
}

TEST(sgl_several_blocks_use_one_last_segment) {
  FakePages pages;
  Sgl r = build({{0x10000, 100, 0}, {0x30000, 200, 0}, {0x50008, 300, 0}}, caps(1), pages);
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.w0, pages.iova(0));
  CHECK_EQ(r.w1, word1(48, 0x3));
  checkDesc(pages, 0, 0, 0x10000, 100, 0x0);
  checkDesc(pages, 0, 1, 0x30000, 200, 0x0);
  checkDesc(pages, 0, 2, 0x50008, 300, 0x0);
  CHECK_EQ(pages.u64(0, 6), 0xEEEEEEEEEEEEEEEEull);
  CHECK_EQ(r.pages, 1u);
}

static std::vector<PhyrEntry> scattered(uint32_t n) {
  std::vector<PhyrEntry> v;
  for (uint32_t i = 0; i < n; i++) v.push_back({0x1000000ull + 0x2000ull * i, 512, 0});
  return v;
}

TEST(sgl_256_descriptors_fill_one_segment) {
  FakePages pages;
  Sgl r = build(scattered(256), caps(2), pages);
  CHECK_EQ(r.w1, word1(4096, 0x3));
  checkDesc(pages, 0, 255, 0x1000000ull + 0x2000ull * 255, 512, 0x0);
  CHECK_EQ(r.pages, 1u);
}

TEST(sgl_segments_chain_when_descriptors_overflow_a_page) {
  FakePages pages;
  // 257 descriptors: page 0 holds 255 + a Last Segment link to page 1 (2 descriptors).
  Sgl r = build(scattered(257), caps(2), pages);
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.w0, pages.iova(0));
  CHECK_EQ(r.w1, word1(4096, 0x2));  // Segment: 256 slots
  checkDesc(pages, 0, 254, 0x1000000ull + 0x2000ull * 254, 512, 0x0);
  checkDesc(pages, 0, 255, pages.iova(1), 32, 0x3);
  checkDesc(pages, 1, 0, 0x1000000ull + 0x2000ull * 255, 512, 0x0);
  checkDesc(pages, 1, 1, 0x1000000ull + 0x2000ull * 256, 512, 0x0);
  CHECK_EQ(r.pages, 2u);
  // 700 descriptors: 255 + 255 + 190, links Segment then Last Segment.
  FakePages more;
  Sgl m = build(scattered(700), caps(2), more);
  CHECK_EQ(m.w1, word1(4096, 0x2));
  checkDesc(more, 0, 255, more.iova(1), 4096, 0x2);
  checkDesc(more, 1, 255, more.iova(2), 190 * 16, 0x3);
  checkDesc(more, 2, 189, 0x1000000ull + 0x2000ull * 699, 512, 0x0);
  CHECK_EQ(m.pages, 3u);
}

TEST(sgl_bit_bucket_around_read_data) {
  FakePages pages;
  Sgl r = build({{0x20000, 1000, 0}}, caps(1, true), pages, SglBuckets{24, 24});
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.w1, word1(48, 0x3));
  checkDesc(pages, 0, 0, 0, 24, 0x1);
  checkDesc(pages, 0, 1, 0x20000, 1000, 0x0);
  checkDesc(pages, 0, 2, 0, 24, 0x1);
  FakePages none;
  CHECK(build({{0x20000, 1000, 0}}, caps(1, false), none, SglBuckets{24, 0}).err == DptrError::BitBucketUnsupported);
}

TEST(sgl_dword_alignment_failures) {
  FakePages pages;
  CHECK(build({{0x10002, 512, 0}}, caps(2), pages).err == DptrError::SglNotDwordAligned);
  CHECK(build({{0x10000, 510, 0}}, caps(2), pages).err == DptrError::SglNotDwordAligned);
  CHECK(build({{0x10000, 512, 0}}, caps(2, true), pages, SglBuckets{2, 0}).err == DptrError::SglNotDwordAligned);
  // Two unaligned pieces that merge into an aligned block are fine.
  Sgl m = build({{0x10000, 2, 0}, {0x10002, 510, 0}}, caps(2), pages);
  CHECK(m.err == DptrError::None);
  CHECK_EQ(m.w1, word1(512, 0x0));
  // Byte-aligned controllers accept anything.
  CHECK(build({{0x10001, 3, 0}}, caps(1), pages).err == DptrError::None);
  CHECK(build({{0x10000, 512, 0}}, caps(0), pages).err == DptrError::SglUnsupported);
  CHECK_EQ(pages.taken(), 0u);
}

TEST(sgl_reports_missing_segment_pages) {
  FakePages one(1);
  Sgl r = build(scattered(300), caps(2), one);
  CHECK(r.err == DptrError::NoListPages);
}
