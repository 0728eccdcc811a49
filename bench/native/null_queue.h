// A queue with no device behind it: every command "completes" at the next poll and no
// data moves. Driving the job engine with it measures the engine's own cost per IO
// (offsets, timestamps, histograms, slot bookkeeping) — the floor under any device run.
#pragma once
#include <cstdint>
#include <vector>

#include "bench/native/engine.h"

namespace phyr::bench {

class NullQueue {
 public:
  explicit NullQueue(uint32_t capacity) : tags_(capacity), capacity_(capacity) {}
  inline QueueSubmitInfo submit(const QueueIo& io) {
    if (count_ == capacity_) return {QueueSubmit::kFull, DptrKind::kNone, 0, nullptr};
    tags_[count_++] = io.tag;
    return {QueueSubmit::kOk, DptrKind::kPrp, 1, nullptr};
  }
  inline void ring() {}
  inline uint32_t poll(uint64_t* tags, uint16_t* status, uint32_t max) {
    const uint32_t n = count_ < max ? count_ : max;
    for (uint32_t i = 0; i < n; i++) {
      tags[i] = tags_[count_ - 1 - i];
      status[i] = 0;
    }
    count_ -= n;
    return n;
  }

 private:
  std::vector<uint64_t> tags_;
  uint32_t capacity_;
  uint32_t count_ = 0;
};

}  // namespace phyr::bench
