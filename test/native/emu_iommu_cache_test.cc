// The IOMMU table's translation cache (the last few mappings hit): translations that
// alternate between several mappings stay exact, and no cached entry outlives an unmap.
#include "check.h"
#include "emu/native/iommu.h"

using phyr::emu::IommuTable;

TEST(emu_iommu_cache_alternating_mappings_and_unmap) {
  IommuTable t;
  static uint8_t a[8192], b[8192], c[8192], d[8192], e[8192], fresh[8192];
  uint8_t* hosts[] = {a, b, c, d, e};
  for (int i = 0; i < 5; i++) CHECK(t.map(0x100000 + 0x10000 * i, hosts[i], 8192, true, i != 2).empty());
  std::lock_guard<std::mutex> lock(t.mutex);
  // More mappings than cache entries, in turns: each translation lands in its own mapping.
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 5; i++) {
      uint64_t avail = 0;
      uint64_t off = (round * 512 + i * 16) % 8192;
      uint8_t* p = t.translateLocked(0x100000 + 0x10000 * i + off, 64, false, &avail);
      CHECK(p == hosts[i] + off);
      CHECK_EQ(avail, off + 64 <= 8192 ? 64u : 8192 - off);
      // Write permission is the mapping's own, cached or not.
      CHECK((t.translateLocked(0x100000 + 0x10000 * i, 16, true, &avail) != nullptr) == (i != 2));
    }
  }
  // Beyond a mapping's end is not inside it, even when that mapping is cached.
  uint64_t avail = 0;
  CHECK(t.translateLocked(0x100000 + 8192, 16, false, &avail) == nullptr);
  t.mutex.unlock();
  CHECK(t.unmap(0x110000, 8192).empty());
  CHECK(t.map(0x110000, fresh, 8192, true, true).empty());
  t.mutex.lock();
  CHECK(t.translateLocked(0x110000 + 100, 16, false, &avail) == fresh + 100);  // not the old b
  t.mutex.unlock();
  CHECK(t.unmap(0x110000, 8192).empty());
  t.mutex.lock();
  CHECK(t.translateLocked(0x110000, 16, false, &avail) == nullptr);
}
