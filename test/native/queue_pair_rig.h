// A queue pair over rings and list pages in plain memory, with a software device that reads
// the SQ and writes the CQ the way a controller does (CID, SQ head, phase), shared by the
// queue pair's tests and the shadow doorbell tests.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "drivers/nvme/native/queue_pair.h"

using phyr::PhyrEntry;

namespace phyr::nvme::test_rig {

using namespace phyr::nvme;

// Ring and list memory plus a fake BAR with two doorbells; with `shadowed`, also the
// queue's shadow doorbell and EventIdx slots (Doorbell Buffer Config), and the device then
// reads the SQ tail from the shadow slot, as a shadow-aware controller does.
struct Rig {
  uint32_t qsize;
  uint8_t* sq;
  uint8_t* cq;
  uint8_t* lists;
  uint32_t listPages;
  alignas(64) uint32_t bar[4] = {0, 0, 0, 0};  // [0] SQ tail, [1] CQ head
  alignas(64) uint32_t shadow[2] = {0, 0};     // host-written: SQ tail, CQ head
  alignas(64) uint32_t eventIdx[2] = {0, 0};   // device-written
  bool shadowed = false;
  QueuePair* qp = nullptr;
  // Device state.
  uint32_t devSqHead = 0, devCqTail = 0, devPhase = 1;

  explicit Rig(uint32_t q, uint32_t extraPages = 0, uint8_t sgl = 0, uint64_t mdts = 0, bool withShadow = false) : qsize(q), shadowed(withShadow) {
    sq = static_cast<uint8_t*>(std::aligned_alloc(4096, 64 * 4096));
    cq = static_cast<uint8_t*>(std::aligned_alloc(4096, 16 * 4096));
    std::memset(sq, 0, 64 * 4096);
    std::memset(cq, 0, 16 * 4096);
    listPages = std::min(q - 1, q - q / 4) + extraPages;
    lists = static_cast<uint8_t*>(std::aligned_alloc(4096, size_t{listPages} * 4096));
    QueueConfig cfg;
    cfg.qid = 1;
    cfg.qsize = q;
    cfg.sqTailDoorbell = &bar[0];
    cfg.cqHeadDoorbell = &bar[1];
    cfg.caps.sglSupport = sgl;
    cfg.caps.maxTransfer = mdts;
    if (shadowed) {
      cfg.sqShadow = {&shadow[0], &eventIdx[0]};
      cfg.cqShadow = {&shadow[1], &eventIdx[1]};
    }
    QueueMemory mem{sq, 0x100000, cq, 0x200000, lists, 0x300000, listPages};
    const char* why = nullptr;
    qp = QueuePair::create(cfg, mem, &why);
  }
  ~Rig() {
    delete qp;
    std::free(sq);
    std::free(cq);
    std::free(lists);
  }
  Sqe sqeAt(uint32_t i) const {
    Sqe s;
    std::memcpy(&s, sq + 64 * i, 64);
    return s;
  }
  // Consumes every SQE up to the tail (the shadow slot's when shadowed, else the doorbell's)
  // and completes it with `status`.
  uint32_t deviceStep(uint16_t status = 0, std::vector<Sqe>* seen = nullptr) {
    const uint32_t tail = __atomic_load_n(shadowed ? &shadow[0] : &bar[0], __ATOMIC_ACQUIRE);
    uint32_t n = 0;
    while (devSqHead != tail) {
      Sqe s = sqeAt(devSqHead);
      if (seen) seen->push_back(s);
      devSqHead = (devSqHead + 1) % qsize;
      Cqe c{};
      c.sqHead = static_cast<uint16_t>(devSqHead);
      c.sqId = 1;
      c.dw0 = s.cdw10;
      auto* slot = reinterpret_cast<Cqe*>(cq) + devCqTail;
      std::memcpy(slot, &c, 12);
      __atomic_store_n(&slot->dw3, (s.cdw0 >> 16) | devPhase << 16 | uint32_t{status} << 17, __ATOMIC_RELEASE);
      if (++devCqTail == qsize) {
        devCqTail = 0;
        devPhase ^= 1;
      }
      n++;
    }
    return n;
  }
};

inline IoCommand read4k(uint64_t lba, const PhyrEntry* e, uint64_t tag) {
  IoCommand c;
  c.opcode = IO_READ;
  c.nsid = 1;
  c.slba = lba;
  c.blocks = 8;
  c.lbaSize = 512;
  c.data = e;
  c.dataCount = 1;
  c.userData = tag;
  return c;
}

}  // namespace phyr::nvme::test_rig
