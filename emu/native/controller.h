// The embedded NVMe controller: a device model that runs on its own thread and talks to
// the driver only through its BAR memory (registers, doorbells), its config space, its
// IOMMU table and its interrupt eventfds. See docs/EMULATOR.md.
//
// Controller composes the parts that each own one concern and can be read alone:
//   ConfigSpace, MsixVectors (pci_config.h)  the PCI side: config space, interrupt vectors
//   RegisterFile (registers.h)               BAR0, CC/CSTS enable/shutdown/reset, CMB registers
//   QueueSet (queues.h)                      SQ/CQ state, doorbells, CQE posting
//   DeviceThread (device_thread.h)           the polling loop and its idle policy
//   DeviceMemory (device_memory.h)          device accesses: the CMB window, else the IOMMU
//   DataPointers (dptr.h)                   PRP and SGL walks into host pieces
//   FaultLog (fault_log.h), IommuTable (iommu.h), Backend (backend.h)
// and runs commands itself: the polling engine (engine.cc), admin commands (admin.cc), IO
// commands (io.cc), timing model and fault injection (timing.cc).
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emu/native/backend.h"
#include "emu/native/command.h"
#include "emu/native/config.h"
#include "emu/native/device_memory.h"
#include "emu/native/device_thread.h"
#include "emu/native/dptr.h"
#include "emu/native/fault_log.h"
#include "emu/native/iommu.h"
#include "emu/native/pci_config.h"
#include "emu/native/queues.h"
#include "emu/native/registers.h"
#include "emu/native/stats.h"
#include "spec/nvme.h"

namespace phyr::emu {

class Controller final : private RegisterHost, private Pollable {
 public:
  // Creates the controller (not yet running). `iommu` may be shared with a peer function.
  // On failure *error says why; `detail`, when given, gets the backend's error code (and
  // an image lock's holder) when the backend was what failed.
  static std::unique_ptr<Controller> create(const EmuConfig& config, std::shared_ptr<IommuTable> iommu,
                                            std::string* error, BackendError* detail = nullptr);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts / stops the device thread. stop() is idempotent.
  void start() { thread_.start(*this); }
  void stop() { thread_.stop(); }
  // One pass over registers and doorbells; true when it did any work. The device thread
  // calls it in a loop; native tests and the cost benchmark call it directly (no thread).
  bool pollOnce() override;

  const EmuConfig& config() const { return config_; }
  IommuTable& iommu() { return *iommu_; }
  std::shared_ptr<IommuTable> iommuShared() { return iommu_; }

  // BAR memory. The memory block outlives the controller while `barMemory` holders exist.
  std::shared_ptr<uint8_t> barMemory(int index) const;
  uint64_t barSize(int index) const;
  // The memfd behind BAR `index` when it is shared memory (shared=on: BAR0), else -1.
  int barFd(int index) const;

  // PCI config space (driver's thread).
  uint32_t configRead(uint32_t offset, uint32_t size) const;
  void configWrite(uint32_t offset, uint32_t size, uint32_t value);

  // Interrupt vectors: creates `count` eventfds (replacing earlier ones); returns them, or
  // an empty vector with *error set.
  std::vector<int> enableMsix(uint32_t count, std::string* error) { return vectors_.enable(count, msixTableSize(), error); }
  uint32_t msixTableSize() const { return config_.msixTableSize(); }

  // Fault log (bounded: the latest kMaxFaultLog records) and total count.
  std::vector<FaultRecord> faultLog() { return faults_.records(); }
  uint64_t faultCount() const { return faults_.count(); }
  void clearFaults() { faults_.clear(); }

  // A copy of the counters (relaxed loads).
  EmuStats stats() const {
    EmuStats s = snapshot(stats_);
    s.mmioDoorbellUpdates = queues_.mmioDoorbellUpdates();
    s.shadowDoorbellUpdates = queues_.shadowDoorbellUpdates();
    s.eventIdxWrites = queues_.eventIdxWrites();
    return s;
  }

