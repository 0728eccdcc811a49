// Fuzz target: the PRP and SGL builders (prp.cc, sgl.cc) and the data-pointer policy
// (dptr_policy.cc) fed arbitrary phyr arrays and controller capabilities.
//
// Every descriptor a builder writes is decoded again here by an independent reader of the
// rules (NVMe 1.4 §4.3 PRP, §4.4 SGL) and the bytes it describes are compared, in order,
// with the bytes of the phyr slice. The policy's children are walked as QueuePair::submit
// walks them (MDTS capped by the 16-bit NLB field) and each one is checked: positive
// length, LBA multiples when split, within MDTS, never mixing CMB and host memory, and
// buildable in the format chosen. Any violation aborts (a finding).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "drivers/nvme/native/dptr_policy.h"
#define PHYR_FUZZ_TARGET "dptr fuzz"
#include "fuzz_input.h"
#include "spec/nvme.h"
#include "drivers/nvme/native/prp.h"
#include "drivers/nvme/native/sgl.h"

using namespace phyr;
using namespace phyr::nvme;
using phyr::fuzz::fail;

namespace {

// List pages in host memory with made-up device addresses, handed out up to a limit.
class Pages final : public ListPageSource {
 public:
  static constexpr uint64_t kBase = 0x7E0000000000ull;
  Pages(uint32_t pageSize, uint32_t limit) : pageSize_(pageSize), limit_(limit) {}
  bool take(ListPage* out) override {
    if (taken_ == limit_) return false;
    if (mem_.size() <= taken_) mem_.emplace_back(pageSize_, 0xEE);
    std::memset(mem_[taken_].data(), 0xEE, pageSize_);  // stale bytes: the builder must write what it uses
    out->cpu = mem_[taken_].data();
    out->iova = kBase + static_cast<uint64_t>(taken_) * pageSize_;
    taken_++;
    return true;
  }
  void reset(uint32_t limit) {
    taken_ = 0;
    limit_ = limit;
  }
  uint32_t taken() const { return taken_; }
  uint32_t limit() const { return limit_; }
  // The CPU view of `len` bytes at `iova`; they must lie inside one page taken so far.
  const uint8_t* at(uint64_t iova, uint64_t len) const {
    REQUIRE(iova >= kBase, iova);
    const uint64_t index = (iova - kBase) / pageSize_, off = (iova - kBase) % pageSize_;
    REQUIRE(index < taken_, iova, taken_);
    REQUIRE(off + len <= pageSize_, iova, len);
    return mem_[index].data() + off;
  }

