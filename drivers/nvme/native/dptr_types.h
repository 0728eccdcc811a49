// Shared vocabulary of the data-pointer builders (PRP, SGL) and the policy that picks
// between them: a byte range of a phyr array, list pages in DMA memory, the controller's
// data-pointer capabilities, and the reasons a decision can carry.
#pragma once
#include <algorithm>
#include <cstdint>

#include "spec/phyr.h"

namespace phyr::nvme {

// One command's data: bytes [offset, offset + length) of a phyr array. Child commands of a
// split share the parent's array and differ only in offset and length (no copying).
struct PhyrSlice {
  const PhyrEntry* entries;
  uint32_t count;
  uint64_t offset;
  uint64_t length;
};

// Calls f(addr, len, flags) for every piece of the slice in order; f returns false to stop.
template <typename F>
inline void forEachRange(const PhyrSlice& s, F&& f) {
  uint64_t skip = s.offset;
  uint64_t left = s.length;
  for (uint32_t i = 0; i < s.count && left != 0; i++) {
    const uint64_t len = s.entries[i].len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const uint64_t take = std::min(len - skip, left);
    const uint64_t addr = s.entries[i].addr + skip;
    skip = 0;
    left -= take;
    if (!f(addr, take, s.entries[i].flags)) return;
  }
}

// Bytes covered by a whole phyr array (what a slice may address).
inline uint64_t phyrTotalBytes(const PhyrEntry* e, uint32_t n) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) total += e[i].len;
  return total;
}

// One page of DMA memory holding a PRP list or an SGL segment: CPU view and device address.
struct ListPage {
  uint8_t* cpu;
  uint64_t iova;
};

// Hands out list pages for one command: the tracker's preallocated page first, then more on
// demand for long lists. `take` returns false when no page is left (the caller reports
// DptrError::NoListPages and the command is not submitted).
class ListPageSource {
 public:
  virtual bool take(ListPage* out) = 0;

 protected:
  ~ListPageSource() = default;
};

// Why a builder refused a slice.
enum class DptrError : uint8_t {
  None = 0,
  Empty,              // zero-length transfer with a data pointer requested
  OutOfBounds,        // the slice reaches past the phyr array
  PrpNotDwordAligned, // PRP1 bits 1:0 are reserved (NVMe 1.4 §4.3)
  NotPrpable,         // an inner range does not start/end on a memory page boundary
  SglUnsupported,     // the controller reports no SGL support (Identify SGLS 1:0 = 00b)
  SglNotDwordAligned, // SGLS = 10b requires dword-aligned Data Block address and length
  BitBucketUnsupported,
  NoListPages,        // no DMA page left for a PRP list / SGL segment
};

const char* dptrErrorText(DptrError e);

// The controller's data-pointer capabilities, from CC.MPS and Identify Controller.
struct DptrCaps {
  uint32_t pageSize = 4096;     // memory page size, CC.MPS (NVMe 1.4 §3.1.5)
  uint8_t sglSupport = 0;       // Identify SGLS bits 1:0: 0 none, 1 byte-aligned, 2 dword-aligned
  bool bitBucket = false;       // Identify SGLS bit 16
  uint64_t maxTransfer = 0;     // bytes, from MDTS; 0 = no limit
  uint32_t sglThreshold = 32768;// average segment size from which SGL is preferred (Linux's rule)
  bool preferSgl = false;       // the caller asked for SGL on every IO command SGL can describe
};

}  // namespace phyr::nvme
