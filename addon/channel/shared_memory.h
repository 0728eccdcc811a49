// Memory another process can map: a memfd (memfd_create(2)) mapped MAP_SHARED. The
// embedded controller's BAR and a served client's DMA memory live in such memory, so the
// daemon and the client see the same pages (docs/SERVE.md). 2 MiB hugepages
// (MFD_HUGETLB) when asked for and reserved, else ordinary pages.
// Core C++ (no Node headers): the glue is channel_napi.cc; test/native/channel_test.cc
// drives this file directly.
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr::channel {

constexpr size_t kSharedPage = 4096;
constexpr size_t kSharedHugepage = size_t{2} << 20;
// Upper bound of one shared region (as addon/memory's kMaxRegionSize, for the same reason).
constexpr size_t kMaxSharedSize = size_t{1} << 40;

/** A mapped shared region. `fd` is the memfd (or -1 once closed); the region owns both. */
struct SharedRegion {
  void* addr = nullptr;
  size_t size = 0;
  int fd = -1;
  bool huge = false;
};

// Creates a zeroed memfd region of `size` bytes (a multiple of 4 KiB; of 2 MiB when
// `huge`). With `huge`, hugetlb pages are tried first and plain pages taken when none are
// free (*out reports which). Returns 0 or an errno value (EINVAL: bad size).
int createShared(size_t size, bool huge, const char* name, SharedRegion* out);

// Maps `size` bytes of the memfd `fd` from offset 0, shared. The file must be at least
// `size` bytes long (EINVAL otherwise) and sealed against shrinking (EPERM otherwise), so a
// peer can neither make us map past its end nor truncate it under us: either would turn
// a later access into SIGBUS. createShared's memfds are sealed so. The region does not own `fd` (out->fd is -1): the caller closes it.
int mapShared(int fd, size_t size, SharedRegion* out);

// Unmaps the region and closes its fd when it owns one. Safe on an empty region.
void freeShared(SharedRegion* region);

// Regions mapped and not yet freed, process-wide (leak checks in tests).
size_t liveSharedRegions();

}  // namespace phyr::channel