  // Run-time fault injection: the rule is applied by the device thread at its next pass,
  // except Remove with after = 0, which has taken effect when inject() returns.
  void inject(const FaultRule& rule);
  // Surprise removal (fault 'remove'): from the return on, BAR0 and the CMB read all ones,
  // config space reads all ones, register, doorbell and config writes are ignored, and the
  // device does no DMA and raises no interrupt; commands in flight never complete. There is
  // no way back: the function can only be closed. Safe from any thread but the device's.
  void surpriseRemove();
  bool removed() const { return removed_.load(std::memory_order_acquire); }
  // Completions held back by the timing model or a delay fault (device thread's view).
  size_t pendingCompletions() const { return __atomic_load_n(&pendingCount_, __ATOMIC_RELAXED); }

  static constexpr size_t kMaxFaultLog = FaultLog::kMax;

 private:
  Controller(const EmuConfig& config, std::shared_ptr<IommuTable> iommu);

  // The state machine's requests (RegisterHost, registers.h).
  void resetController() override;
  void createAdminQueues(uint64_t asq, uint32_t asqs, uint64_t acq, uint32_t acqs) override;
  void flushForShutdown() override { makeDurable(); }

  // Surprise removal on the device thread: fills the BARs with ones (first pass) or puts
  // ones back over whatever the driver stored since (later passes).
  bool removedPass();
  void removeNow();

  // The polling engine (engine.cc): fetch, execute, post, interrupt.
  bool processQueues();
  uint32_t processSq(uint16_t sqid, uint32_t budget);
  bool postCompletion(uint16_t sqid, uint16_t cid, const Completion& c);
  void signalInterrupts();
  void invalidDoorbell();
  bool attachShadowPages();
  // Ends a pass's use of the shadow pages' host pointers, on every way out of the pass.
  struct ShadowPass {
    QueueSet& queues;
    ~ShadowPass() { queues.detachShadow(); }
  };

  // Commands.
  Completion executeAdmin(Command& cmd);
  Completion executeIo(Command& cmd);
  Completion executeIoCommand(Command& cmd);
  Completion identify(Command& cmd);
  Completion setFeatures(Command& cmd);
  Completion getFeatures(Command& cmd);
  Completion createCq(Command& cmd);
  Completion createSq(Command& cmd);
  Completion deleteCq(Command& cmd);
  Completion deleteSq(Command& cmd);
  Completion doorbellBufferConfig(Command& cmd);
  Completion readWrite(Command& cmd, bool isWrite);
  void corruptReadData(const Command& cmd, uint64_t slba, uint64_t nlb);
  Completion flush(Command& cmd);
  // Makes every completed write durable (Flush, FUA, VWC disabled, shutdown): the backend's
  // flush, counted in stats_.syncs when the backend is persistent. False on an IO error.
  bool makeDurable();
  // Write-type commands complete durable when FUA is set or the volatile write cache is off.
  bool durableNow(bool fua) const { return fua || !volatileWriteCache_; }
  Completion writeZeroes(Command& cmd);
  Completion datasetManagement(Command& cmd);
  Completion compare(Command& cmd);
  Completion verify(Command& cmd);
  uint16_t checkRange(const Command& cmd, uint64_t* slba, uint64_t* nlb);
  uint64_t byteOffset(uint32_t nsid, uint64_t lba) const;

  // Timing model and fault injection (timing.cc).
  Completion finishIo(Command& cmd, Completion c, uint64_t bytes);
  bool completeDue(uint64_t now);
  void takeInjected();
  bool applyRuleBefore(FaultRule& r, const Command& cmd, Completion* out);
  bool answerInjected(const Command& cmd, Completion* out);
  uint64_t sampleLatency();
  uint64_t nextPendingDue() const override;
  void abortPendingOf(uint16_t sqid, uint16_t status);
  bool abortCommand(uint16_t sqid, uint16_t cid);
  bool takeAbortRequest(uint16_t sqid, uint16_t cid);
  void recordError(const Command& cmd, uint16_t status);
  void asyncEvent(uint8_t type, uint8_t info, uint8_t logPage);

