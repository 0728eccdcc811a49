// Fuzz target: the embedded controller (emu/native) fed arbitrary submission queue entries,
// PRP lists and SGL segments through its IOMMU.
//
// Each input brings up a fresh controller in-process (no device thread: the harness calls
// pollOnce(), so a run is deterministic), maps a few host regions with different rights,
// and lets the input choose up to 8 commands: queue, opcode, flags and PSDT, NSID, command
// dwords, data pointers, and the contents of the pages the data pointers lead to. After
// each doorbell the harness polls a bounded number of times and checks:
//  - the completion arrives (none arriving is a hang), for the right CID, SQ and SQ head;
//  - its status is one the specification defines (NVMe 1.4 §4.6.1.2), and a command the
//    IOMMU faulted on completes with Data Transfer Error;
//  - no access outside the mappings: the host regions are separate heap blocks, so
//    AddressSanitizer sees any byte touched past a mapping; the read-only region is never
//    written; the queues are written only where the completion goes;
//  - the controller stays healthy: no Controller Fatal Status, and a clean Identify and
//    Read still succeed at the end.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "emu/native/controller.h"
#define PHYR_FUZZ_TARGET "emu fuzz"
#include "fuzz_input.h"
#include "spec/nvme.h"

using namespace phyr;
using namespace phyr::nvme;
using phyr::fuzz::fail;

namespace {

constexpr uint64_t kPage = 4096;
// Device addresses. The data region D is followed directly by the read-only region R (two
// adjacent mappings), then an unmapped page, a write-only region W and an odd-sized region
// O that ends inside a page. The queues live far away in Q.
constexpr uint64_t kD = 0x200000, kDLen = 16 * kPage;
constexpr uint64_t kR = kD + kDLen, kRLen = 2 * kPage;
constexpr uint64_t kHole = kR + kRLen;
constexpr uint64_t kW = kHole + kPage, kWLen = 2 * kPage;
constexpr uint64_t kO = kW + kWLen, kOLen = 1000;
constexpr uint64_t kQ = 0x7F0000000000ull, kQLen = 4 * kPage;  // admin SQ, admin CQ, IO SQ, IO CQ
// The controller memory buffer, when the input enables it: the device's own memory at a
// bus address the harness picks (CMBMSC.CBA), reached without the IOMMU.
constexpr uint64_t kCmb = 0x400000, kCmbLen = 2 * kPage;
constexpr uint32_t kAdminEntries = 16, kIoEntries = 16;

bool inQueues(uint64_t a) { return a - kQ < kQLen; }

struct Region {
  uint64_t iova;
  uint64_t len;
  bool read, write;
  uint8_t* host = nullptr;
};

// An address chosen by the input: mostly inside or at the edges of a mapping.
uint64_t pickAddress(fuzz::Input& in) {
  const uint8_t sel = in.u8();
  const uint32_t align = (sel >> 3) & 3;
  auto aligned = [&](uint64_t a) -> uint64_t {
    switch (align) {
      case 0: return a & ~(kPage - 1);
      case 1: return a & ~3ull;
      case 2: return a & ~7ull;
      default: return a;
    }
  };
  uint64_t a;
  switch (sel & 7) {
    case 0:
    case 1:
    case 2: a = kD + aligned(in.u16() % (kDLen + 512)); break;  // may run into R
    case 3: a = kR + aligned(in.u16() % (kRLen + 256)); break;
    case 4: a = kW + aligned(in.u16() % (kWLen + 256)); break;
    case 5:
      if (sel & 0x80) a = kCmb + aligned(in.u16() % (kCmbLen + 256));
      else a = kO + aligned(in.u16() % (kOLen + 100));
      break;
    case 6: {
      static const uint64_t edges[] = {kHole, 0, kD - 8, kD - kPage, ~0ull - 7, kQ, kO + kOLen - 4, kW - 4};
      a = edges[(sel >> 5) % 8];
      break;
    }
    default: a = in.u64(); break;
  }
  // The harness's own queues are not the input's to overwrite (a driver's bug, not the
  // device's): move such an address off the mapping.
  return inQueues(a) ? a ^ (1ull << 40) : a;
}

// A status the specification defines (NVMe 1.4 §4.6.1.2): generic 00h-1Fh and 80h-84h,
// command specific 00h-22h and the NVM command set's 80h-82h, media and data integrity
// 80h-87h (Compare Failure is 85h there). No path, vendor or reserved type.
bool legalStatus(uint16_t st) {
  const uint8_t sc = st & 0xFF, sct = (st >> 8) & 7;
  if (st & 0x1800) return false;  // CRD: this controller advertises no retry delay times
  if (sct == SCT_GENERIC) return sc <= 0x1F || (sc >= 0x80 && sc <= 0x84);
  if (sct == SCT_COMMAND_SPECIFIC) return sc <= 0x22 || (sc >= 0x80 && sc <= 0x82);
  if (sct == SCT_MEDIA) return sc >= 0x80 && sc <= 0x87;
  return false;
}

class Harness {
 public:
  Harness(const emu::EmuConfig& cfg) {
    std::string err;
    ctrl_ = emu::Controller::create(cfg, nullptr, &err);
    if (!ctrl_) fail(("create: " + err).c_str());
    bar_ = ctrl_->barMemory(0).get();
    regions_ = {{kD, kDLen, true, true}, {kR, kRLen, true, false}, {kW, kWLen, false, true},
                {kO, kOLen, true, true}, {kQ, kQLen, true, true}};
    for (Region& r : regions_) {
      // Exact-size heap blocks: a device access past a mapping's end is an ASan error.
      r.host = static_cast<uint8_t*>(r.len % kPage ? std::malloc(r.len) : std::aligned_alloc(kPage, r.len));
      std::memset(r.host, 0, r.len);
      const std::string e = ctrl_->iommu().map(r.iova, r.host, r.len, r.read, r.write);
      if (!e.empty()) fail(("map: " + e).c_str(), r.iova);
    }
    for (uint64_t i = 0; i < kRLen; i++) region(kR).host[i] = static_cast<uint8_t>(i * 7 + 3);
  }
  ~Harness() {
    ctrl_->stop();
    ctrl_.reset();
    for (Region& r : regions_) std::free(r.host);
  }

