// PRP encoding from phyr arrays, byte for byte (NVMe 1.4 §4.3).
#include <vector>

#include "check.h"
#include "dptr_test_pages.h"
#include "drivers/nvme/native/prp.h"

using phyr::PhyrEntry;
using phyr::nvme::buildPrp;
using phyr::nvme::DptrError;
using phyr::nvme::isPrpable;
using phyr::nvme::prpBreakOffset;
using phyr::test::FakePages;
using phyr::test::whole;

namespace {
struct Prp {
  DptrError err;
  uint64_t prp1, prp2;
  uint32_t pages;
};
Prp build(const std::vector<PhyrEntry>& v, FakePages& pages) {
  Prp r{};
  r.err = buildPrp(whole(v), 4096, pages, &r.prp1, &r.prp2, &r.pages);
  return r;
}
}  // namespace

TEST(prp_dword_offset_within_one_page) {
  FakePages pages;
  Prp r = build({{0x10004, 512, 0}}, pages);
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.prp1, 0x10004ull);
  CHECK_EQ(r.prp2, 0ull);
  CHECK_EQ(pages.taken(), 0u);
}

TEST(prp_page_exact_single_page) {
  FakePages pages;
  Prp r = build({{0x20000, 4096, 0}}, pages);
  CHECK_EQ(r.prp1, 0x20000ull);
  CHECK_EQ(r.prp2, 0ull);
  CHECK_EQ(r.pages, 0u);
}

TEST(prp_exactly_two_pages_uses_prp2_as_data) {
  FakePages pages;
  Prp r = build({{0x20000, 8192, 0}}, pages);
  CHECK_EQ(r.prp1, 0x20000ull);
  CHECK_EQ(r.prp2, 0x21000ull);
  CHECK_EQ(pages.taken(), 0u);
  // An offset start that crosses exactly one boundary is also two pages.
  Prp o = build({{0x20200, 4096, 0}}, pages);
  CHECK_EQ(o.prp1, 0x20200ull);
  CHECK_EQ(o.prp2, 0x21000ull);
  // Two page-aligned ranges, one page each.
  Prp t = build({{0x50000, 4096, 0}, {0x90000, 100, 0}}, pages);
  CHECK_EQ(t.prp1, 0x50000ull);
  CHECK_EQ(t.prp2, 0x90000ull);
  CHECK_EQ(pages.taken(), 0u);
}

TEST(prp_three_pages_use_a_list) {
  FakePages pages;
  Prp r = build({{0x30800, 8192, 0}}, pages);  // 0x30800..0x32800: pages 30,31,32
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.prp1, 0x30800ull);
  CHECK_EQ(r.prp2, pages.iova(0));
  CHECK_EQ(pages.u64(0, 0), 0x31000ull);
  CHECK_EQ(pages.u64(0, 1), 0x32000ull);
  CHECK_EQ(pages.u64(0, 2), 0xEEEEEEEEEEEEEEEEull);  // nothing written past the list
  CHECK_EQ(r.pages, 1u);
}

TEST(prp_scatter_list_of_page_aligned_ranges) {
  FakePages pages;
  // First range ends page-aligned, middle is whole pages, last ends anywhere.
  Prp r = build({{0x1F00, 0x100, 0}, {0x8000, 0x2000, 0}, {0x40000, 0x10, 0}}, pages);
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.prp1, 0x1F00ull);
  CHECK_EQ(pages.u64(0, 0), 0x8000ull);
  CHECK_EQ(pages.u64(0, 1), 0x9000ull);
  CHECK_EQ(pages.u64(0, 2), 0x40000ull);
}

// List entries = total pages - 1. With 4 KiB pages a list page has 512 slots.
static void checkListOf(uint32_t listEntries, uint32_t expectPages) {
  FakePages pages;
  const uint64_t base = 0x100000000ull;
  Prp r = build({{base, (listEntries + 1) * 4096u, 0}}, pages);
  CHECK(r.err == DptrError::None);
  CHECK_EQ(r.prp1, base);
  CHECK_EQ(r.prp2, pages.iova(0));
  CHECK_EQ(r.pages, expectPages);
  // Walk the chain exactly as a controller does.
  uint32_t page = 0, slot = 0;
  for (uint32_t i = 0; i < listEntries; i++) {
    uint32_t left = listEntries - i;
    if (slot == 511 && left > 1) {
      CHECK_EQ(pages.u64(page, slot), pages.iova(page + 1));
      page++;
      slot = 0;
    }
    CHECK_EQ(pages.u64(page, slot), base + 4096ull * (i + 1));
    slot++;
  }
  CHECK_EQ(page + 1, expectPages);
}

