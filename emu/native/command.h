// A command as the device executes it, and what it completes with.
#pragma once
#include <cstdint>

#include "spec/nvme.h"

namespace phyr::emu {

/** A fetched command being executed. */
struct Command {
  nvme::Sqe sqe;
  uint16_t sqid;
  uint16_t cid;
  uint8_t opcode;
};

/** What a command finishes with. */
struct Completion {
  uint16_t status = 0;  // 15-bit status field (nvme::makeStatus)
  uint32_t dw0 = 0;
  bool deferred = false;  // completes later (AER, timing model): keeps its CQ slot reserved
};

/** A completion waiting for its due time (timing model, injected delay). */
struct PendingCompletion {
  uint64_t due;
  uint16_t sqid;
  uint16_t cid;
  Completion c;
  bool operator<(const PendingCompletion& o) const { return due > o.due; }  // min-heap
};

/** One Error Information log entry (5.14.1.1), as kept by the controller. */
struct ErrorEntry {
  uint64_t count;
  uint16_t sqid, cid, status;
  uint64_t lba;
  uint32_t nsid;
};

/** One contiguous host-memory piece of a data transfer. */
struct HostPiece {
  uint8_t* host;
  uint64_t len;
};

}  // namespace phyr::emu
