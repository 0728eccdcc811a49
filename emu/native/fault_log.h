// The IOMMU fault log: every device access to host memory that the IOMMU refused (or that
// fell outside every mapping), with the command that caused it. Written by the device
// thread, read and cleared from the driver's thread (docs/EMULATOR.md, "IOMMU table and
// fault log").
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace phyr::emu {

/** Where a faulting device access happened. */
enum class FaultSite : uint8_t { SqFetch, CqPost, PrpList, SglSegment, Data, ShadowDoorbell };
const char* faultSiteName(FaultSite s);

/** One IOMMU fault: the device touched [iova, iova + length) without a mapping allowing it. */
struct FaultRecord {
  uint64_t iova;
  uint64_t length;
  bool write;  // the device was writing host memory
  FaultSite site;
  uint16_t sqid;
  uint16_t cid;
  uint8_t opcode;
};

/** Bounded log (the latest kMax records) and the total count since the last clear. */
class FaultLog {
 public:
  static constexpr size_t kMax = 256;

  void record(const FaultRecord& f);  // device thread
  std::vector<FaultRecord> records();
  uint64_t count() const { return __atomic_load_n(&total_, __ATOMIC_RELAXED); }
  void clear();

 private:
  std::mutex mutex_;
  std::deque<FaultRecord> records_;
  uint64_t total_ = 0;  // relaxed loads outside the lock: a counter, nothing is read through it
};

}  // namespace phyr::emu