  // Admin commands added with the timing model.
  Completion getLogPage(Command& cmd);
  Completion abort(Command& cmd);
  Completion asyncEventRequest(Command& cmd);
  Completion formatNvm(Command& cmd);

  EmuConfig config_;
  std::shared_ptr<IommuTable> iommu_;
  std::unique_ptr<Backend> backend_;
  bool movesData_ = true;  // backend_->movesData(), asked once: false skips Read/Write copies
  RegisterFile regs_;
  QueueSet queues_;
  ConfigSpace configSpace_;
  MsixVectors vectors_;
  FaultLog faults_;
  std::shared_ptr<uint8_t> cmb_;  // BAR2 memory (the CMB), when cmb= is set
  DeviceMemory memory_;           // every device access to memory: the CMB window, else the IOMMU
  DataPointers dptr_;

  // Composite temperature thresholds in kelvin: the over threshold defaults to WCTEMP.
  static constexpr uint16_t kDefaultOverTemperature = 343;   // 70 C
  static constexpr uint16_t kCriticalTemperature = 363;      // 90 C (CCTEMP)

  // Features and per-command state (device thread only).
  uint32_t sqAllocated_, cqAllocated_;  // Number of Queues feature (counts, not 0's based)
  bool ioQueuesCreated_ = false;
  bool volatileWriteCache_ = true;
  uint32_t interruptCoalescing_ = 0;
  uint32_t asyncEventConfig_ = 0;
  uint32_t arbitration_ = 0;         // Arbitration (5.21.1.1): AB, LPW, MPW, HPW as set
  uint32_t powerManagement_ = 0;     // Power Management (5.21.1.2): PS 4:0, WH 7:5
  uint16_t overTemperature_ = kDefaultOverTemperature;  // Temperature Threshold (5.21.1.4), composite
  uint16_t underTemperature_ = 0;
  uint32_t writeAtomicity_ = 0;      // Write Atomicity Normal (5.21.1.10): DN bit 0
  std::vector<uint8_t> compareBuf_;
  uint64_t maxTransfer_;  // bytes; 0 = unlimited
  uint64_t nsBlocks_;
  std::vector<uint8_t> scratch_;  // admin data staging (4 KiB)

  EmuStats stats_;

  std::vector<PendingCompletion> pending_;  // heap
  size_t pendingCount_ = 0;
  uint64_t busyUntil_ = 0;       // throughput model: when the device is free again
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  std::vector<FaultRule> rules_;
  std::vector<bool> stoppedSq_;
  std::mutex injectMutex_;
  std::vector<FaultRule> injected_;
  std::atomic<bool> injectedPending_{false};
  std::vector<std::pair<uint16_t, uint16_t>> abortRequests_;  // (sqid, cid) not yet fetched
  std::vector<uint16_t> aers_;   // outstanding Asynchronous Event Request CIDs
  std::vector<uint32_t> aerQueued_;  // events waiting for an AER (dw0 values)
  std::deque<ErrorEntry> errorLog_;
  uint64_t errorCount_ = 0;
  uint64_t mediaErrors_ = 0;
  uint64_t createdNs_ = 0;

  // Surprise removal. removed_: set once (release) by surpriseRemove() or by the device
  // thread's remove:after=N rule, never cleared; every reader uses acquire so that it
  // cannot act on register contents older than the flag. removedAck_: set (release) by the
  // device thread after it filled the BARs with ones and stopped all processing;
  // surpriseRemove() waits for it (acquire), so its caller's later BAR reads see the ones.
  std::atomic<bool> removed_{false};
  std::atomic<bool> removedAck_{false};

  DeviceThread thread_;  // last: stopped (destroyed) before everything it polls
};

}  // namespace phyr::emu
