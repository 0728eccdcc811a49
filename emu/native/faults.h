// Fault injection rules and the timing model's parameters (see docs/EMULATOR.md).
#pragma once
#include <cstdint>
#include <cstring>

#include "spec/nvme.h"

namespace phyr::emu {

enum class FaultKind : uint8_t { Fail, FailLba, Drop, Delay, Cfs, Stop, Resume, Clear, Corrupt, Remove, Answer, Unchecked };

/**
 * Unchecked (creation only): one check the controller makes when CC.EN goes 0 -> 1
 * (docs/EMULATOR.md, What is checked) is skipped, so an enable that must raise CSTS.CFS
 * becomes ready instead.
 */
// CmbUse is no enable check: with it skipped the CMB accepts every use whatever CMBSZ publishes.
enum class EnableCheck : uint8_t { Aqa = 1, AsqAlignment = 2, Iosqes = 4, Iocqes = 8, Mps = 16, CmbUse = 32 };

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
  bool sticky = false;       // Cfs: raised again at every enable (CC.EN 0 -> 1) until Clear
  uint64_t seen = 0;         // matching commands so far (device thread)
  // Answer: admin or IO commands on `qid` with `opcode` (and, when matchDword is 0..15,
  // (SQE dword N & matchMask) == matchValue) are not executed; they complete with `status`
  // and dw0 = `result`. Lets a test break one rule of the specification at a time.
  uint32_t matchDword = 16;  // 16: no dword is matched
  uint32_t matchValue = 0, matchMask = 0xFFFFFFFFu;
  uint32_t result = 0;
  uint8_t uncheck = 0;  // Unchecked: an EnableCheck
};

/** True when Answer rule `r` matches the command `sqe` fetched from `sqid`. */
inline bool answerMatches(const FaultRule& r, const nvme::Sqe& sqe, uint16_t sqid) {
  if (r.kind != FaultKind::Answer) return false;
  if (r.qid >= 0 && r.qid != sqid) return false;
  if (r.opcode >= 0 && r.opcode != static_cast<int32_t>(sqe.cdw0 & 0xFF)) return false;
  if (r.matchDword > 15) return true;
  uint32_t dw[16];
  static_assert(sizeof dw == sizeof sqe, "an SQE is 16 dwords");
  std::memcpy(dw, &sqe, sizeof dw);
  return (dw[r.matchDword] & r.matchMask) == r.matchValue;
}

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