  Region& region(uint64_t iova) {
    for (Region& r : regions_)
      if (r.iova == iova) return r;
    fail("no region", iova);
  }
  uint8_t* q(int index) { return region(kQ).host + kPage * index; }

  uint32_t read32(uint32_t off) { return __atomic_load_n(reinterpret_cast<uint32_t*>(bar_ + off), __ATOMIC_ACQUIRE); }
  void write32(uint32_t off, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(bar_ + off), v, __ATOMIC_RELEASE); }
  void write64(uint32_t off, uint64_t v) { __atomic_store_n(reinterpret_cast<uint64_t*>(bar_ + off), v, __ATOMIC_RELEASE); }

  void bringUp(bool cmb) {
    if (cmb) {
      // CMBMSC: Capabilities Registers Enabled, Memory Space Enabled, CBA (NVMe 1.4 §3.1.15).
      write64(REG_CMBMSC, kCmb | CMBMSC_CRE | CMBMSC_CMSE);
      ctrl_->pollOnce();
      cmb_ = ctrl_->barMemory(2).get();
      REQUIRE(cmb_ != nullptr);
    }
    write32(REG_AQA, (kAdminEntries - 1) | (kAdminEntries - 1) << AQA_ACQS_SHIFT);
    write64(REG_ASQ, kQ);
    write64(REG_ACQ, kQ + kPage);
    ctrl_->configWrite(0x04, 2, 0x6);  // memory space + bus master
    write32(REG_CC, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT);
    for (int i = 0; i < 100 && !(read32(REG_CSTS) & CSTS_RDY); i++) ctrl_->pollOnce();
    REQUIRE(read32(REG_CSTS) & CSTS_RDY, read32(REG_CSTS));
    Sqe c{};
    c.cdw0 = ADMIN_CREATE_CQ;
    c.dptr1 = kQ + 3 * kPage;
    c.cdw10 = 1 | (kIoEntries - 1) << 16;
    c.cdw11 = 1;
    REQUIRE(run(0, c) == 0);
    Sqe s{};
    s.cdw0 = ADMIN_CREATE_SQ;
    s.dptr1 = kQ + 2 * kPage;
    s.cdw10 = 1 | (kIoEntries - 1) << 16;
    s.cdw11 = 1 | 1u << 16;
    REQUIRE(run(0, s) == 0);
  }

  uint16_t run(uint16_t qid, const Sqe& sqe) {
    uint16_t st;
    runBatch(qid, &sqe, 1, &st);
    return st;
  }

