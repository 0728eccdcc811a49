// Fault injection rules and the timing model's parameters (see docs/EMULATOR.md).
#pragma once
#include <cstdint>

#include "spec/nvme.h"

namespace phyr::emu {

enum class FaultKind : uint8_t { Fail, FailLba, Drop, Delay, Cfs, Stop, Resume, Clear, Corrupt, Remove };

/** One fault injection rule. Filters (opcode, qid) apply to IO commands. */
struct FaultRule {
  FaultKind kind = FaultKind::Fail;
  uint64_t nth = 1;          // every Nth matching command (Fail, Drop, Delay, Corrupt)
  uint64_t lba = 0;          // FailLba, Corrupt
  uint32_t nsid = 0;         // FailLba, Corrupt: 0 = any namespace
  uint32_t byte = 0;         // Corrupt: the byte of the block that is inverted (< LBA size)
  // Fail/FailLba: 15-bit status field (SC | SCT << 8 | DNR << 14); default Internal Error.
  uint16_t status = nvme::makeStatus(nvme::SCT_GENERIC, nvme::SC_INTERNAL_ERROR, false);
  int32_t opcode = -1;       // -1: any
  int32_t qid = -1;          // -1: any; Stop/Resume: the SQ
  uint64_t delayNs = 0;      // Delay
  uint64_t after = 0;        // Cfs, Remove: after this many more IO commands (0 = at once)
  uint64_t seen = 0;         // matching commands so far (device thread)
};

/** Timing model: latency, throughput caps, in-device concurrency cap. */
struct TimingModel {
  enum class Latency : uint8_t { None, Fixed, Uniform, Exponential } latency = Latency::None;
  uint64_t latencyNs = 0;     // fixed, or mean for exponential, or min for uniform
  uint64_t latencyMaxNs = 0;  // uniform
  uint64_t iops = 0;          // 0 = uncapped
  uint64_t bandwidth = 0;     // bytes/s, 0 = uncapped
  uint32_t inflight = 0;      // 0 = uncapped
  bool active() const { return latency != Latency::None || iops || bandwidth || inflight; }
};

}  // namespace phyr::emu
