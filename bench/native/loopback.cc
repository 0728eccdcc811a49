#include "bench/native/loopback.h"

#include <cstdlib>
#include <cstring>

namespace phyr::bench {

std::unique_ptr<LoopbackQueue> LoopbackQueue::create(uint32_t qsize, const char** why) {
  return create(qsize, nvme::DptrCaps{}, why);
}

std::unique_ptr<LoopbackQueue> LoopbackQueue::create(uint32_t qsize, const nvme::DptrCaps& caps, const char** why) {
  constexpr uint32_t kPage = 4096;
  if (qsize < 2 || qsize > 65536) {
    *why = "the queue size must be 2 .. 65536 entries";
    return nullptr;
  }
  if (caps.pageSize != kPage) {
    *why = "the loopback's memory page size is 4096 bytes";
    return nullptr;
  }
  const uint32_t pages = qsize - qsize / 4;
  const size_t sqBytes = (static_cast<size_t>(qsize) * 64 + kPage - 1) / kPage * kPage;
  const size_t cqBytes = (static_cast<size_t>(qsize) * 16 + kPage - 1) / kPage * kPage;
  const size_t total = sqBytes + cqBytes + static_cast<size_t>(pages) * kPage;
  std::unique_ptr<LoopbackQueue> q(new LoopbackQueue());
  q->memory_ = static_cast<uint8_t*>(std::aligned_alloc(kPage, total));
  if (!q->memory_) {
    *why = "out of memory";
    return nullptr;
  }
  std::memset(q->memory_, 0, total);
  nvme::QueueConfig cfg;
  cfg.qid = 1;
  cfg.qsize = qsize;
  cfg.sqTailDoorbell = &q->doorbells_[0];
  cfg.cqHeadDoorbell = &q->doorbells_[1];
  cfg.caps = caps;
  nvme::QueueMemory mem;
  // No IOMMU here: device addresses are the CPU addresses (only the loopback reads them).
  mem.sq = q->memory_;
  mem.sqIova = reinterpret_cast<uint64_t>(mem.sq);
  mem.cq = q->memory_ + sqBytes;
  mem.cqIova = reinterpret_cast<uint64_t>(mem.cq);
  mem.lists = q->memory_ + sqBytes + cqBytes;
  mem.listsIova = reinterpret_cast<uint64_t>(mem.lists);
  mem.listPages = pages;
  q->qp_.reset(nvme::QueuePair::create(cfg, mem, why));
  if (!q->qp_) return nullptr;
  q->driver_ = std::make_unique<DriverQueue>(*q->qp_);
  q->qsize_ = qsize;
  q->sq_ = reinterpret_cast<const nvme::Sqe*>(mem.sq);
  q->cq_ = reinterpret_cast<nvme::Cqe*>(mem.cq);
  return q;
}

LoopbackQueue::~LoopbackQueue() {
  driver_.reset();
  qp_.reset();
  std::free(memory_);
}

void LoopbackQueue::answer() {
  // Acquire pairs with the driver's release store of the tail doorbell (the SQEs before it
  // are complete).
  const uint32_t tail = __atomic_load_n(&doorbells_[0], __ATOMIC_ACQUIRE);
  const nvme::Sqe* sq = sq_;
  nvme::Cqe* cq = cq_;
  while (sqHead_ != tail) {
    const uint16_t cid = static_cast<uint16_t>(sq[sqHead_].cdw0 >> 16);
    sqHead_ = sqHead_ + 1 == qsize_ ? 0 : sqHead_ + 1;
    nvme::Cqe& c = cq[cqTail_];
    c.dw0 = 0;
    c.dw1 = 0;
    c.sqHead = static_cast<uint16_t>(sqHead_);
    c.sqId = 1;
    // Release: the entry's other fields are visible before its phase tag flips.
    __atomic_store_n(&c.dw3, static_cast<uint32_t>(cid) | (phase_ << nvme::CQE_PHASE_BIT), __ATOMIC_RELEASE);
    if (++cqTail_ == qsize_) {
      cqTail_ = 0;
      phase_ ^= 1u;
    }
    answered_++;
  }
}

}  // namespace phyr::bench
