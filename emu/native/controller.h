// The embedded NVMe controller: a device model that runs on its own thread and talks to
// the driver only through its BAR memory (registers, doorbells), its config space, its
// IOMMU table and its interrupt eventfds. See docs/EMULATOR.md.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emu/native/backend.h"
#include "emu/native/config.h"
#include "emu/native/iommu.h"
#include "spec/nvme.h"
#include "spec/pci.h"

namespace phyr::emu {

/** Where a faulting device access happened. */
enum class FaultSite : uint8_t { SqFetch, CqPost, PrpList, SglSegment, Data };
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

/** Counters; read with relaxed loads from other threads (single writer: the device). */
struct EmuStats {
  uint64_t commands = 0;
  uint64_t adminCommands = 0;
  uint64_t ioCommands = 0;
  uint64_t errors = 0;  // completions with a non-zero status
  uint64_t bytesRead = 0;     // device -> host (Read)
  uint64_t bytesWritten = 0;  // host -> device (Write)
  uint64_t interrupts = 0;
  uint64_t invalidDoorbells = 0;
  uint64_t corruptedReads = 0;  // Reads whose data was corrupted by a corrupt:lba=L rule
  uint64_t syncs = 0;  // durability points reached on a persistent backend (file: one fdatasync each)
  uint64_t adminOpcodes[256] = {};
  uint64_t ioOpcodes[256] = {};
};

struct SubmissionQueue {
  bool exists = false;
  uint64_t base = 0;  // IOVA of entry 0
  uint32_t size = 0;
  uint32_t head = 0;
  uint32_t tail = 0;  // last valid tail doorbell value seen
  uint16_t cqid = 0;
};

struct CompletionQueue {
  bool exists = false;
  uint64_t base = 0;
  uint32_t size = 0;
  uint32_t head = 0;  // last valid head doorbell value seen
  uint32_t tail = 0;
  bool phase = true;
  bool interrupts = false;
  uint16_t vector = 0;
  uint32_t sqRefs = 0;    // SQs bound to it
  uint32_t reserved = 0;  // completions owed by fetched, unfinished commands
  bool irqPending = false;
};

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

class Controller {
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
  void start();
  void stop();
  // One pass over registers and doorbells; true when it did any work. The device thread
  // calls it in a loop; native tests and the cost benchmark call it directly (no thread).
  bool pollOnce();

  const EmuConfig& config() const { return config_; }
  IommuTable& iommu() { return *iommu_; }
  std::shared_ptr<IommuTable> iommuShared() { return iommu_; }

  // BAR memory. The memory block outlives the controller while `barMemory` holders exist.
  std::shared_ptr<uint8_t> barMemory(int index) const;
  uint64_t barSize(int index) const;

  // PCI config space (driver's thread).
  uint32_t configRead(uint32_t offset, uint32_t size) const;
  void configWrite(uint32_t offset, uint32_t size, uint32_t value);

  // Interrupt vectors: creates `count` eventfds (replacing earlier ones); returns them, or
  // an empty vector with *error set.
  std::vector<int> enableMsix(uint32_t count, std::string* error);
  uint32_t msixTableSize() const { return config_.queues + 1; }

  // Fault log (bounded: the latest kMaxFaultLog records) and total count.
  std::vector<FaultRecord> faultLog();
  uint64_t faultCount() const { return __atomic_load_n(&faultTotal_, __ATOMIC_RELAXED); }
  void clearFaults();

  // A copy of the counters (relaxed loads).
  EmuStats stats() const;

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

  static constexpr size_t kMaxFaultLog = 256;

 private:
  Controller(const EmuConfig& config, std::shared_ptr<IommuTable> iommu);
  // Registers.
  uint32_t reg32(uint32_t off) const { return __atomic_load_n(reinterpret_cast<uint32_t*>(bar0_.get() + off), __ATOMIC_ACQUIRE); }
  uint64_t reg64(uint32_t off) const { return __atomic_load_n(reinterpret_cast<uint64_t*>(bar0_.get() + off), __ATOMIC_ACQUIRE); }
  void setReg32(uint32_t off, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(bar0_.get() + off), v, __ATOMIC_RELEASE); }
  void setReg64(uint32_t off, uint64_t v) { __atomic_store_n(reinterpret_cast<uint64_t*>(bar0_.get() + off), v, __ATOMIC_RELEASE); }
  void initRegisters();
  void restoreReadOnlyRegisters();
  void handleCcChange(uint32_t cc);
  void enable(uint32_t cc);
  void resetQueues();
  void controllerReset();
  void shutdown();
  void fatal(const char* why);
  void handleInterruptMaskRegisters();
  // Surprise removal on the device thread: fills the BARs with ones (first pass) or puts
  // ones back over whatever the driver stored since (later passes).
  bool removedPass();
  void removeNow();

  // Queues.
  bool processQueues();
  void readCqDoorbells();
  uint32_t processSq(uint16_t sqid, uint32_t budget);
  bool postCompletion(uint16_t sqid, uint16_t cid, const Completion& c);
  void signalInterrupts();
  uint32_t doorbell(uint32_t index) const {
    return __atomic_load_n(reinterpret_cast<const uint32_t*>(bar0_.get() + nvme::REG_DOORBELLS + 4 * index), __ATOMIC_ACQUIRE);
  }

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

