// A driver QueuePair over a loopback "controller" that lives in the same thread: when the
// SQ tail doorbell moves, every new SQE is answered at once with a successful CQE (CID,
// SQ head, phase; NVMe 1.4 §4.6) and no data moves. Driving the job engine through it
// measures the engine plus the driver's real data plane (SQE and PRP/SGL building, the
// doorbells, phase-tracked reaping, tracker bookkeeping) with no emulator thread and no
// scheduling noise — the CPU floor of one IO on the native path, and the device behind
// `phyr bench null` (fio's null engine's twin).
//
// The loopback never reads a data pointer, so it can claim any data-pointer capability:
// the caller's DptrCaps decide what the driver builds (PRP, SGL, splits at maxTransfer).
#pragma once
#include <cstdint>
#include <memory>

#include "bench/native/driver_queue.h"
#include "bench/native/engine.h"
#include "spec/nvme.h"
#include "drivers/nvme/native/queue_pair.h"

namespace phyr::bench {

class LoopbackQueue {
 public:
  // qsize entries per ring; returns nullptr (and why) when the driver refuses the config.
  // caps.pageSize must be 4096 (the loopback's list pages are 4 KiB).
  static std::unique_ptr<LoopbackQueue> create(uint32_t qsize, const char** why);
  static std::unique_ptr<LoopbackQueue> create(uint32_t qsize, const nvme::DptrCaps& caps, const char** why);
  ~LoopbackQueue();

  // The engine's calls go through the same adapter as a real device's queue pair; the
  // loopback only answers the doorbell.
  inline QueueSubmitInfo submit(const QueueIo& io) { return driver_->submit(io); }
  inline void ring() {
    driver_->ring();
    answer();
  }
  inline uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max) { return driver_->poll(tags, status, max); }
  uint32_t capacity() const { return qp_->capacity(); }
  uint32_t qsize() const { return qsize_; }
  uint64_t answered() const { return answered_; }
  // One thread drives the queue at a time (a bench job): the queue pair's exclusive flag.
  bool acquire() { return qp_->acquireExclusive(); }
  void release() { qp_->releaseExclusive(); }
  bool busy() const { return qp_->exclusive(); }

 private:
  LoopbackQueue() = default;
  void answer();  // the "controller": consume new SQEs, post CQEs

  std::unique_ptr<nvme::QueuePair> qp_;
  std::unique_ptr<DriverQueue> driver_;
  uint8_t* memory_ = nullptr;  // SQ, CQ, list pages (one allocation)
  const nvme::Sqe* sq_ = nullptr;
  nvme::Cqe* cq_ = nullptr;
  uint32_t doorbells_[2] = {0, 0};
  uint32_t qsize_ = 0;
  uint32_t sqHead_ = 0, cqTail_ = 0, phase_ = 1;
  uint64_t answered_ = 0;
};

}  // namespace phyr::bench