 private:
  uint32_t pageSize_;
  uint32_t limit_;
  uint32_t taken_ = 0;
  std::vector<std::vector<uint8_t>> mem_;
};

struct Range {
  uint64_t addr, len;
};

// Appends a range, merging it into the previous one when they are contiguous, so two
// descriptions of the same bytes compare equal however they are cut.
void emit(std::vector<Range>& v, uint64_t addr, uint64_t len) {
  if (len == 0) return;
  if (!v.empty() && v.back().addr + v.back().len == addr && addr != 0) v.back().len += len;
  else v.push_back({addr, len});
}

std::vector<Range> sliceRanges(const PhyrSlice& s) {
  std::vector<Range> v;
  forEachRange(s, [&](uint64_t a, uint64_t l, uint32_t) {
    emit(v, a, l);
    return true;
  });
  return v;
}

void sameBytes(const std::vector<Range>& got, const std::vector<Range>& want) {
  REQUIRE(got.size() == want.size(), got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) {
    REQUIRE(got[i].addr == want[i].addr, got[i].addr, want[i].addr);
    REQUIRE(got[i].len == want[i].len, got[i].len, want[i].len);
  }
}

uint64_t rd64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Reference PRP-ability (prp.h): the first range dword-aligned, every later range starting
// on a memory page boundary, every earlier range ending on one.
bool refPrpable(const PhyrSlice& s, uint32_t page) {
  bool ok = true, first = true;
  uint64_t prevEnd = 0;
  forEachRange(s, [&](uint64_t a, uint64_t l, uint32_t) {
    if (first && (a & 3)) ok = false;
    if (!first && ((a % page) || (prevEnd % page))) ok = false;
    first = false;
    prevEnd = a + l;
    return ok;
  });
  return ok;
}

// List pages a PRP list of `entries` entries takes: each page but the last gives one slot
// to the chain pointer.
uint64_t prpListPages(uint64_t entries, uint64_t slots) {
  if (entries <= 2) return 0;  // PRP2 holds the only later entry
  const uint64_t listed = entries - 1;
  if (listed <= slots) return 1;
  return 1 + (listed - slots + (slots - 1) - 1) / (slots - 1);
}

// Decodes PRP1/PRP2 and the list pages as a controller reads them (§4.3).
std::vector<Range> decodePrp(uint64_t prp1, uint64_t prp2, uint64_t len, uint32_t page, const Pages& pages,
                             uint32_t* listPages) {
  std::vector<Range> out;
  *listPages = 0;
  REQUIRE((prp1 & 3) == 0, prp1);  // PRP1 bits 1:0 reserved
  const uint64_t first = std::min<uint64_t>(len, page - prp1 % page);
  emit(out, prp1, first);
  uint64_t remaining = len - first;
  if (remaining == 0) {
    REQUIRE(prp2 == 0, prp2);  // prp.h: one page, PRP2 = 0
    return out;
  }
  if (remaining <= page) {
    REQUIRE(prp2 % page == 0, prp2);  // a PRP entry past PRP1 has no offset
    emit(out, prp2, remaining);
    return out;
  }
  REQUIRE(prp2 % page == 0, prp2);  // the builder starts every list at a page start
  const uint64_t slots = page / 8;
  const uint8_t* list = pages.at(prp2, page);
  *listPages = 1;
  uint64_t slot = 0;
  while (remaining > 0) {
    const uint64_t entry = rd64(list + 8 * slot);
    if (slot == slots - 1 && remaining > page) {
      // Last slot with more than one entry to go: the next list page (§4.3, PRP List).
      REQUIRE(entry % page == 0, entry);
      REQUIRE(*listPages < pages.taken(), *listPages, pages.taken());
      list = pages.at(entry, page);
      ++*listPages;
      slot = 0;
      continue;
    }
    REQUIRE(entry % page == 0, entry);
    const uint64_t n = std::min<uint64_t>(remaining, page);
    emit(out, entry, n);
    remaining -= n;
    slot++;
  }
  return out;
}

// Checks one buildPrp call against the rules and the slice.
void checkPrp(const PhyrSlice& s, uint32_t page, Pages& pages, bool mustSucceed) {
  uint64_t prp1 = 0x1111, prp2 = 0x2222;
  uint32_t used = 0;
  const DptrError e = buildPrp(s, page, pages, &prp1, &prp2, &used);
  const bool prpable = refPrpable(s, page);
  REQUIRE(isPrpable(s, page) == prpable, prpable);
  if (s.length == 0) {
    REQUIRE(e == DptrError::Empty, static_cast<uint64_t>(e));
    return;
  }
  if (!prpable) {
    REQUIRE(!mustSucceed);
    REQUIRE(e == DptrError::PrpNotDwordAligned || e == DptrError::NotPrpable, static_cast<uint64_t>(e));
    return;
  }
  const uint64_t needed = prpListPages(prpEntryCount(s, page), page / 8);
  if (e == DptrError::NoListPages) {
    REQUIRE(needed > pages.limit(), needed, pages.limit());
    return;
  }
  REQUIRE(e == DptrError::None, static_cast<uint64_t>(e));
  REQUIRE(used == needed, used, needed);
  uint32_t walked = 0;
  sameBytes(decodePrp(prp1, prp2, s.length, page, pages, &walked), sliceRanges(s));
  REQUIRE(walked == used, walked, used);
}

// Decodes SGL1 and its segments as a controller reads them (§4.4) and checks each rule.
std::vector<Range> decodeSgl(uint64_t w0, uint64_t w1, const DptrCaps& caps, SglBuckets b, uint64_t len,
                             const Pages& pages, uint32_t* segPages) {
  std::vector<Range> out;
  SglDesc sgl1;
  std::memcpy(&sgl1, &w0, 8);
  std::memcpy(reinterpret_cast<uint8_t*>(&sgl1) + 8, &w1, 8);
  std::vector<SglDesc> descs{sgl1};
  bool lastSegment = false;   // the current segment was named by a Last Segment descriptor
  bool inSegment = false;     // descs is a segment (not SGL1)
  uint64_t total = 0, index = 0;
  const uint64_t all = uint64_t{b.head} + len + b.tail;
  *segPages = 0;
  const bool dword = caps.sglSupport == SGLS_DWORD_ALIGNED;
  for (;;) {
    bool chained = false;
    for (size_t i = 0; i < descs.size(); i++) {
      const SglDesc d = descs[i];  // a copy: descs is replaced by the next segment below
      const uint32_t type = d.id >> 4, subtype = d.id & 0xF;
      REQUIRE(subtype == SGL_SUBTYPE_ADDRESS, d.id);
      REQUIRE(d.reserved[0] == 0 && d.reserved[1] == 0 && d.reserved[2] == 0);
      if (type == SGL_TYPE_SEGMENT || type == SGL_TYPE_LAST_SEGMENT) {
        REQUIRE(i == descs.size() - 1, i, descs.size());  // only the last descriptor of a segment
        REQUIRE(!lastSegment);                            // the last segment links nowhere
        REQUIRE(d.len != 0 && d.len % SGL_DESC_SIZE == 0 && d.len <= caps.pageSize, d.len);
        REQUIRE(*segPages < pages.taken(), *segPages, pages.taken());
        const uint8_t* seg = pages.at(d.addr, d.len);
        ++*segPages;
        descs.resize(d.len / SGL_DESC_SIZE);
        std::memcpy(descs.data(), seg, d.len);
        lastSegment = type == SGL_TYPE_LAST_SEGMENT;
        inSegment = true;
        chained = true;
        break;
      }
      REQUIRE(d.len != 0, index);
      if (type == SGL_TYPE_BIT_BUCKET) {
        // Only the discarded head (first) and tail (last) bytes.
        const bool head = index == 0 && b.head != 0 && d.len == b.head && total == 0;
        const bool tail = b.tail != 0 && d.len == b.tail && total == uint64_t{b.head} + len;
        REQUIRE(head || tail, d.len, total);
        REQUIRE(caps.bitBucket);
      } else {
        REQUIRE(type == SGL_TYPE_DATA_BLOCK, type);
        REQUIRE(total >= b.head && total + d.len <= uint64_t{b.head} + len, total, d.len);
        if (dword) REQUIRE(((d.addr | d.len) & 3) == 0, d.addr, d.len);  // SGLS = 10b
        emit(out, d.addr, d.len);
      }
      total += d.len;
      index++;
    }
    if (!chained) break;
  }
  // A segment named by a Segment descriptor must link on: the chain ends only with the
  // segment a Last Segment descriptor names (or with SGL1 itself).
  REQUIRE(!inSegment || lastSegment);
  REQUIRE(total == all, total, all);
  return out;
}

void checkSgl(const PhyrSlice& s, const DptrCaps& caps, SglBuckets b, Pages& pages, bool mustSucceed) {
  uint64_t w0 = 0x3333, w1 = 0x4444;
  uint32_t used = 0;
  const DptrError e = buildSgl(s, caps, b, pages, &w0, &w1, &used);
  const bool dword = caps.sglSupport == SGLS_DWORD_ALIGNED;
  // Alignment is a property of the merged Data Blocks (what becomes descriptors); the
  // decoder below checks every descriptor it finds against it.
  const uint64_t blocks = sglDataDescriptorCount(s);
  const bool aligned = sglDwordAligned(s);
  if (caps.sglSupport == 0) {
    REQUIRE(e == DptrError::SglUnsupported, static_cast<uint64_t>(e));
    REQUIRE(!mustSucceed);
    return;
  }
  if (s.length == 0) {
    REQUIRE(e == DptrError::Empty, static_cast<uint64_t>(e));
    return;
  }
  if ((b.head | b.tail) && !caps.bitBucket) {
    REQUIRE(e == DptrError::BitBucketUnsupported, static_cast<uint64_t>(e));
    REQUIRE(!mustSucceed);
    return;
  }
  if (dword && ((((b.head | b.tail) & 3) != 0) || !aligned)) {
    REQUIRE(e == DptrError::SglNotDwordAligned, static_cast<uint64_t>(e));
    REQUIRE(!mustSucceed);
    return;
  }
  const uint64_t descs = blocks + (b.head ? 1 : 0) + (b.tail ? 1 : 0);
  const uint64_t slots = caps.pageSize / SGL_DESC_SIZE;
  uint64_t needed = 0;
  if (descs > 1) needed = descs <= slots ? 1 : 1 + (descs - slots + (slots - 1) - 1) / (slots - 1);
  if (e == DptrError::NoListPages) {
    REQUIRE(needed > pages.limit(), needed, pages.limit());
    return;
  }
  REQUIRE(e == DptrError::None, static_cast<uint64_t>(e));
  REQUIRE(used == needed, used, needed);
  uint32_t walked = 0;
  sameBytes(decodeSgl(w0, w1, caps, b, s.length, pages, &walked), sliceRanges(s));
  REQUIRE(walked == used, walked, used);
}

bool mixesCmb(const PhyrSlice& s) {
  bool any = false, cmb = false, mixed = false;
  forEachRange(s, [&](uint64_t, uint64_t, uint32_t f) {
    const bool c = (f & kPhyr_CMB) != 0;
    if (any && c != cmb) mixed = true;
    any = true;
    cmb = c;
    return !mixed;
  });
  return mixed;
}
bool allCmb(const PhyrSlice& s) {
  bool all = true;
  forEachRange(s, [&](uint64_t, uint64_t, uint32_t f) {
    all = all && (f & kPhyr_CMB) != 0;
    return all;
  });
  return all;
}

// Builds a phyr array: addresses are mostly page-aligned or adjacent to the previous
// entry (where the interesting cuts are), lengths mostly pages or LBA-sized.
std::vector<PhyrEntry> makeEntries(fuzz::Input& in, uint32_t page, uint64_t* total) {
  const uint32_t n = 1 + in.below(40);
  std::vector<PhyrEntry> v;
  *total = 0;
  uint64_t next = 0x10000000;
  for (uint32_t i = 0; i < n && in.left(); i++) {
    PhyrEntry e{};
    const uint8_t shape = in.u8();
    switch (shape & 3) {
      case 0: e.addr = next; break;                                          // contiguous
      case 1: e.addr = (static_cast<uint64_t>(in.u16()) + 1) * page; break;  // page-aligned
      case 2: e.addr = (static_cast<uint64_t>(in.u16()) + 1) * page + (in.u16() & ~3u) % page; break;
      default: e.addr = in.u64(); break;
    }
    switch ((shape >> 2) & 7) {
      case 0: e.len = page * (1 + in.below(8)); break;
      case 1: e.len = 512 * (1 + in.below(64)); break;
      case 2: e.len = 1 + in.u16(); break;
      case 3: e.len = page - static_cast<uint32_t>(e.addr % page); break;  // to the page end
      case 4: e.len = page * (1 + in.below(1024)); break;                  // long PRP lists
      case 5: e.len = 4 * (1 + in.u8()); break;
      case 6: e.len = in.u32(); break;                                     // up to 4 GiB - 1
      default: e.len = 1 + in.u8(); break;
    }
    if (e.len == 0) e.len = 1;  // phyr entries are 1 .. 2^32 - 1 bytes (phyr.h)
    // An entry may end at 2^64 exactly (lib/phyr.ts accepts it), not past it.
    if (e.addr + e.len < e.addr && e.addr + e.len != 0) e.addr = 0x10000000;
    if (shape & 0x20) e.flags |= kPhyr_CMB;
    if ((shape & 0xC0) == 0xC0) e.flags |= kPhyr_PEER_TO_PEER;
    next = e.addr + e.len;
    *total += e.len;
    v.push_back(e);
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  DptrCaps caps;
  const uint8_t c0 = in.u8(), c1 = in.u8();
  caps.pageSize = 4096u << (c0 & 3 ? 0 : 1 + (c0 >> 2 & 1));  // mostly 4 KiB; 8 or 16 KiB
  caps.sglSupport = static_cast<uint8_t>((c0 >> 3) % 3);
  caps.bitBucket = (c0 >> 5) & 1;
  caps.preferSgl = (c0 >> 6) & 1;
  const uint32_t lbaSize = (c0 >> 7) ? 4096 : 512;
  switch (c1 & 3) {
    case 0: caps.maxTransfer = 0; break;
    case 1: caps.maxTransfer = 4096ull << ((c1 >> 2) & 15); break;  // MDTS in 4 KiB pages
    case 2: caps.maxTransfer = 1 + in.u32() % (8u << 20); break;     // an odd limit
    default: caps.maxTransfer = caps.pageSize * (1ull + ((c1 >> 2) & 63)); break;
  }
  if (c1 & 0x40) caps.sglThreshold = in.u32() % (1u << 20);
  const bool admin = (c1 >> 7) != 0 && (in.u8() & 3) == 0;
  SglBuckets buckets;
  if ((in.u8() & 7) == 0) {
    buckets.head = in.u16() % 4096;
    buckets.tail = in.u16() % 4096;
  }
  const uint32_t pageLimit = 1 + in.below(8);

  uint64_t total = 0;
  std::vector<PhyrEntry> entries = makeEntries(in, caps.pageSize, &total);
  if (entries.empty()) return 0;
  const uint32_t count = static_cast<uint32_t>(entries.size());
  Pages pages(caps.pageSize, pageLimit);
  static const bool verbose = std::getenv("PHYR_FUZZ_VERBOSE") != nullptr;  // to read a finding
  if (verbose) {
    std::fprintf(stderr, "caps: page %u sgl %u bucket %d prefer %d mdts %llu threshold %u; lba %u admin %d head %u tail %u pages %u\n",
                 caps.pageSize, caps.sglSupport, caps.bitBucket, caps.preferSgl,
                 static_cast<unsigned long long>(caps.maxTransfer), caps.sglThreshold, lbaSize, admin, buckets.head,
                 buckets.tail, pageLimit);
    for (const PhyrEntry& e : entries)
      std::fprintf(stderr, "  entry addr 0x%llx len 0x%x flags 0x%x\n", static_cast<unsigned long long>(e.addr), e.len, e.flags);
  }

  // 1. The builders on an arbitrary slice of the array.
  {
    const uint64_t off = in.flag() ? in.u64() % total : 0;
    const uint64_t len = in.flag() ? in.u64() % (total - off + 1) : total - off;
    const PhyrSlice s{entries.data(), count, off, len};
    checkPrp(s, caps.pageSize, pages, false);
    pages.reset(pageLimit);
    checkSgl(s, caps, buckets, pages, false);
    pages.reset(pageLimit);
  }

  // 2. The policy, as QueuePair::submit uses it: the transfer is a whole number of LBAs
  //    (plus the discarded bucket bytes), MDTS capped by NLB's 16 bits.
  uint64_t length = total - total % lbaSize;
  if (length == 0) return 0;
  DptrCaps limited = caps;
  const uint64_t nlbLimit = 65536ull * lbaSize;
  if (limited.maxTransfer == 0 || limited.maxTransfer > nlbLimit) limited.maxTransfer = nlbLimit;
  // Bound the work: every child below is built and decoded (O(its memory pages)).
  length = std::min<uint64_t>(length, 4096 * (limited.maxTransfer - limited.maxTransfer % lbaSize + lbaSize));
  // CMB data without SGL splits into children of at most two memory pages each.
  bool anyCmb = false;
  for (const PhyrEntry& e : entries) anyCmb = anyCmb || (e.flags & kPhyr_CMB) != 0;
  if (anyCmb) length = std::min<uint64_t>(length, 1024ull * caps.pageSize);
  length -= length % lbaSize;
  DptrRequest req;
  req.data = PhyrSlice{entries.data(), count, 0, length};
  req.lbaSize = lbaSize;
  req.admin = admin;
  if (buckets.head + buckets.tail < length) {
    req.buckets = buckets;
    req.data.length = length - buckets.head - buckets.tail;
  }
  const DptrDecision d = decide(req, limited);
  if (verbose)
    std::fprintf(stderr, "decision: %s %s, %u children, data 0x%llx\n", dptrFormatName(d.format), dptrReasonName(d.reason),
                 d.children, static_cast<unsigned long long>(req.data.length));
  if (d.format == DptrFormat::Bounce || d.format == DptrFormat::Reject) {
    REQUIRE(d.children == 0, d.children);
    return 0;
  }
  REQUIRE(d.children >= 1, d.children);
  REQUIRE((d.format == DptrFormat::Split) == (d.children > 1), static_cast<uint64_t>(d.format), d.children);
  if (req.buckets.head | req.buckets.tail) {
    REQUIRE(d.children == 1 && d.format == DptrFormat::Sgl, d.children);
  }
  uint64_t pos = 0;
  for (uint32_t n = 0; n < d.children; n++) {
    REQUIRE(pos < req.data.length, pos, n);
    const DptrChild c = nextChild(req, limited, pos);
    if (verbose)
      std::fprintf(stderr, "  child %u: offset 0x%llx length 0x%llx %s %s\n", n, static_cast<unsigned long long>(c.offset),
                   static_cast<unsigned long long>(c.length), dptrFormatName(c.format), dptrReasonName(c.reason));
    REQUIRE(c.offset == pos, c.offset, pos);
    REQUIRE(c.length > 0 && c.length <= req.data.length - pos, c.length, pos);
    REQUIRE(c.format == DptrFormat::Prp || c.format == DptrFormat::Sgl, static_cast<uint64_t>(c.format));
    REQUIRE(c.length <= limited.maxTransfer, c.length, limited.maxTransfer);
    if (d.children > 1) {
      // QueuePair::submit encodes each child's SLBA and NLB from pos / length.
      REQUIRE(pos % lbaSize == 0 && c.length % lbaSize == 0, pos, c.length);
      REQUIRE(c.length / lbaSize <= 65536, c.length);
    }
    const PhyrSlice s{entries.data(), count, pos, c.length};
    REQUIRE(!mixesCmb(s), pos, c.length);  // Invalid Use of Controller Memory Buffer
    if (admin) REQUIRE(c.format == DptrFormat::Prp);  // admin commands use PRP (§4.2)
    pos += c.length;
    // Building and decoding every child of a multi-GiB split costs seconds per input:
    // the first and last children carry the edge cases (the cut rules are checked above
    // for all of them).
    if (n >= 24 && n + 8 < d.children) continue;
    pages.reset(pageLimit);
    if (c.format == DptrFormat::Prp) {
      checkPrp(s, caps.pageSize, pages, true);
    } else {
      REQUIRE(caps.sglSupport != 0);
      checkSgl(s, caps, req.buckets, pages, true);
    }
    // Data in the CMB takes no list page or segment (host memory would mix in).
    if (allCmb(s) && !admin) REQUIRE(pages.taken() == 0, c.offset, pages.taken());
  }
  REQUIRE(pos == req.data.length, pos, req.data.length);
  return 0;
}
