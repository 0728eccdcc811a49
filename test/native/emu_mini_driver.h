// A minimal NVMe driver for native tests of the embedded controller: it maps its own
// memory into the controller's IOMMU, writes registers and doorbells into the BAR and
// builds SQEs by hand, the way a real driver reaches a device (no shortcut into the
// device's state). In manual mode the test drives the device with pollOnce(); in threaded
// mode the device thread runs.
#pragma once
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "check.h"
#include "emu/native/controller.h"
#include "spec/nvme.h"

namespace phyr::test {
using namespace phyr::nvme;

struct MiniQueue {
  uint16_t qid = 0;
  uint32_t size = 0;
  uint8_t* sq = nullptr;
  uint8_t* cq = nullptr;
  uint32_t tail = 0;
  uint32_t head = 0;
  bool phase = true;
  uint16_t nextCid = 0;
};

class MiniDriver {
 public:
  static constexpr uint64_t kIovaBase = 0x100000;
  static constexpr size_t kMemSize = 8 << 20;

  explicit MiniDriver(const emu::EmuConfig& cfg, bool threaded = false) : threaded_(threaded) {
    std::string err;
    ctrl = emu::Controller::create(cfg, nullptr, &err);
    if (!ctrl) {
      std::fprintf(stderr, "    create failed: %s\n", err.c_str());
      std::abort();
    }
    bar = ctrl->barMemory(0).get();
    mem = static_cast<uint8_t*>(std::aligned_alloc(4096, kMemSize));
    std::memset(mem, 0, kMemSize);
    CHECK(ctrl->iommu().map(kIovaBase, mem, kMemSize, true, true).empty());
    if (threaded) ctrl->start();
  }
  ~MiniDriver() {
    ctrl->stop();
    ctrl.reset();
    std::free(mem);
  }

  uint64_t iova(const void* p) const { return kIovaBase + (static_cast<const uint8_t*>(p) - mem); }
  uint8_t* page(size_t index) { return mem + 4096 * index; }  // pages 0..2047

  uint32_t read32(uint32_t off) { return __atomic_load_n(reinterpret_cast<uint32_t*>(bar + off), __ATOMIC_ACQUIRE); }
  uint64_t read64(uint32_t off) { return __atomic_load_n(reinterpret_cast<uint64_t*>(bar + off), __ATOMIC_ACQUIRE); }
  void write32(uint32_t off, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(bar + off), v, __ATOMIC_RELEASE); }
  void write64(uint32_t off, uint64_t v) { __atomic_store_n(reinterpret_cast<uint64_t*>(bar + off), v, __ATOMIC_RELEASE); }

  // Lets the device run: one poll in manual mode, a short yield in threaded mode.
  void step() {
    if (threaded_) std::this_thread::yield();
    else ctrl->pollOnce();
  }
  // Waits until pred() holds (bounded); false on timeout.
  template <typename F>
  bool waitFor(F pred, int maxSteps = 2'000'000) {
    for (int i = 0; i < maxSteps; i++) {
      if (pred()) return true;
      step();
    }
    return pred();
  }

  void busMaster(bool on) { ctrl->configWrite(0x04, 2, on ? 0x6 : 0x2); }

  // Enables the controller with admin queues of `entries` in pages 0 (SQ) and 1 (CQ).
  // The admin CQ is zeroed first: the host initializes every Phase Tag to 0 before setting
  // CC.EN (NVMe 1.4 §4.6, CQE DW3). After a reset the controller posts with phase 1 again
  // from slot 0, so a CQE left over from before the reset would otherwise read as new, and
  // the driver would consume it while the device writes the real one into the same slot.
  bool enable(uint32_t entries = 32, uint32_t ccExtra = 0) {
    admin = MiniQueue{0, entries, page(0), page(1)};
    std::memset(admin.sq, 0, SQE_SIZE * entries);
    std::memset(admin.cq, 0, CQE_SIZE * entries);
    write32(REG_AQA, (entries - 1) | (entries - 1) << AQA_ACQS_SHIFT);
    write64(REG_ASQ, iova(admin.sq));
    write64(REG_ACQ, iova(admin.cq));
    busMaster(true);
    uint32_t cc = CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT | ccExtra;
    write32(REG_CC, cc);
    return waitFor([&] { return (read32(REG_CSTS) & (CSTS_RDY | CSTS_CFS)) != 0; }) && (read32(REG_CSTS) & CSTS_RDY);
  }

