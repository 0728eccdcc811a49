// Device regions (BARs) mmap'd from a VFIO device fd, handed to JavaScript as external
// ArrayBuffers, and the keep-alives of VFIO DMA mappings. Core C++: plain mmap/munmap with
// argument checks. DMA memory itself comes from the memory room (addon/memory), the one
// hugepage path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace phyr::vfio {

// mmap of `size` bytes of `fd` at `offset` (shared, read/write). Returns the address or
// nullptr with *err = errno (EINVAL for sizes/offsets that are not page multiples).
void* mapRegion(int fd, uint64_t offset, size_t size, int* err);
// munmap; returns 0 or -errno.
int unmap(void* addr, size_t size);

// What each VFIO DMA mapping keeps alive. VFIO pins the physical pages it maps, but that
// does not stop the process from freeing and reusing the VIRTUAL memory (a heap-backed
// ArrayBuffer freed after a transfer): the device would then write into whatever the heap
// puts there next. So every mapping holds shared ownership of its memory (an opaque
// keep-alive, the ArrayBuffer's backing store in the Node glue) until it is unmapped or its
// container is closed. Process-wide and thread-safe (the addon may run in workers).
class DmaKeepAlives {
 public:
  // Records the keep-alive of the mapping [iova, iova + size) in container `fd`.
  void add(int fd, uint64_t iova, uint64_t size, std::shared_ptr<void> keep);
  // Drops the keep-alives of container `fd`'s mappings that start inside [iova, iova + size);
  // returns how many.
  size_t dropRange(int fd, uint64_t iova, uint64_t size);
  // Drops every keep-alive of container `fd` (closing it unmaps everything); returns how many.
  size_t dropContainer(int fd);
  // Keep-alives held (tests, leak checks).
  size_t size();

 private:
  std::mutex mutex_;
  std::map<std::pair<int, uint64_t>, std::pair<uint64_t, std::shared_ptr<void>>> held_;
};

// The process-wide table.
DmaKeepAlives& dmaKeepAlives();

}  // namespace phyr::vfio
