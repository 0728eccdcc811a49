// Process mappings handed to JavaScript as external ArrayBuffers: a device region
// (BAR) mmap'd from a VFIO device fd, or anonymous memory (optionally 2 MiB hugepages).
// Core C++: plain mmap/munmap with argument checks.
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr::vfio {

constexpr size_t kHugepageSize = 2u << 20;

// mmap of `size` bytes of `fd` at `offset` (shared, read/write). Returns the address or
// nullptr with *err = errno (EINVAL for sizes/offsets that are not page multiples).
void* mapRegion(int fd, uint64_t offset, size_t size, int* err);
// Anonymous private memory, populated and locked; with `huge`, MAP_HUGETLB (size must be a
// multiple of 2 MiB). Returns nullptr with *err = errno on failure.
void* mapAnonymous(size_t size, bool huge, int* err);
// munmap; returns 0 or -errno.
int unmap(void* addr, size_t size);

}  // namespace phyr::vfio