  Sqe sqe(uint8_t opcode, uint32_t nsid = 0) {
    Sqe s{};
    s.cdw0 = opcode;
    s.nsid = nsid;
    return s;
  }

  // Writes an SQE, rings the tail doorbell (release: after the SQE stores).
  uint16_t submit(MiniQueue& q, Sqe s) {
    uint16_t cid = q.nextCid++;
    s.cdw0 = (s.cdw0 & 0xFFFF) | static_cast<uint32_t>(cid) << 16;
    std::memcpy(q.sq + SQE_SIZE * q.tail, &s, sizeof s);
    q.tail = (q.tail + 1) % q.size;
    write32(doorbellOffsetSq(q.qid, 0), q.tail);
    return cid;
  }

  // Waits for the next CQE (phase check with acquire), consumes it and rings the head.
  bool reap(MiniQueue& q, Cqe* out) {
    auto* e = reinterpret_cast<Cqe*>(q.cq + CQE_SIZE * q.head);
    uint32_t dw3 = 0;
    bool ok = waitFor([&] {
      dw3 = __atomic_load_n(&e->dw3, __ATOMIC_ACQUIRE);
      return ((dw3 >> CQE_PHASE_BIT) & 1) == q.phase;
    });
    if (!ok) return false;
    // The rest of the entry is read after the acquire; DW3 only through the atomic load,
    // since the device stores it atomically (a plain re-read would race with its next post).
    out->dw0 = e->dw0;
    out->dw1 = e->dw1;
    out->sqHead = e->sqHead;
    out->sqId = e->sqId;
    out->dw3 = dw3;
    q.head = (q.head + 1) % q.size;
    if (q.head == 0) q.phase = !q.phase;
    write32(doorbellOffsetCq(q.qid, 0), q.head);
    return true;
  }

  // Submits and waits; returns the 15-bit status field, or 0xFFFF on timeout.
  uint16_t run(MiniQueue& q, const Sqe& s, Cqe* out = nullptr) {
    uint16_t cid = submit(q, s);
    Cqe c{};
    if (!reap(q, &c)) return 0xFFFF;
    CHECK_EQ(c.dw3 & 0xFFFF, cid);
    if (out) *out = c;
    return static_cast<uint16_t>(c.dw3 >> CQE_SC_SHIFT);
  }
  uint16_t admin1(const Sqe& s, Cqe* out = nullptr) { return run(admin, s, out); }

  // Creates IO queue pair `qid` with SQ/CQ in the given pages.
  bool createIoPair(MiniQueue& q, uint16_t qid, uint32_t entries, size_t sqPage, size_t cqPage, bool ien = false) {
    q = MiniQueue{qid, entries, page(sqPage), page(cqPage)};
    std::memset(q.cq, 0, CQE_SIZE * entries);  // Phase Tags start at 0 (see enable())
    Sqe c = sqe(ADMIN_CREATE_CQ);
    c.dptr1 = iova(q.cq);
    c.cdw10 = qid | (entries - 1) << 16;
    c.cdw11 = 1 | (ien ? 2u | static_cast<uint32_t>(qid) << 16 : 0u);
    if (admin1(c) != 0) return false;
    Sqe s = sqe(ADMIN_CREATE_SQ);
    s.dptr1 = iova(q.sq);
    s.cdw10 = qid | (entries - 1) << 16;
    s.cdw11 = 1 | static_cast<uint32_t>(qid) << 16;
    return admin1(s) == 0;
  }

  std::unique_ptr<emu::Controller> ctrl;
  uint8_t* bar = nullptr;
  uint8_t* mem = nullptr;
  MiniQueue admin;

 private:
  bool threaded_;
};

inline uint16_t sc(uint8_t sct, uint8_t code, bool dnr = true) { return nvme::makeStatus(sct, code, dnr); }

}  // namespace phyr::test
