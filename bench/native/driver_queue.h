// The engine's queue interface over the driver's QueuePair: each benchmark IO becomes an
// nvme::IoCommand built from a one-entry phyr array; the driver's data plane picks PRP or
// SGL (and splits when it must), writes the SQE, rings once per batch and reaps.
#pragma once
#include <algorithm>

#include "bench/native/engine.h"
#include "spec/nvme.h"
#include "drivers/nvme/native/queue_pair.h"

namespace phyr::bench {

class DriverQueue {
 public:
  // The benchmark's queues are polled (no interrupt vector) and this loop is their only
  // reader: the CQ head may lag (QueuePair::setCqHeadLag), one doorbell for many reaps.
  // The destructor publishes what lagged, so destroy this before the queue pair is released.
  explicit DriverQueue(nvme::QueuePair& qp) : qp_(qp) { qp_.setCqHeadLag(true); }
  ~DriverQueue() { qp_.setCqHeadLag(false); }
  DriverQueue(const DriverQueue&) = delete;
  DriverQueue& operator=(const DriverQueue&) = delete;

  inline QueueSubmitInfo submit(const QueueIo& io) {
    // One command object reused for every IO: only the fields that vary are written (the
    // rest keep IoCommand's defaults: no raw CDWs, no extra flags, no bit buckets).
    nvme::IoCommand& c = cmd_;
    if (io.flush) {
      // Flush (NVM Command Set): no LBA range, no data pointer.
      nvme::IoCommand f;
      f.opcode = static_cast<uint8_t>(nvme::IO_FLUSH);
      f.nsid = io.nsid;
      f.userData = io.tag;
      const nvme::SubmitOutcome o = qp_.submit(f);
      if (o.result == nvme::SubmitResult::Ok) return {QueueSubmit::kOk, DptrKind::kNone, 1, nullptr};
      if (o.result == nvme::SubmitResult::QueueFull) return {QueueSubmit::kFull, DptrKind::kNone, 0, nullptr};
      return {QueueSubmit::kError, DptrKind::kNone, 0, nvme::submitResultName(o.result)};
    }
    if (io.trim) {
      // Dataset Management, one range (CDW10 NR = 0, 0's based), CDW11 AD: deallocate.
      nvme::IoCommand d;
      d.opcode = static_cast<uint8_t>(nvme::IO_DATASET_MANAGEMENT);
      d.rawCdw = true;
      d.slba = static_cast<uint64_t>(nvme::DSM_ATTR_DEALLOCATE) << 32;
      d.nsid = io.nsid;
      d.lbaSize = io.lbaSize;
      d.data = io.data;
      d.dataCount = 1;
      d.dataBytes = nvme::DSM_RANGE_SIZE;
      d.userData = io.tag;
      return outcome(qp_.submit(d));
    }
    c.opcode = static_cast<uint8_t>(io.write ? nvme::IO_WRITE : nvme::IO_READ);
    c.nsid = io.nsid;
    c.slba = io.lba;
    c.blocks = io.blocks;
    c.lbaSize = io.lbaSize;
    c.data = io.data;
    c.dataCount = io.dataCount;
    c.cdw12Extra = io.cdw12Extra;
    c.userData = io.tag;
    return outcome(qp_.submit(c));
  }

  inline QueueSubmitInfo outcome(const nvme::SubmitOutcome& o) {
    switch (o.result) {
      case nvme::SubmitResult::Ok:
        return {QueueSubmit::kOk, kindOf(o.decision.format), o.decision.children, nullptr};
      case nvme::SubmitResult::QueueFull:
        return {QueueSubmit::kFull, DptrKind::kNone, 0, nullptr};
      case nvme::SubmitResult::Bounce:
        return {QueueSubmit::kError, DptrKind::kBounce, 0, nvme::dptrReasonText(o.decision.reason)};
      case nvme::SubmitResult::Reject:
        return {QueueSubmit::kError, DptrKind::kNone, 0, nvme::dptrReasonText(o.decision.reason)};
      default:
        return {QueueSubmit::kError, DptrKind::kNone, 0, nvme::submitResultName(o.result)};
    }
  }
  inline void ring() { qp_.ringSubmit(); }
  inline uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max) {
    const uint32_t n = qp_.poll(cpl_, std::min<uint32_t>(max, kBatch));
    for (uint32_t i = 0; i < n; i++) {
      tags[i] = cpl_[i].userData;
      status[i] = cpl_[i].status;
    }
    return n;
  }

 private:
  static constexpr uint32_t kBatch = 256;
  static DptrKind kindOf(nvme::DptrFormat f) {
    switch (f) {
      case nvme::DptrFormat::Prp: return DptrKind::kPrp;
      case nvme::DptrFormat::Sgl: return DptrKind::kSgl;
      case nvme::DptrFormat::Split: return DptrKind::kSplit;
      case nvme::DptrFormat::Bounce: return DptrKind::kBounce;
      default: return DptrKind::kNone;
    }
  }
  nvme::QueuePair& qp_;
  nvme::IoCommand cmd_;
  nvme::Completion cpl_[kBatch];
};

}  // namespace phyr::bench
