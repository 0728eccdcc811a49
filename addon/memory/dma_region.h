// Native DMA memory: page-locked regions for the DMA pool (lib/dma/pool.ts). A region is
// either 2 MiB hugepages (MAP_HUGETLB) or ordinary 4 KiB pages; both are populated up
// front and locked, so the physical pages behind them never move or get swapped while a
// device may be reading or writing them. Core C++ (no Node headers): the addon glue is
// memory_napi.cc, and test/native/memory_region_test.cc drives this file directly.
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr::memory {

constexpr size_t kPageSize = 4096;
constexpr size_t kHugepageSize = size_t{2} << 20;
// Upper bound of one region: far beyond any sane pool chunk, small enough that size
// arithmetic never overflows and a typo (a size in bits, say) is refused, not attempted.
constexpr size_t kMaxRegionSize = size_t{1} << 40;

/** Why an allocation failed. */
enum class AllocStatus {
  ok,
  badSize,       // zero, not a multiple of the page size, or above kMaxRegionSize
  noHugepages,   // MAP_HUGETLB found too few free reserved hugepages
  mapFailed,     // mmap failed for another reason (errno in AllocResult::err)
  lockFailed,    // mlock failed: RLIMIT_MEMLOCK too low without CAP_IPC_LOCK
};

struct Region {
  void* addr = nullptr;
  size_t size = 0;
  bool huge = false;
};

struct AllocResult {
  AllocStatus status = AllocStatus::ok;
  int err = 0;  // errno of the failing call, 0 when ok
  Region region;
};

// Allocates `size` bytes of locked, populated, zeroed memory. `huge` asks for 2 MiB
// hugepages (size must then be a multiple of 2 MiB); otherwise 4 KiB pages (size a
// multiple of 4 KiB). The region is 2 MiB-aligned when huge, 4 KiB-aligned otherwise.
AllocResult allocateRegion(size_t size, bool huge);

// Unlocks and unmaps a region returned by allocateRegion. Safe on an empty Region.
void freeRegion(const Region& region);

// Offset of `p` within its 4 KiB page (the IOMMU congruence rule: a host address and the
// IOVA it is mapped at share this offset).
inline size_t pageOffset(const void* p) { return reinterpret_cast<uintptr_t>(p) & (kPageSize - 1); }

// A short human-readable reason for a status.
const char* describe(AllocStatus status);

// Regions currently allocated and not yet freed, process-wide (leak checks in tests).
size_t liveRegions();
size_t liveBytes();

}  // namespace phyr::memory