TEST(prp_list_511_entries_fit_one_page) { checkListOf(511, 1); }
TEST(prp_list_512_entries_fill_one_page_without_chain) {
  checkListOf(512, 1);
  FakePages pages;
  CHECK(build({{0x100000000ull, 513 * 4096u, 0}}, pages).err == DptrError::None);
  CHECK_EQ(pages.u64(0, 511), 0x100000000ull + 512 * 4096ull);  // last slot is data
}
TEST(prp_list_513_entries_chain_to_a_second_page) {
  checkListOf(513, 2);
  FakePages pages;
  CHECK(build({{0x100000000ull, 514 * 4096u, 0}}, pages).err == DptrError::None);
  CHECK_EQ(pages.u64(0, 511), pages.iova(1));                       // chain pointer
  CHECK_EQ(pages.u64(1, 0), 0x100000000ull + 512 * 4096ull);        // 512th entry
  CHECK_EQ(pages.u64(1, 1), 0x100000000ull + 513 * 4096ull);        // 513th entry
}
TEST(prp_list_chains_without_size_cap) {
  // 16 MiB in one command: 4096 pages, 4095 list entries over 9 list pages (no 2 MiB cap).
  checkListOf(4095, 9);
  checkListOf(511 * 3 + 1, 3);  // 511 + 511 + 512: the last page needs no chain slot
  checkListOf(511 * 3 + 2, 4);
}

TEST(prp_reports_missing_list_pages) {
  FakePages none(0);
  Prp r = build({{0x0, 3 * 4096, 0}}, none);
  CHECK(r.err == DptrError::NoListPages);
  FakePages one(1);
  Prp s = build({{0x0, 600 * 4096, 0}}, one);
  CHECK(s.err == DptrError::NoListPages);
  CHECK_EQ(s.pages, 1u);
}

TEST(prp_refuses_misaligned_and_non_prpable) {
  FakePages pages;
  CHECK(build({{0x10002, 512, 0}}, pages).err == DptrError::PrpNotDwordAligned);
  // Second range does not start on a page.
  CHECK(build({{0x10000, 4096, 0}, {0x20010, 4096, 0}}, pages).err == DptrError::NotPrpable);
  // First range does not end on a page.
  CHECK(build({{0x10000, 2048, 0}, {0x20000, 4096, 0}}, pages).err == DptrError::NotPrpable);
  CHECK(build({}, pages).err == DptrError::Empty);
  CHECK_EQ(pages.taken(), 0u);
}

TEST(prp_break_offset_and_slices) {
  std::vector<PhyrEntry> v{{0x10000, 8192, 0}, {0x30000, 4096, 0}, {0x50200, 512, 0}, {0x60000, 4096, 0}};
  CHECK_EQ(prpBreakOffset(whole(v), 4096), 12288ull);  // the third range starts off-page
  phyr::nvme::PhyrSlice head{v.data(), 4, 0, 12288};
  CHECK(isPrpable(head, 4096));
  // A slice starting inside the third range: its own first range may carry an offset,
  // but that range ends off-page, so the slice breaks at the fourth range.
  phyr::nvme::PhyrSlice tail{v.data(), 4, 12288, 512 + 4096};
  CHECK_EQ(prpBreakOffset(tail, 4096), 512ull);
  CHECK(!isPrpable(tail, 4096));
  // Slice offset into a range: PRP1 gets the offset.
  phyr::nvme::PhyrSlice mid{v.data(), 4, 4096 + 512, 4096};
  FakePages pages;
  uint64_t p1 = 0, p2 = 0;
  uint32_t used = 0;
  CHECK(buildPrp(mid, 4096, pages, &p1, &p2, &used) == DptrError::None);
  CHECK_EQ(p1, 0x11200ull);
  CHECK_EQ(p2, 0x30000ull);
}
