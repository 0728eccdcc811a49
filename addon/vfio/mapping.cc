// See mapping.h.
#include "vfio/mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace phyr::vfio {

static size_t pageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

void* mapRegion(int fd, uint64_t offset, size_t size, int* err) {
  if (size == 0 || size % pageSize() != 0 || offset % pageSize() != 0) {
    *err = EINVAL;
    return nullptr;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    *err = errno;
    return nullptr;
  }
  return p;
}

void* mapAnonymous(size_t size, bool huge, int* err) {
  size_t unit = huge ? kHugepageSize : pageSize();
  if (size == 0 || size % unit != 0) {
    *err = EINVAL;
    return nullptr;
  }
  // MAP_POPULATE faults the pages in now, so a missing hugepage reservation fails here
  // (ENOMEM) instead of as a SIGBUS on first touch; MAP_LOCKED keeps them resident.
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (huge ? MAP_HUGETLB : MAP_LOCKED);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    *err = errno;
    return nullptr;
  }
  return p;
}

int unmap(void* addr, size_t size) { return munmap(addr, size) < 0 ? -errno : 0; }

}  // namespace phyr::vfio
