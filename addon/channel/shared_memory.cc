// See shared_memory.h.
#include "addon/channel/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace phyr::channel {
namespace {
std::atomic<size_t> gLive{0};

// MAP_POPULATE faults every page in now: a shortage (hugetlb, or memory) is an error here,
// not a SIGBUS on first touch by the device thread.
int mapFd(int fd, size_t size, SharedRegion* out) {
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (addr == MAP_FAILED) return errno;
  // A forked child must not keep these pages mapped into a device's view by accident.
  ::madvise(addr, size, MADV_DONTFORK);
  out->addr = addr;
  out->size = size;
  gLive.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

int tryCreate(size_t size, unsigned flags, const char* name, SharedRegion* out) {
  int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | flags);
  if (fd < 0) return errno;
  // Sealed against shrinking before anyone else sees it: a process that maps it can rely
  // on every page staying there (a truncated memfd makes later accesses SIGBUS).
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    int err = errno;
    ::close(fd);
    return err;
  }
  if (int err = mapFd(fd, size, out)) {
    ::close(fd);
    return err;
  }
  out->fd = fd;
  return 0;
}
}  // namespace

int createShared(size_t size, bool huge, const char* name, SharedRegion* out) {
  *out = SharedRegion{};
  size_t unit = huge ? kSharedHugepage : kSharedPage;
  if (size == 0 || size > kMaxSharedSize || size % unit != 0) return EINVAL;
  // The default hugepage size (2 MiB on x86-64); a system whose default is 1 GiB fails the
  // 2 MiB-multiple mapping and takes plain pages.
  if (huge && tryCreate(size, MFD_HUGETLB, name, out) == 0) {
    out->huge = true;
    return 0;
  }
  return tryCreate(size, 0, name, out);
}

int mapShared(int fd, size_t size, SharedRegion* out) {
  *out = SharedRegion{};
  if (size == 0 || size > kMaxSharedSize || size % kSharedPage != 0) return EINVAL;
  struct stat st;
  if (::fstat(fd, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) < size) return EINVAL;
  // Only memory sealed against shrinking: a peer that truncated its memfd under our
  // mapping would make our next access (the device thread's DMA) raise SIGBUS and take
  // this whole process down with it.
  int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK)) return EPERM;
  int err = mapFd(fd, size, out);
  out->fd = -1;
  return err;
}

void freeShared(SharedRegion* region) {
  if (region->addr != nullptr) {
    ::munmap(region->addr, region->size);
    gLive.fetch_sub(1, std::memory_order_relaxed);
  }
  if (region->fd >= 0) ::close(region->fd);
  *region = SharedRegion{};
}

size_t liveSharedRegions() { return gLive.load(std::memory_order_relaxed); }

}  // namespace phyr::channel