  // Writes `n` commands to queue `qid` (0 admin, 1 IO), rings the tail doorbell once,
  // waits a bounded number of device passes for every completion, checks them, and stores
  // the 15-bit statuses in submission order.
  void runBatch(uint16_t qid, const Sqe* cmds, uint32_t n, uint16_t* statuses) {
    Queue& qu = queues_[qid];
    uint8_t* sq = q(qid == 0 ? 0 : 2);
    uint8_t* cq = q(qid == 0 ? 1 : 3);
    uint16_t cids[8];
    for (uint32_t i = 0; i < n; i++) {
      Sqe sqe = cmds[i];
      cids[i] = qu.nextCid++;
      sqe.cdw0 = (sqe.cdw0 & 0xFFFF) | static_cast<uint32_t>(cids[i]) << 16;
      std::memcpy(sq + SQE_SIZE * qu.tail, &sqe, sizeof sqe);
      qu.tail = (qu.tail + 1) % qu.size;
    }
    // What the queues hold now: the device may change only the completion slots.
    std::memcpy(qBefore_, region(kQ).host, kQLen);
    std::memcpy(rBefore_, region(kR).host, kRLen);
    write32(static_cast<uint32_t>(REG_DOORBELLS + 8 * qid), qu.tail);
    const uint8_t* qNow = region(kQ).host;
    for (uint32_t k = 0; k < n; k++) {
      auto* e = reinterpret_cast<Cqe*>(cq + CQE_SIZE * qu.head);
      bool arrived = false;
      for (int i = 0; i < 64 && !arrived; i++) {
        arrived = ((__atomic_load_n(&e->dw3, __ATOMIC_ACQUIRE) >> CQE_PHASE_BIT) & 1) == qu.phase;
        if (!arrived) ctrl_->pollOnce();
      }
      if (!arrived) fail("no completion within 64 device passes (a hang)", cmds[k].cdw0 & 0xFF, qid);
      const Cqe c = *e;
      // Completions may come in any order (§4.6): find the command by its CID.
      uint32_t which = n;
      for (uint32_t i = 0; i < n; i++)
        if (cids[i] == (c.dw3 & 0xFFFF)) which = i;
      REQUIRE(which < n, c.dw3, n);
      cids[which] = 0xFFFF ^ cids[which] ^ 0x5A5A;  // each CID completes once
      REQUIRE(c.sqId == qid, c.sqId, qid);
      const uint16_t st = static_cast<uint16_t>(c.dw3 >> CQE_SC_SHIFT);
      REQUIRE(legalStatus(st), st, cmds[which].cdw0 & 0xFF);
      statuses[which] = st;
      const uint64_t slot = (cq - qNow) + CQE_SIZE * qu.head;
      qu.head = (qu.head + 1) % qu.size;
      if (qu.head == 0) qu.phase = !qu.phase;
      write32(static_cast<uint32_t>(REG_DOORBELLS + 8 * qid + 4), qu.head);
      written_.push_back(slot);
    }
    // Only the completion slots changed in the queue region.
    for (uint64_t slot : written_) std::memcpy(qBefore_ + slot, qNow + slot, CQE_SIZE);
    written_.clear();
    if (std::memcmp(qNow, qBefore_, kQLen) != 0) fail("the device wrote a queue byte outside its completion slots", qid);
    REQUIRE(std::memcmp(rBefore_, region(kR).host, kRLen) == 0);  // read-only mapping
    REQUIRE(!(read32(REG_CSTS) & CSTS_CFS), read32(REG_CSTS));
  }

  // Moves every byte sequence in the input-reachable regions that reads as a queue address
  // off the queues (segments may start at any byte, so every offset is checked).
  void sanitize() {
    for (uint64_t base : {kD, kR, kO, kCmb}) {
      if (base == kCmb && !cmb_) continue;
      Region cmbRegion{kCmb, kCmbLen, true, true, cmb_};
      Region& r = base == kCmb ? cmbRegion : region(base);
      // Byte 5 of every queue address is 0x7F (kQ): look only where that byte is, and
      // change it; the change cannot make another queue address (0x7E is not 0x7F).
      uint8_t* p = r.host + 5;
      uint8_t* const end = r.host + r.len - 2;  // byte 5 of the last qword
      while (p < end && (p = static_cast<uint8_t*>(std::memchr(p, 0x7F, end - p))) != nullptr) {
        uint64_t v;
        std::memcpy(&v, p - 5, 8);
        if (inQueues(v)) *p = 0x7E;
        p++;
      }
    }
  }

  emu::Controller& ctrl() { return *ctrl_; }

  // The host byte a device address reaches with the given right (the CMB needs none), or
  // nullptr: the harness's own reading of its mappings, independent of the IOMMU code.
  uint8_t* byteAt(uint64_t iova, bool write) {
    if (cmb_ && iova - kCmb < kCmbLen) return cmb_ + (iova - kCmb);
    for (Region& r : regions_) {
      if (r.iova == kQ || iova - r.iova >= r.len) continue;
      return (write ? r.write : r.read) ? r.host + (iova - r.iova) : nullptr;
    }
    return nullptr;
  }
  bool isCmb(uint64_t iova) const { return cmb_ && iova - kCmb < kCmbLen; }
  // Calls f(host, n) for the consecutive host pieces of [iova, iova + len); false when a
  // byte of it is unreachable with that right.
  template <typename F>
  bool span(uint64_t iova, uint64_t len, bool write, F&& f) {
    while (len) {
      uint8_t* p = byteAt(iova, write);
      if (!p) return false;
      uint64_t end = 0;
      if (isCmb(iova)) end = kCmb + kCmbLen;
      for (const Region& r : regions_)
        if (r.iova != kQ && iova - r.iova < r.len) end = r.iova + r.len;
      const uint64_t n = std::min(len, end - iova);
      f(p, n);
      iova += n;
      len -= n;
    }
    return true;
  }

