// Mappings own the memory they map: the emulated IOMMU table and the VFIO keep-alive table
// hold a keep-alive for exactly as long as a mapping exists (released on unmap, clear or
// container close, never on a refused unmap), so a device never reaches freed memory.
#include <cstdint>
#include <memory>
#include <vector>

#include "check.h"
#include "emu/native/iommu.h"
#include "addon/vfio/mapping.h"

using namespace phyr;

namespace {
// Heap memory whose liveness the test watches through a weak_ptr, as the Node glue's
// backing store would be.
std::shared_ptr<void> heapBlock(size_t n, std::weak_ptr<void>* watch) {
  auto mem = std::shared_ptr<uint8_t[]>(new uint8_t[n]());
  std::shared_ptr<void> keep(mem, mem.get());
  *watch = keep;
  return keep;
}
}  // namespace

TEST(iommu_keepalive_lives_until_unmap) {
  emu::IommuTable t;
  std::weak_ptr<void> w;
  {
    auto keep = heapBlock(8192, &w);
    CHECK(t.map(0x100000, static_cast<uint8_t*>(keep.get()), 8192, true, true, keep).empty());
  }
  // The caller dropped every reference: the mapping alone keeps the memory.
  CHECK(!w.expired());
  CHECK_EQ(t.keepAlives(), 1u);
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    uint8_t* p = t.translateWholeLocked(0x100000, 8192, true);
    CHECK(p != nullptr);
    if (p) p[8191] = 0xA5;  // ASan: in bounds of live memory
  }
  CHECK(!t.unmap(0x100000, 4096).empty());  // would split: refused, nothing released
  CHECK(!w.expired());
  CHECK(t.unmap(0x100000, 8192).empty());
  CHECK(w.expired());
  CHECK_EQ(t.keepAlives(), 0u);
}

TEST(iommu_keepalive_refused_map_releases_nothing_twice) {
  emu::IommuTable t;
  std::weak_ptr<void> w1, w2;
  auto k1 = heapBlock(4096, &w1);
  auto k2 = heapBlock(4096, &w2);
  CHECK(t.map(0x200000, static_cast<uint8_t*>(k1.get()), 4096, true, true, k1).empty());
  CHECK(!t.map(0x200000, static_cast<uint8_t*>(k2.get()), 4096, true, true, k2).empty());  // overlap
  k1.reset();
  k2.reset();
  CHECK(!w1.expired());
  CHECK(w2.expired());  // the refused mapping kept nothing
  // A mapping without a keep-alive (memory the caller owns) still works.
  static uint8_t fixed[4096] __attribute__((aligned(4096)));
  CHECK(t.map(0x300000, fixed, sizeof fixed, true, false).empty());
  CHECK_EQ(t.keepAlives(), 1u);
  t.clear();
  CHECK(w1.expired());
  CHECK_EQ(t.size(), 0u);
}

TEST(iommu_keepalive_unmap_range_releases_each) {
  emu::IommuTable t;
  std::vector<std::weak_ptr<void>> ws(4);
  for (int i = 0; i < 4; i++) {
    auto k = heapBlock(4096, &ws[i]);
    CHECK(t.map(0x400000 + 0x1000 * i, static_cast<uint8_t*>(k.get()), 4096, true, true, k).empty());
  }
  CHECK(t.unmap(0x401000, 0x2000).empty());  // the middle two
  CHECK(!ws[0].expired());
  CHECK(ws[1].expired());
  CHECK(ws[2].expired());
  CHECK(!ws[3].expired());
  CHECK_EQ(t.keepAlives(), 2u);
}

TEST(vfio_keepalive_table) {
  vfio::DmaKeepAlives k;
  std::weak_ptr<void> a, b, c;
  k.add(7, 0x100000, 0x1000, heapBlock(16, &a));
  k.add(7, 0x200000, 0x1000, heapBlock(16, &b));
  k.add(8, 0x100000, 0x1000, heapBlock(16, &c));
  CHECK_EQ(k.size(), 3u);
  CHECK(!a.expired() && !b.expired() && !c.expired());
  CHECK_EQ(k.dropRange(7, 0x100000, 0x1000), 1u);
  CHECK(a.expired());
  CHECK(!c.expired());  // same IOVA, other container
  CHECK_EQ(k.dropRange(7, 0x300000, 0x1000), 0u);
  CHECK_EQ(k.dropContainer(7), 1u);
  CHECK(b.expired());
  // A record for a reused fd number replaces (and releases) the stale one.
  std::weak_ptr<void> d;
  k.add(8, 0x100000, 0x1000, heapBlock(16, &d));
  CHECK(c.expired());
  CHECK_EQ(k.size(), 1u);
  CHECK_EQ(k.dropContainer(8), 1u);
  CHECK(d.expired());
  CHECK_EQ(k.size(), 0u);
}
