// A driver QueuePair over a loopback "controller" that lives in the same thread: when the
// SQ tail doorbell moves, every new SQE is answered at once with a successful CQE (CID,
// SQ head, phase; NVMe 1.4 §4.6) and no data moves. Driving the job engine through it
// measures the engine plus the driver's real data plane (SQE and PRP building, the
// doorbells, phase-tracked reaping, tracker bookkeeping) with no emulator thread and no
// scheduling noise — the CPU floor of one IO on the native path.
#pragma once
#include <cstdint>
#include <memory>

#include "bench/engine.h"
#include "nvme_spec.h"
#include "queue_pair.h"

namespace phyr::bench {

class LoopbackQueue {
 public:
  // qsize entries per ring; returns nullptr (and why) when the driver refuses the config.
  static std::unique_ptr<LoopbackQueue> create(uint32_t qsize, const char** why);
  ~LoopbackQueue();

  inline QueueSubmitInfo submit(const QueueIo& io) {
    // One command object reused for every IO: only the fields that vary are written (the
    // rest keep IoCommand's defaults: no raw CDWs, no extra flags, no bit buckets).
    nvme::IoCommand& c = cmd_;
    c.opcode = static_cast<uint8_t>(io.write ? nvme::IO_WRITE : nvme::IO_READ);
    c.nsid = io.nsid;
    c.slba = io.lba;
    c.blocks = io.blocks;
    c.lbaSize = io.lbaSize;
    c.data = io.data;
    c.dataCount = io.dataCount;
    c.userData = io.tag;
    const nvme::SubmitOutcome o = qp_->submit(c);
    if (o.result == nvme::SubmitResult::QueueFull) return {QueueSubmit::kFull, DptrKind::kNone, 0, nullptr};
    if (o.result != nvme::SubmitResult::Ok) return {QueueSubmit::kError, DptrKind::kNone, 0, nvme::submitResultName(o.result)};
    return {QueueSubmit::kOk, o.decision.format == nvme::DptrFormat::Sgl ? DptrKind::kSgl : DptrKind::kPrp, 1, nullptr};
  }
  inline void ring() {
    qp_->ringSubmit();
    answer();
  }
  inline uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max) {
    const uint32_t n = qp_->poll(cpl_, max < kBatch ? max : kBatch);
    for (uint32_t i = 0; i < n; i++) {
      tags[i] = cpl_[i].userData;
      status[i] = cpl_[i].status;
    }
    return n;
  }
  uint32_t capacity() const { return qp_->capacity(); }
  uint64_t answered() const { return answered_; }

 private:
  LoopbackQueue() = default;
  void answer();  // the "controller": consume new SQEs, post CQEs

  static constexpr uint32_t kBatch = 256;
  std::unique_ptr<nvme::QueuePair> qp_;
  uint8_t* memory_ = nullptr;  // SQ, CQ, list pages (one allocation)
  uint32_t doorbells_[2] = {0, 0};
  uint32_t qsize_ = 0;
  uint32_t sqHead_ = 0, cqTail_ = 0, phase_ = 1;
  uint64_t answered_ = 0;
  nvme::IoCommand cmd_;
  nvme::Completion cpl_[kBatch];
};

}  // namespace phyr::bench