 private:
  struct Queue {
    uint32_t size, tail = 0, head = 0;
    bool phase = true;
    uint16_t nextCid = 0;
  };
  std::unique_ptr<emu::Controller> ctrl_;
  uint8_t* bar_ = nullptr;
  uint8_t* cmb_ = nullptr;
  uint8_t qBefore_[kQLen];
  uint8_t rBefore_[kRLen];
  std::vector<uint64_t> written_;
  std::vector<Region> regions_;
  Queue queues_[2] = {{kAdminEntries}, {kIoEntries}};
};

// Fills part of a data page the way a list page or a segment would look, or with raw bytes.
void fillPage(fuzz::Input& in, Harness& h) {
  const uint8_t m = in.u8();
  uint8_t* page = h.region(kD).host + kPage * (m >> 4);
  const uint32_t start = in.u16() % kPage;
  const uint32_t count = 1 + in.below(24);
  switch (m & 3) {
    case 0:  // PRP list entries
      for (uint32_t i = 0, at = start & ~7u; i < count && at + 8 <= kPage; i++, at += 8) {
        const uint64_t a = pickAddress(in);
        std::memcpy(page + at, &a, 8);
      }
      break;
    case 1:  // SGL descriptors
      for (uint32_t i = 0, at = start & ~15u; i < count && at + 16 <= kPage; i++, at += 16) {
        SglDesc d{};
        d.addr = pickAddress(in);
        const uint8_t lk = in.u8();
        d.len = (lk & 3) == 0 ? in.u32() : (lk & 3) == 1 ? in.u16() : (lk & 3) == 2 ? 512u * (lk >> 2) : 16u * (lk >> 2);
        static const uint8_t types[] = {0x0, 0x0, 0x1, 0x2, 0x3, 0x3, 0x4, 0x5, 0xF};
        const uint8_t t = in.u8();
        d.id = static_cast<uint8_t>(types[t % 9] << 4 | ((t & 0xF0) == 0xF0 ? t & 0xF : 0));
        std::memcpy(page + at, &d, 16);
      }
      break;
    default: {  // raw bytes
      const uint32_t n = std::min<uint32_t>(count * 16, kPage - start);
      in.bytes(page + start, n);
      break;
    }
  }
}

