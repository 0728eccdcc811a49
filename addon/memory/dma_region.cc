// See dma_region.h.
#include "addon/memory/dma_region.h"

#include <sys/mman.h>

#include <atomic>
#include <cerrno>

namespace phyr::memory {
namespace {
std::atomic<size_t> gLiveRegions{0};
std::atomic<size_t> gLiveBytes{0};

bool validSize(size_t size, bool huge) {
  size_t unit = huge ? kHugepageSize : kPageSize;
  return size > 0 && size <= kMaxRegionSize && size % unit == 0;
}
}  // namespace

AllocResult allocateRegion(size_t size, bool huge) {
  AllocResult r;
  if (!validSize(size, huge)) {
    r.status = AllocStatus::badSize;
    r.err = EINVAL;
    return r;
  }
  // MAP_POPULATE faults every page in now, so the first DMA never races a page fault and
  // a hugepage shortage shows up here as an error rather than later as SIGBUS. Hugetlb
  // mappings also reserve their pages at mmap time (no MAP_NORESERVE), which is what
  // turns "none reserved" into a clean ENOMEM.
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (huge ? MAP_HUGETLB : 0);
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (addr == MAP_FAILED) {
    r.err = errno;
    r.status = huge && (r.err == ENOMEM || r.err == EINVAL) ? AllocStatus::noHugepages : AllocStatus::mapFailed;
    return r;
  }
  // Locked: the kernel may not swap, migrate or compact these pages while a device holds
  // their addresses (VFIO pins them again on map; the emulated IOMMU relies on this).
  if (mlock(addr, size) != 0) {
    r.err = errno;
    munmap(addr, size);
    r.status = AllocStatus::lockFailed;
    return r;
  }
  // A forked child must not share these pages copy-on-write: the parent's next write
  // would move it to a fresh page the device does not know about.
  madvise(addr, size, MADV_DONTFORK);
  r.region = Region{addr, size, huge};
  gLiveRegions.fetch_add(1, std::memory_order_relaxed);
  gLiveBytes.fetch_add(size, std::memory_order_relaxed);
  return r;
}

void freeRegion(const Region& region) {
  if (region.addr == nullptr) return;
  munlock(region.addr, region.size);
  munmap(region.addr, region.size);
  gLiveRegions.fetch_sub(1, std::memory_order_relaxed);
  gLiveBytes.fetch_sub(region.size, std::memory_order_relaxed);
}

const char* describe(AllocStatus status) {
  switch (status) {
    case AllocStatus::ok: return "ok";
    case AllocStatus::badSize: return "size is zero, not a multiple of the page size, or too large";
    case AllocStatus::noHugepages: return "not enough free 2 MiB hugepages are reserved";
    case AllocStatus::mapFailed: return "mmap failed";
    case AllocStatus::lockFailed:
      return "mlock failed: the locked-memory limit is too low (raise `ulimit -l` or run with CAP_IPC_LOCK)";
  }
  return "unknown";
}

size_t liveRegions() { return gLiveRegions.load(std::memory_order_relaxed); }
size_t liveBytes() { return gLiveBytes.load(std::memory_order_relaxed); }

}  // namespace phyr::memory
