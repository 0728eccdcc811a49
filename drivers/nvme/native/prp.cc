// PRP construction (NVMe 1.4 §4.3): PRP1 may carry a dword-aligned offset into its page;
// every later entry addresses the start of a memory page.
#include "drivers/nvme/native/prp.h"

#include <cstring>

namespace phyr::nvme {

const char* dptrErrorText(DptrError e) {
  switch (e) {
    case DptrError::None: return "ok";
    case DptrError::Empty: return "the transfer is empty";
    case DptrError::OutOfBounds: return "the data range reaches past the end of the phyr array";
    case DptrError::PrpNotDwordAligned: return "PRP1 is not dword-aligned (PRP entry bits 1:0 are reserved)";
    case DptrError::NotPrpable:
      return "the phyr array is not PRP-able: an inner range does not start and end on a memory page boundary";
    case DptrError::SglUnsupported: return "the controller does not support SGLs";
    case DptrError::SglNotDwordAligned:
      return "the controller requires dword-aligned SGL Data Block addresses and lengths";
    case DptrError::BitBucketUnsupported: return "the controller does not support SGL Bit Bucket descriptors";
    case DptrError::NoListPages: return "no DMA page is left for a PRP list or SGL segment";
  }
  return "unknown data-pointer error";
}

uint64_t prpBreakOffset(const PhyrSlice& s, uint32_t pageSize) {
  const uint64_t mask = pageSize - 1;
  uint64_t pos = 0;
  uint64_t breakAt = s.length;
  bool first = true;
  bool prevEndedOnPage = true;
  forEachRange(s, [&](uint64_t addr, uint64_t len, uint32_t) {
    if (!first && (!prevEndedOnPage || (addr & mask) != 0)) {
      breakAt = pos;
      return false;
    }
    first = false;
    prevEndedOnPage = ((addr + len) & mask) == 0;
    pos += len;
    return true;
  });
  return breakAt;
}

bool isPrpable(const PhyrSlice& s, uint32_t pageSize) {
  bool aligned = true;
  forEachRange(s, [&](uint64_t addr, uint64_t, uint32_t) {
    aligned = (addr & 3) == 0;
    return false;
  });
  return aligned && prpBreakOffset(s, pageSize) == s.length;
}

uint64_t prpEntryCount(const PhyrSlice& s, uint32_t pageSize) {
  const uint64_t mask = ~static_cast<uint64_t>(pageSize - 1);
  uint64_t n = 0;
  forEachRange(s, [&](uint64_t addr, uint64_t len, uint32_t) {
    n += 1 + (((addr + len - 1) & mask) - (addr & mask)) / pageSize;
    return true;
  });
  return n;
}

namespace {
// Calls f(entry) for the PRP entry of every memory page [addr, addr + len) touches: addr
// itself, then each later page start. Counts pages rather than comparing with addr + len,
// which is 0 for a range that ends at 2^64 (a phyr entry may), and stepping past the last
// page would wrap to 0 there and never stop.
template <typename F>
void forEachPage(uint64_t addr, uint64_t len, uint64_t pageMask, F&& f) {
  const uint64_t last = (addr + len - 1) & pageMask;
  for (uint64_t p = addr;; p = (p & pageMask) + (~pageMask + 1)) {
    if (!f(p) || (p & pageMask) == last) return;
  }
}

// Writes list entries into chained list pages.
class PrpListWriter {
 public:
  PrpListWriter(ListPageSource& pages, uint32_t pageSize, uint64_t entries)
      : pages_(pages), slots_(pageSize / 8), remaining_(entries) {}

  bool start(uint64_t* listIova) {
    if (!nextPage()) return false;
    *listIova = page_.iova;
    return true;
  }

  // Appends one entry; chains to a new page when this page's last slot is reached and
  // more than one entry remains (the last slot holds data when exactly one is left).
  bool push(uint64_t entry) {
    if (slot_ == slots_ - 1 && remaining_ > 1) {
      ListPage next;
      if (!pages_.take(&next)) return false;
      used_++;
      store(next.iova);
      page_ = next;
      slot_ = 0;
    }
    store(entry);
    remaining_--;
    return true;
  }

  uint32_t used() const { return used_; }

 private:
  bool nextPage() {
    if (!pages_.take(&page_)) return false;
    used_++;
    slot_ = 0;
    return true;
  }
  void store(uint64_t v) {
    std::memcpy(page_.cpu + 8 * slot_, &v, 8);  // little-endian host (x86-64, arm64)
    slot_++;
  }

  ListPageSource& pages_;
  const uint64_t slots_;
  uint64_t remaining_;
  ListPage page_{};
  uint64_t slot_ = 0;
  uint32_t used_ = 0;
};
}  // namespace

DptrError buildPrp(const PhyrSlice& s, uint32_t pageSize, ListPageSource& pages, uint64_t* prp1,
                   uint64_t* prp2, uint32_t* pagesUsed) {
  *pagesUsed = 0;
  if (s.length == 0) return DptrError::Empty;
  if (!isPrpable(s, pageSize)) {
    uint64_t first = 0;
    forEachRange(s, [&](uint64_t a, uint64_t, uint32_t) {
      first = a;
      return false;
    });
    return (first & 3) != 0 ? DptrError::PrpNotDwordAligned : DptrError::NotPrpable;
  }
  const uint64_t pageMask = ~static_cast<uint64_t>(pageSize - 1);
  const uint64_t total = prpEntryCount(s, pageSize);
  uint64_t entryIndex = 0;
  *prp2 = 0;
  if (total <= 2) {
    forEachRange(s, [&](uint64_t addr, uint64_t len, uint32_t) {
      forEachPage(addr, len, pageMask, [&](uint64_t p) {
        (entryIndex++ == 0 ? *prp1 : *prp2) = p;
        return true;
      });
      return true;
    });
    return DptrError::None;
  }
  PrpListWriter list(pages, pageSize, total - 1);
  if (!list.start(prp2)) return DptrError::NoListPages;
  bool ok = true;
  forEachRange(s, [&](uint64_t addr, uint64_t len, uint32_t) {
    forEachPage(addr, len, pageMask, [&](uint64_t p) {
      if (entryIndex++ == 0) {
        *prp1 = p;
      } else if (!list.push(p)) {
        ok = false;
      }
      return ok;
    });
    return ok;
  });
  *pagesUsed = list.used();
  return ok ? DptrError::None : DptrError::NoListPages;
}

}  // namespace phyr::nvme