Sqe makeCommand(fuzz::Input& in, bool admin, uint32_t lbaBytes, uint64_t nsBlocks) {
  Sqe s{};
  static const uint8_t ioOps[] = {IO_READ, IO_READ, IO_WRITE, IO_WRITE, IO_COMPARE, IO_DATASET_MANAGEMENT,
                                  IO_WRITE_ZEROES, IO_FLUSH, IO_VERIFY, IO_WRITE_UNCORRECTABLE};
  static const uint8_t adminOps[] = {ADMIN_IDENTIFY, ADMIN_IDENTIFY, ADMIN_GET_LOG_PAGE, ADMIN_GET_LOG_PAGE,
                                     ADMIN_GET_FEATURES, ADMIN_SET_FEATURES, ADMIN_ABORT, ADMIN_FORMAT_NVM,
                                     ADMIN_CREATE_CQ, ADMIN_CREATE_SQ, ADMIN_DELETE_SQ, ADMIN_DELETE_CQ};
  const uint8_t op = in.u8();
  uint8_t opcode;
  if (op >= 0xF0) {
    opcode = in.u8();  // any opcode
  } else {
    opcode = admin ? adminOps[op % sizeof adminOps] : ioOps[op % sizeof ioOps];
  }
  // An Asynchronous Event Request completes only on an event: it has no completion to wait for.
  if (admin && opcode == ADMIN_ASYNC_EVENT_REQUEST) opcode = ADMIN_GET_FEATURES;
  const uint8_t flags = in.u8();
  const uint32_t fuse = (flags & 0x1C) == 0x1C ? flags & 3 : 0;
  const uint32_t psdt = (flags >> 5) & 3;  // 11b is reserved: the device must refuse it
  s.cdw0 = opcode | fuse << 8 | psdt << PSDT_SHIFT;
  const uint8_t ns = in.u8();
  static const uint32_t nsids[] = {1, 1, 1, 1, 2, 0, 0xFFFFFFFFu, 3};
  s.nsid = ns >= 0xF8 ? in.u32() : nsids[ns % 8];
  // LBA range: small, near the end, or anything.
  const uint8_t lk = in.u8();
  uint64_t slba;
  switch (lk & 3) {
    case 0: slba = in.u8(); break;
    case 1: slba = nsBlocks - 1 - in.u8() % nsBlocks; break;
    case 2: slba = nsBlocks - in.u8() % 4; break;
    default: slba = in.u64(); break;
  }
  const uint32_t nlb = (lk & 0xC) == 0xC ? in.u16() : in.u8() % 40;
  s.cdw10 = static_cast<uint32_t>(slba);
  s.cdw11 = static_cast<uint32_t>(slba >> 32);
  s.cdw12 = nlb | (lk & 0x10 ? 1u << 25 : 0) | (lk & 0x20 ? 1u << 30 : 0);  // DEAC, FUA
  if (lk & 0x40) {  // raw command dwords
    s.cdw10 = in.u32();
    s.cdw11 = in.u32();
    s.cdw12 = in.u32();
  }
  s.cdw13 = (lk & 0x80) ? in.u32() : 0;
  s.cdw14 = 0;
  s.cdw15 = 0;
  if (admin) {
    // The harness owns queue 1: queue commands name queue 2 (valid) or 3, 4 (not).
    if (opcode == ADMIN_CREATE_CQ || opcode == ADMIN_CREATE_SQ || opcode == ADMIN_DELETE_SQ || opcode == ADMIN_DELETE_CQ) {
      const uint32_t qid = 2 + in.u8() % 3;
      s.cdw10 = (s.cdw10 & 0xFFFF0000u) | qid;
      if (opcode == ADMIN_CREATE_SQ) s.cdw11 = (s.cdw11 & 0xFFFF) | (1u + in.u8() % 3) << 16;  // CQ 1, 2 or 3
    }
    if (opcode == ADMIN_FORMAT_NVM && (s.cdw10 & 0xF) > 1 && (in.u8() & 1)) s.cdw10 &= ~0xFu;
  }
  (void)lbaBytes;
  if (psdt == PSDT_PRP) {
    s.dptr1 = pickAddress(in);
    s.dptr2 = pickAddress(in);
  } else {
    SglDesc d{};
    d.addr = pickAddress(in);
    const uint8_t k = in.u8();
    d.len = (k & 3) == 0 ? (nlb + 1) * lbaBytes : (k & 3) == 1 ? 16u * (1 + (k >> 2)) : (k & 3) == 2 ? in.u16() : in.u32();
    static const uint8_t types[] = {0x0, 0x0, 0x2, 0x3, 0x3, 0x1, 0x4, 0xF};
    const uint8_t t = in.u8();
    d.id = static_cast<uint8_t>(types[t % 8] << 4 | ((t & 0xF0) == 0xF0 ? t & 0xF : 0));
    std::memcpy(&s.dptr1, &d, 16);
  }
  return s;
}

// A data pointer as the specification reads it: the pieces of host memory, in order, that
// `len` bytes go to or come from (addr ~0 = an SGL Bit Bucket), or false when the data
// pointer breaks a rule or reaches memory it may not. Written from NVMe 1.4 §4.3 and §4.4,
// not from the device's code, so the two can disagree.
struct Piece {
  uint64_t addr, len;
};
constexpr uint64_t kBucket = ~0ull;

class Reference {
 public:
  Reference(Harness& h, bool deviceWrites, emu::SglSupport sgl) : h_(h), deviceWrites_(deviceWrites), sgl_(sgl) {}
  std::vector<Piece> pieces;

  bool walk(const Sqe& s, uint64_t len) {
    const uint32_t psdt = (s.cdw0 >> PSDT_SHIFT) & 3;
    if (psdt == PSDT_PRP) return prp(s.dptr1, s.dptr2, len) && noCmbMix();
    if (psdt == 3 || sgl_ == emu::SglSupport::Off) return false;
    SglDesc d;
    std::memcpy(&d, &s.dptr1, 16);
    return sgl(d, len) && noCmbMix();
  }