  // Data pointers (dptr.cc): fills pieces_ with the host memory of `len` bytes the command
  // points at; returns 0 or an error status. `deviceWrites`: the device writes host memory.
  uint16_t mapDataPointer(const Command& cmd, uint64_t len, bool deviceWrites);
  uint16_t mapPrp(const Command& cmd, uint64_t len, bool deviceWrites);
  uint16_t mapSgl(const Command& cmd, uint64_t len, bool deviceWrites);
  bool readDeviceBytes(const Command& cmd, uint64_t iova, uint64_t len, FaultSite site, uint8_t* dst);
  // Device access to an address: the controller's own CMB window when enabled, else the
  // IOMMU (caller holds the IOMMU lock). Same contract as IommuTable::translateLocked.
  uint8_t* translateForDevice(uint64_t iova, uint64_t len, bool write, uint64_t* avail) {
    if (cmbWindow_ && iova - cmbBase_ < config_.cmbBytes) {
      uint64_t left = config_.cmbBytes - (iova - cmbBase_);
      *avail = left < len ? left : len;
      return cmb_.get() + (iova - cmbBase_);
    }
    return iommu_->translateLocked(iova, len, write, avail);
  }
  bool inCmb(uint64_t iova) const { return cmbWindow_ && iova - cmbBase_ < config_.cmbBytes; }
  // CMB mixing rule: every address of one command's data pointer lies in the CMB, or none.
  uint16_t noteCmbUse(uint64_t iova);
  void handleCmbRegisters();
  uint16_t addPiece(const Command& cmd, uint64_t iova, uint64_t len, bool deviceWrites, FaultSite site);
  bool readDeviceQword(const Command& cmd, uint64_t iova, FaultSite site, uint64_t* out);
  // Moves data between host pieces and a linear buffer.
  void copyToHost(const uint8_t* src, uint64_t len);
  void copyFromHost(uint8_t* dst, uint64_t len);
  // Admin data transfer helper: writes `len` bytes of `data` through the command's PRPs.
  uint16_t transferToHost(const Command& cmd, const uint8_t* data, uint64_t len);

  void recordFault(uint64_t iova, uint64_t len, bool write, FaultSite site, const Command* cmd);
  template <typename T>
  void bump(T& counter, uint64_t by = 1) {
    __atomic_store_n(&counter, counter + by, __ATOMIC_RELAXED);
  }

  void run();

  // Timing model and fault injection (timing.cc).
  Completion finishIo(Command& cmd, Completion c, uint64_t bytes);
  bool completeDue(uint64_t now);
  void takeInjected();
  bool applyRuleBefore(FaultRule& r, const Command& cmd, Completion* out);
  uint64_t sampleLatency();
  uint64_t nextPendingDue() const;
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
  std::shared_ptr<uint8_t> bar0_;
  uint64_t bar0Size_;
  std::shared_ptr<uint8_t> cmb_;
  uint64_t cmbMscSeen_ = 0;
  uint32_t cmbloc_ = 0, cmbsz_ = 0, cmbsts_ = 0;  // published values (0 until CMBMSC.CRE)
  bool cmbWindow_ = false;  // CMBMSC.CMSE: addresses in [cmbBase_, +size) reach the CMB
  uint64_t cmbBase_ = 0;
  int dptrCmb_ = -1;        // per command: -1 nothing seen, 0 host memory, 1 CMB
  uint8_t configSpace_[pci::CFG_SPACE_SIZE] = {};
  std::atomic<bool> busMaster_{false};
  mutable std::mutex configMutex_;

  // Register shadows (device thread only).
  uint64_t cap_ = 0;
  uint32_t ccSeen_ = 0;
  uint32_t csts_ = 0;
  uint32_t intMask_ = 0;
  uint32_t pageSize_ = 4096;
  bool enabled_ = false;
  bool halted_ = false;  // CFS raised or shut down: no command processing until reset

  std::vector<SubmissionQueue> sqs_;
  std::vector<CompletionQueue> cqs_;
  std::vector<uint16_t> irqCqs_;  // CQs with entries posted since the last interrupt pass
  uint32_t sqAllocated_, cqAllocated_;  // Number of Queues feature (counts, not 0's based)
  bool ioQueuesCreated_ = false;
  bool volatileWriteCache_ = true;
  uint32_t interruptCoalescing_ = 0;
  uint32_t asyncEventConfig_ = 0;
  std::vector<HostPiece> pieces_;  // host == nullptr: an SGL bit bucket (data discarded)
  std::vector<nvme::SglDesc> sglSegment_;
  std::vector<uint8_t> compareBuf_;
  uint64_t maxTransfer_;  // bytes; 0 = unlimited
  uint64_t nsBlocks_;
  std::vector<uint8_t> scratch_;  // admin data staging (4 KiB)

  std::mutex vectorMutex_;
  std::vector<int> vectorFds_;

  std::mutex faultMutex_;
  std::deque<FaultRecord> faults_;
  uint64_t faultTotal_ = 0;

  EmuStats stats_;

  std::vector<PendingCompletion> pending_;  // heap
  size_t pendingCount_ = 0;
  uint64_t busyUntil_ = 0;       // throughput model: when the device is free again
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  uint64_t nowCache_ = 0;        // time of the current batch (timing model only)
  std::vector<FaultRule> rules_;
  std::vector<bool> stoppedSq_;
  std::mutex injectMutex_;
  std::vector<FaultRule> injected_;
  std::atomic<bool> injectedPending_{false};
  uint64_t ioSinceCfsRule_ = 0;
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

  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace phyr::emu
