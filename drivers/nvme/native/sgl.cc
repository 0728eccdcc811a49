// SGL construction (NVMe 1.4 §4.4). Descriptor: address (bytes 7:0), length (11:8),
// identifier byte 15 = type 7:4 | subtype 3:0.
#include "drivers/nvme/native/sgl.h"

#include <cstring>

#include "spec/nvme.h"

namespace phyr::nvme {
namespace {

constexpr uint8_t descId(uint64_t type) { return static_cast<uint8_t>(type << 4 | SGL_SUBTYPE_ADDRESS); }

// Walks the slice yielding merged Data Blocks.
template <typename F>
void forEachMergedBlock(const PhyrSlice& s, F&& f) {
  uint64_t curAddr = 0, curLen = 0;
  uint32_t curCmb = 0;
  bool have = false;
  bool stop = false;
  forEachRange(s, [&](uint64_t addr, uint64_t len, uint32_t flags) {
    const uint32_t cmb = flags & kPhyr_CMB;
    // addr != 0: a block that ends at 2^64 (curAddr + curLen wraps to 0) is not
    // contiguous with one at address 0.
    if (have && curAddr + curLen == addr && addr != 0 && cmb == curCmb && curLen + len <= kPhyrMaxLen) {
      curLen += len;
      return true;
    }
    if (have && !f(curAddr, curLen)) {
      stop = true;
      return false;
    }
    curAddr = addr;
    curLen = len;
    curCmb = cmb;
    have = true;
    return true;
  });
  if (have && !stop) f(curAddr, curLen);
}

void putDesc(uint8_t* at, uint64_t addr, uint32_t len, uint8_t id) {
  SglDesc d{};
  d.addr = addr;
  d.len = len;
  d.id = id;
  std::memcpy(at, &d, sizeof d);
}

// Writes descriptors into segment pages, chaining when a page fills.
class SegmentWriter {
 public:
  SegmentWriter(ListPageSource& pages, uint32_t pageSize, uint64_t total)
      : pages_(pages), slots_(pageSize / SGL_DESC_SIZE), remaining_(total) {}

  // Takes the first segment page and returns the descriptor SGL1 must hold.
  bool start(SglDesc* sgl1) {
    if (!openPage(sgl1)) return false;
    return true;
  }

  bool push(uint64_t addr, uint32_t len, uint64_t type) {
    if (slot_ == inPage_) {
      // Page full with descriptors still to come: its last slot was reserved for the link.
      uint8_t* linkSlot = linkAt_;
      SglDesc link{};
      if (!openPage(&link)) return false;
      std::memcpy(linkSlot, &link, sizeof link);
    }
    putDesc(page_.cpu + SGL_DESC_SIZE * slot_, addr, len, descId(type));
    slot_++;
    remaining_--;
    return true;
  }

  uint32_t used() const { return used_; }

 private:
  // Opens a page for the remaining descriptors and fills `link` with the descriptor that
  // points to it: Last Segment when everything left fits, else Segment (the page's last
  // slot then links onward).
  bool openPage(SglDesc* link) {
    ListPage next;
    if (!pages_.take(&next)) return false;
    used_++;
    const bool last = remaining_ <= slots_;
    inPage_ = last ? remaining_ : slots_ - 1;
    const uint64_t descsInPage = last ? remaining_ : slots_;
    *link = SglDesc{};
    link->addr = next.iova;
    link->len = static_cast<uint32_t>(descsInPage * SGL_DESC_SIZE);
    link->id = descId(last ? SGL_TYPE_LAST_SEGMENT : SGL_TYPE_SEGMENT);
    page_ = next;
    slot_ = 0;
    linkAt_ = last ? nullptr : next.cpu + SGL_DESC_SIZE * (slots_ - 1);
    return true;
  }

  ListPageSource& pages_;
  const uint64_t slots_;
  uint64_t remaining_;
  ListPage page_{};
  uint64_t slot_ = 0;
  uint64_t inPage_ = 0;
  uint8_t* linkAt_ = nullptr;
  uint32_t used_ = 0;
};

}  // namespace

uint64_t sglDataDescriptorCount(const PhyrSlice& s) {
  uint64_t n = 0;
  forEachMergedBlock(s, [&](uint64_t, uint64_t) {
    n++;
    return true;
  });
  return n;
}

bool sglDwordAligned(const PhyrSlice& s) {
  bool ok = true;
  forEachMergedBlock(s, [&](uint64_t addr, uint64_t len) {
    ok = ((addr | len) & 3) == 0;
    return ok;
  });
  return ok;
}

DptrError buildSgl(const PhyrSlice& s, const DptrCaps& caps, SglBuckets buckets, ListPageSource& pages,
                   uint64_t* dptr1, uint64_t* dptr2, uint32_t* pagesUsed) {
  *pagesUsed = 0;
  if (caps.sglSupport == 0) return DptrError::SglUnsupported;
  if (s.length == 0) return DptrError::Empty;
  const bool dword = caps.sglSupport == SGLS_DWORD_ALIGNED;
  if (buckets.head | buckets.tail) {
    if (!caps.bitBucket) return DptrError::BitBucketUnsupported;
    if (dword && ((buckets.head | buckets.tail) & 3) != 0) return DptrError::SglNotDwordAligned;
  }
  if (dword && !sglDwordAligned(s)) return DptrError::SglNotDwordAligned;

  const uint64_t total = sglDataDescriptorCount(s) + (buckets.head ? 1 : 0) + (buckets.tail ? 1 : 0);
  SglDesc sgl1{};
  if (total == 1) {
    forEachMergedBlock(s, [&](uint64_t addr, uint64_t len) {
      sgl1.addr = addr;
      sgl1.len = static_cast<uint32_t>(len);
      return false;
    });
    sgl1.id = descId(SGL_TYPE_DATA_BLOCK);
  } else {
    SegmentWriter w(pages, caps.pageSize, total);
    bool ok = w.start(&sgl1);
    if (ok && buckets.head) ok = w.push(0, buckets.head, SGL_TYPE_BIT_BUCKET);
    if (ok) {
      forEachMergedBlock(s, [&](uint64_t addr, uint64_t len) {
        ok = w.push(addr, static_cast<uint32_t>(len), SGL_TYPE_DATA_BLOCK);
        return ok;
      });
    }
    if (ok && buckets.tail) ok = w.push(0, buckets.tail, SGL_TYPE_BIT_BUCKET);
    *pagesUsed = w.used();
    if (!ok) return DptrError::NoListPages;
  }
  uint64_t words[2];
  std::memcpy(words, &sgl1, sizeof words);
  *dptr1 = words[0];
  *dptr2 = words[1];
  return DptrError::None;
}

}  // namespace phyr::nvme