 private:
  bool data(uint64_t addr, uint64_t len) {
    touched_.push_back(addr);
    if (!h_.span(addr, len, deviceWrites_, [](uint8_t*, uint64_t) {})) return false;
    if (len) pieces.push_back({addr, len});
    return true;
  }
  bool readQword(uint64_t addr, uint64_t* v) {
    touched_.push_back(addr);
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
      const uint8_t* p = h_.byteAt(addr + i, false);
      if (!p) return false;
      b[i] = *p;
    }
    std::memcpy(v, b, 8);
    return true;
  }
  // §4.3: PRP1 dword-aligned with any offset; then PRP2 as a page, or as a qword-aligned
  // pointer to a list of page-aligned entries whose last slot chains to the next list.
  bool prp(uint64_t prp1, uint64_t prp2, uint64_t len) {
    if (prp1 & 3) return false;
    const uint64_t first = std::min<uint64_t>(len, kPage - prp1 % kPage);
    if (!data(prp1, first)) return false;
    uint64_t left = len - first;
    if (left == 0) return true;
    if (left <= kPage) return prp2 % kPage == 0 && data(prp2, left);
    if (prp2 & 7) return false;
    uint64_t at = prp2;
    while (left) {
      uint64_t e;
      if (!readQword(at, &e)) return false;
      if ((at + 8) % kPage == 0 && left > kPage) {  // the last slot of a list page
        if (e % kPage) return false;
        at = e;
        continue;
      }
      if (e % kPage) return false;
      const uint64_t n = std::min<uint64_t>(left, kPage);
      if (!data(e, n)) return false;
      left -= n;
      at += 8;
    }
    return true;
  }
  // §4.4: Data Block and Bit Bucket descriptors carry the transfer; a Segment or Last
  // Segment descriptor is the last of its segment and names the next one (length a
  // non-zero multiple of 16); a Last Segment's segment names no further segment.
  bool sgl(SglDesc first, uint64_t len) {
    const bool dword = sgl_ == emu::SglSupport::DwordAligned;
    std::vector<SglDesc> descs{first};
    bool last = false;
    uint64_t left = len;
    for (int segments = 0; segments < 4096; segments++) {
      bool chained = false;
      for (size_t i = 0; i < descs.size(); i++) {
        const SglDesc d = descs[i];
        const uint32_t type = d.id >> 4, sub = d.id & 0xF;
        if (sub != SGL_SUBTYPE_ADDRESS) return false;
        if (type == SGL_TYPE_DATA_BLOCK || type == SGL_TYPE_BIT_BUCKET) {
          if (dword && (d.len % 4 || (type == SGL_TYPE_DATA_BLOCK && d.addr % 4))) return false;
          if (d.len > left) return false;
          if (type == SGL_TYPE_BIT_BUCKET) {
            if (!deviceWrites_) return false;  // a bucket only discards read data
            if (d.len) pieces.push_back({kBucket, d.len});
          } else if (!data(d.addr, d.len)) {
            return false;
          }
          left -= d.len;
          continue;
        }
        if (type != SGL_TYPE_SEGMENT && type != SGL_TYPE_LAST_SEGMENT) return false;
        if (i != descs.size() - 1 || last || d.len == 0 || d.len % 16) return false;
        touched_.push_back(d.addr);
        // Reachable first: a length from the input may be gigabytes (nothing maps that much).
        if (!h_.span(d.addr, d.len, false, [](uint8_t*, uint64_t) {})) return false;
        std::vector<SglDesc> next(d.len / 16);
        uint8_t* to = reinterpret_cast<uint8_t*>(next.data());
        if (!h_.span(d.addr, d.len, false, [&](uint8_t* p, uint64_t n) {
              std::memcpy(to, p, n);
              to += n;
            }))
          return false;
        descs = std::move(next);
        last = type == SGL_TYPE_LAST_SEGMENT;
        chained = true;
        break;
      }
      if (!chained) return left == 0;
    }
    return false;
  }
  // Every address of one data pointer in the CMB, or none (Invalid Use of CMB, 12h).
  bool noCmbMix() const {
    for (uint64_t a : touched_)
      if (h_.isCmb(a) != h_.isCmb(touched_.front())) return false;
    return true;
  }

  Harness& h_;
  bool deviceWrites_;
  emu::SglSupport sgl_;
  std::vector<uint64_t> touched_;
};

// The namespaces' contents as the commands so far should have left them (ram backend).
struct Shadow {
  std::vector<uint8_t> bytes;
  uint64_t nsBytes = 0;
  uint8_t* at(uint32_t nsid, uint64_t off) { return bytes.data() + (nsid - 1) * nsBytes + off; }
};

// What the reference says about one IO command before it runs: its pieces (read before
// the device can overwrite its own lists) and, for a Write or Compare, the bytes it sends.
struct Expectation {
  bool applies = false;  // a Read, Write or Compare of at most a namespace
  bool valid = false;    // the data pointer obeys the rules and reaches allowed memory
  bool overlapping = false;  // two pieces share host bytes (a Read's result is then order-dependent)
  std::vector<Piece> pieces;
  std::vector<uint8_t> sent;
};

