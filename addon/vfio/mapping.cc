// See mapping.h.
#include "addon/vfio/mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

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

int unmap(void* addr, size_t size) { return munmap(addr, size) < 0 ? -errno : 0; }

void DmaKeepAlives::add(int fd, uint64_t iova, uint64_t size, std::shared_ptr<void> keep) {
  std::shared_ptr<void> old;
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = held_[{fd, iova}];
  old = std::move(slot.second);  // a stale entry (fd number reused): released below, unlocked
  slot = {size, std::move(keep)};
  (void)old;
}

size_t DmaKeepAlives::dropRange(int fd, uint64_t iova, uint64_t size) {
  // Released after the lock: dropping the last owner frees memory.
  std::vector<std::shared_ptr<void>> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = held_.lower_bound({fd, iova});
    while (it != held_.end() && it->first.first == fd && it->first.second - iova < size) {
      released.push_back(std::move(it->second.second));
      it = held_.erase(it);
    }
  }
  return released.size();
}

size_t DmaKeepAlives::dropContainer(int fd) { return dropRange(fd, 0, UINT64_MAX); }

size_t DmaKeepAlives::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_.size();
}

DmaKeepAlives& dmaKeepAlives() {
  static DmaKeepAlives* table = new DmaKeepAlives();  // never destroyed: no exit-order issues
  return *table;
}

}  // namespace phyr::vfio