Expectation expect(Harness& h, const Sqe& s, uint32_t lbads, uint64_t nsBytes, emu::SglSupport sgl) {
  Expectation x;
  const uint8_t op = s.cdw0 & 0xFF;
  const uint64_t len = ((s.cdw12 & 0xFFFF) + 1ull) << lbads;
  if ((op != IO_READ && op != IO_WRITE && op != IO_COMPARE) || len > nsBytes) return x;
  x.applies = true;
  Reference ref(h, op == IO_READ, sgl);
  x.valid = ref.walk(s, len);
  x.pieces = ref.pieces;
  if (!x.valid) return x;
  for (size_t i = 0; i < x.pieces.size(); i++) {
    for (size_t j = 0; j < i; j++) {
      const Piece &a = x.pieces[i], &b = x.pieces[j];
      if (a.addr != kBucket && b.addr != kBucket && a.addr < b.addr + b.len && b.addr < a.addr + a.len) x.overlapping = true;
    }
  }
  if (op != IO_READ) {
    for (const Piece& p : x.pieces)
      h.span(p.addr, p.len, false, [&](uint8_t* q, uint64_t n) { x.sent.insert(x.sent.end(), q, q + n); });
  }
  return x;
}

// Checks one completed IO command against the reference and the shadow, and updates the
// shadow. False when the shadow can no longer be trusted.
bool dataOracle(Harness& h, Shadow& sh, const Sqe& s, uint16_t st, uint32_t lbads, bool nullBackend, const Expectation& x) {
  const uint8_t op = s.cdw0 & 0xFF;
  const uint64_t slba = s.cdw10 | static_cast<uint64_t>(s.cdw11) << 32;
  const uint64_t len = ((s.cdw12 & 0xFFFF) + 1ull) << lbads;
  const bool compareFailed = op == IO_COMPARE && st == makeStatus(SCT_MEDIA, SC_COMPARE_FAILURE, true);
  if (st != 0 && !compareFailed) return true;
  if (op == IO_WRITE_ZEROES) {
    std::memset(sh.at(s.nsid, slba << lbads), 0, len);
    return true;
  }
  if (!x.applies) return op != IO_DATASET_MANAGEMENT;  // a deallocation: not modelled
  if (!x.valid) fail("a command completed successfully with a data pointer the specification refuses", s.dptr1, s.dptr2);
  uint64_t total = 0;
  for (const Piece& p : x.pieces) total += p.len;
  REQUIRE(total == len, total, len);
  uint8_t* medium = sh.at(s.nsid, slba << lbads);
  if (op == IO_READ && !x.overlapping) {
    uint64_t off = 0;
    for (const Piece& p : x.pieces) {
      uint64_t at = off;
      if (p.addr != kBucket) {
        h.span(p.addr, p.len, true, [&](uint8_t* q, uint64_t n) {
          if (std::memcmp(q, medium + at, n) != 0)
            fail("a successful Read delivered other bytes than the namespace holds", p.addr, (slba << lbads) + at);
          at += n;
        });
      }
      off += p.len;
    }
  }
  if (op == IO_WRITE && !nullBackend) std::memcpy(medium, x.sent.data(), len);
  if (op == IO_COMPARE) {
    const bool same = std::memcmp(medium, x.sent.data(), len) == 0;
    if (same != (st == 0)) fail("Compare answered against the data", st, same);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t c0 = in.u8(), c1 = in.u8();
  emu::EmuConfig cfg;
  cfg.backend = (c0 & 0x80) ? "null" : "ram";
  cfg.lbads = (c0 & 1) ? 12 : 9;
  cfg.mdts = (c0 >> 1) % 5;  // 0 = no limit, else 2^mdts pages
  cfg.sgl = static_cast<emu::SglSupport>((c0 >> 4) % 3);
  cfg.namespaces = (c0 & 0x40) ? 2 : 1;
  cfg.nsBytes = 256 << 10;  // 512 or 64 blocks: ranges reach the end often
  cfg.queues = 2;
  cfg.qsize = 64;
  const bool cmb = c1 & 1;
  if (cmb) cfg.cmbBytes = kCmbLen;
  Harness h(cfg);
  h.bringUp(cmb);
  uint32_t lbads = cfg.lbads;
  static const bool verbose = std::getenv("PHYR_FUZZ_VERBOSE") != nullptr;  // to read a finding
  // The data oracle: the namespaces start zeroed (ram and null backends both read zeros).
  static Shadow shadow;  // reused: a fresh 512 KiB per input costs more than the input
  shadow.nsBytes = cfg.nsBytes;
  shadow.bytes.resize(cfg.nsBytes * 2);
  std::memset(shadow.bytes.data(), 0, cfg.nsBytes * cfg.namespaces);
  bool oracle = true;

  const uint32_t groups = 1 + in.below(8);
  for (uint32_t g = 0; g < groups && in.left(); g++) {
    const uint8_t shape = in.u8();
    const bool admin = (shape & 3) == 0;
    const uint32_t n = 1 + ((shape >> 4) & 3);  // commands behind one doorbell
    Sqe cmds[4];
    for (uint32_t i = 0; i < n; i++) {
      for (uint32_t p = 0; p < ((shape >> 2) & 3); p++) fillPage(in, h);
      cmds[i] = makeCommand(in, admin, 1u << lbads, cfg.nsBytes >> lbads);
    }
    h.sanitize();
    Expectation x;
    if (oracle && n == 1 && !admin) x = expect(h, cmds[0], lbads, cfg.nsBytes, cfg.sgl);
    const uint64_t faultsBefore = h.ctrl().faultCount();
    const emu::EmuStats before = h.ctrl().stats();
    uint16_t st[4];
    h.runBatch(admin ? 0 : 1, cmds, n, st);
    const uint64_t faults = h.ctrl().faultCount() - faultsBefore;
    const emu::EmuStats after = h.ctrl().stats();
    uint64_t wantRead = 0, wantWritten = 0;
    bool transferError = false;
    for (uint32_t i = 0; i < n; i++) {
      const Sqe& s = cmds[i];
      const uint8_t op = s.cdw0 & 0xFF;
      if (verbose)
        std::fprintf(stderr, "%s opcode 0x%02x psdt %u nsid 0x%x cdw10 0x%x cdw12 0x%x dptr 0x%llx 0x%llx -> status 0x%04x\n",
                     admin ? "admin" : "io", op, (s.cdw0 >> PSDT_SHIFT) & 3, s.nsid, s.cdw10, s.cdw12,
                     static_cast<unsigned long long>(s.dptr1), static_cast<unsigned long long>(s.dptr2), st[i]);
      transferError = transferError || (st[i] & 0x7FF) == SC_DATA_TRANSFER_ERROR;
      // A successful Read or Write moves exactly NLB + 1 blocks.
      if (!admin && (st[i] & 0x7FF) == 0 && op == IO_READ) wantRead += ((s.cdw12 & 0xFFFF) + 1ull) << lbads;
      if (!admin && (st[i] & 0x7FF) == 0 && op == IO_WRITE) wantWritten += ((s.cdw12 & 0xFFFF) + 1ull) << lbads;
      if (admin && op == ADMIN_FORMAT_NVM && st[i] == 0) lbads = (s.cdw10 & 0xF) == 1 ? 12 : 9;
    }
    if (oracle && !admin) {
      if (n == 1) {
        oracle = dataOracle(h, shadow, cmds[0], st[0], lbads, cfg.backend == "null", x);
      } else {
        for (uint32_t i = 0; i < n; i++) {
          const uint8_t op = cmds[i].cdw0 & 0xFF;
          if (st[i] == 0 && (op == IO_WRITE || op == IO_WRITE_ZEROES || op == IO_DATASET_MANAGEMENT)) oracle = false;
        }
      }
    }
    if (admin) {
      for (uint32_t i = 0; i < n; i++)
        if ((cmds[i].cdw0 & 0xFF) == ADMIN_FORMAT_NVM && st[i] == 0) std::fill(shadow.bytes.begin(), shadow.bytes.end(), 0);
    }
    REQUIRE(after.bytesRead - before.bytesRead == wantRead, after.bytesRead - before.bytesRead, wantRead);
    REQUIRE(after.bytesWritten - before.bytesWritten == wantWritten, after.bytesWritten - before.bytesWritten, wantWritten);
    // An IOMMU fault is a command's: it fails with Data Transfer Error (NVMe 1.4
    // §4.6.1.2.1 04h), and the fault is never a queue access (the queues are sane).
    if (faults) {
      REQUIRE(transferError, faults);
      for (const emu::FaultRecord& f : h.ctrl().faultLog())
        REQUIRE(f.site != emu::FaultSite::SqFetch && f.site != emu::FaultSite::CqPost, static_cast<uint64_t>(f.site));
    }
  }

  // Still healthy: a clean Identify Controller and a clean one-block Read succeed.
  Sqe id{};
  id.cdw0 = ADMIN_IDENTIFY;
  id.dptr1 = kD;
  id.cdw10 = 1;
  REQUIRE(h.run(0, id) == 0);
  Sqe rd{};
  rd.cdw0 = IO_READ;
  rd.nsid = 1;
  rd.dptr1 = kD + kPage;
  REQUIRE(h.run(1, rd) == 0);
  return 0;
}
