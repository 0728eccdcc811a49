// Submission and completion queue state (4.1) and what the device does with it that needs
// no command knowledge: reading and checking doorbells, reserving CQ slots, writing a CQE
// with its phase bit, and the list of CQs owed an interrupt. Addresses are IOVAs: the
// caller translates them (IOMMU or CMB) and passes host pointers. Device thread only.
#pragma once
#include <cstdint>
#include <vector>

#include "emu/native/registers.h"
#include "emu/native/stats.h"

namespace phyr::emu {

// One doorbell of an IO queue while shadow doorbells are configured (Doorbell Buffer Config,
// NVMe 1.4 §5.7, 2.0 §5.8): the device takes the host's value from the shadow page, or from
// the MMIO register when only that changed, and publishes EventIdx (queues.cc).
struct ShadowedDoorbell {
  bool on = false;
  uint32_t shadowSeen = 0;  // the shadow slot's value at the device's last read
  uint32_t mmioSeen = 0;    // the MMIO register's value at the device's last read
  uint32_t taken = 0;       // the value at the device's last read (EventIdx: publishEventIdx)
  uint32_t takenPass = 0;   // the pass that first read it
  uint32_t before = 0;      // the value EventIdx was last derived from
  uint32_t published = 0;   // the EventIdx value last written
};

struct SubmissionQueue {
  bool exists = false;
  uint64_t base = 0;  // IOVA of entry 0
  uint32_t size = 0;
  uint32_t head = 0;
  uint32_t tail = 0;  // last valid tail doorbell value seen
  uint16_t cqid = 0;
  ShadowedDoorbell shadow;

  uint32_t next(uint32_t slot) const { return slot + 1 == size ? 0 : slot + 1; }
  uint64_t entryIova(uint32_t slot) const { return base + static_cast<uint64_t>(slot) * nvme::SQE_SIZE; }
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
  ShadowedDoorbell shadow;

  // A command may be fetched only when its completion has a free slot to go to, so the CQ
  // never overruns: posted + reserved + this one must leave one slot empty (4.1).
  bool hasRoom() const {
    uint32_t used = tail >= head ? tail - head : tail + size - head;  // no division
    return used + reserved + 1 < size;
  }
  uint64_t tailIova() const { return base + static_cast<uint64_t>(tail) * nvme::CQE_SIZE; }
};

class QueueSet {
 public:
  // Queue ids 0 (admin) .. `queues`; doorbells live in `regs`.
  QueueSet(RegisterFile& regs, uint32_t queues);

  uint32_t lastId() const { return queues_; }
  SubmissionQueue& sq(uint32_t qid) { return sqs_[qid]; }
  CompletionQueue& cq(uint32_t qid) { return cqs_[qid]; }
  CompletionQueue& cqOf(uint32_t sqid) { return cqs_[sqs_[sqid].cqid]; }

  // Every queue gone, every doorbell 0 (controller reset).
  void reset();
  void createAdmin(uint64_t asq, uint32_t asqs, uint64_t acq, uint32_t acqs);
  // IO queues (5.3-5.7); the admin command has checked its fields. A queue created or
  // deleted starts with its doorbell at 0, whatever the driver stored there before.
  void createCq(uint32_t qid, uint64_t base, uint32_t size, bool interrupts, uint16_t vector);
  void createSq(uint32_t qid, uint64_t base, uint32_t size, uint16_t cqid);
  void deleteSq(uint32_t qid);
  void deleteCq(uint32_t qid);

  // The ids of the queues that exist, ascending: a pass reads only their doorbells, so its
  // cost follows the queues in use, not the queues= the controller offers. Index them (an
  // admin command run by the pass may create or delete one; the storage never moves).
  const std::vector<uint16_t>& liveSqs() const { return liveSqs_; }

  // Takes every CQ head doorbell; returns how many were invalid writes (given back their
  // old value).
  uint32_t readCqDoorbells();
  // Takes SQ `qid`'s tail doorbell; false when it was an invalid write (given back).
  bool readSqDoorbell(uint32_t qid);

  // Shadow doorbells (Doorbell Buffer Config, NVMe 1.4 §5.7, 2.0 §5.8). The two pages are
  // named by IOVA; the engine translates them under the IOMMU lock at the start of every
  // pass that reads doorbells and hands the host pointers in with attachShadow(), valid
  // until detachShadow() at the end of that pass (an unmap can only happen between passes).
  // configureShadow() also starts shadowing every IO queue that exists already; queues
  // created later are shadowed from their creation. The admin queue never is. A queue whose
  // slots fall outside the page (qid > pageBytes / 8 - 1 with stride 4) keeps MMIO only.
  void configureShadow(uint64_t shadowIova, uint64_t eventIova, uint32_t pageBytes, uint32_t* shadow, uint32_t* eventIdx);
  bool shadowConfigured() const { return shadowOn_; }
  uint64_t shadowIova() const { return shadowIova_; }
  uint64_t eventIdxIova() const { return eventIova_; }
  uint32_t shadowPageBytes() const { return shadowPageBytes_; }
  void attachShadow(uint32_t* shadow, uint32_t* eventIdx) {
    shadow_ = shadow;
    eventIdx_ = eventIdx;
  }
  void detachShadow() { attachShadow(nullptr, nullptr); }
  // IO queue doorbell updates the device saw, by where it saw them (sampled: several writes
  // between two reads count once), and the EventIdx entries it wrote. Relaxed loads (any thread).
  uint64_t mmioDoorbellUpdates() const { return __atomic_load_n(&counts_.mmio, __ATOMIC_RELAXED); }
  uint64_t shadowDoorbellUpdates() const { return __atomic_load_n(&counts_.shadow, __ATOMIC_RELAXED); }
  uint64_t eventIdxWrites() const { return __atomic_load_n(&counts_.eventIdx, __ATOMIC_RELAXED); }

  // Posts the CQE for (sqid, cid) into `slot` (the translated tailIova() of its CQ),
  // advances the tail and notes the CQ for the next interrupt pass. Entries that share one
  // 64-byte cache line (4 of the 16-byte CQEs) are written together, so the line moves to
  // the host once rather than once per entry: the entry is staged, and the staged entries
  // are written when the line is full, when the next entry goes to another line or queue,
  // or at flushCompletions().
  void writeCompletion(uint16_t sqid, uint16_t cid, uint16_t status, uint32_t dw0, uint8_t* slot);
  // Writes the staged entries now. The engine calls it at the end of every SQ's batch and
  // of every pass, so no completion ever waits for a later command (QD1 latency).
  void flushCompletions() {
    if (line_.count) writeLine();
  }
  // Completions staged and not yet visible to the host (tests).
  uint32_t stagedCompletions() const { return line_.count; }
  // Times a run of staged entries was written (tests: how many lines the posts took).
  uint64_t lineWrites() const { return lineWrites_; }

  // Interrupt pass: calls signal(vector) once per CQ with entries posted since the last
  // pass and interrupts enabled; drop instead forgets them (a removed device).
  template <typename Signal>
  void drainInterrupts(Signal signal) {
    for (uint16_t q : irqCqs_) {
      CompletionQueue& cq = cqs_[q];
      cq.irqPending = false;
      if (cq.exists) signal(cq.vector);
    }
    irqCqs_.clear();
  }
  bool interruptsOwed() const { return !irqCqs_.empty(); }
  void dropInterrupts();
  void forgetInterrupts() { irqCqs_.clear(); }

 private:
  RegisterFile& regs_;
  const uint32_t queues_;
  std::vector<SubmissionQueue> sqs_;
  std::vector<CompletionQueue> cqs_;
  std::vector<uint16_t> irqCqs_;  // CQs with entries posted since the last interrupt pass
  std::vector<uint16_t> liveSqs_, liveCqs_;  // ids of the existing queues, ascending

  // The staged entries: consecutive slots of one CQ within one cache line.
  static constexpr uint32_t kLineBytes = 64;
  static constexpr uint32_t kCqesPerLine = kLineBytes / nvme::CQE_SIZE;
  struct StagedLine {
    uint8_t* host = nullptr;  // the first staged slot
    uint32_t count = 0;
    uint32_t dw[kCqesPerLine][4];
  };
  void writeLine();
  StagedLine line_;
  uint64_t lineWrites_ = 0;

  // Shadow doorbells.
  bool fitsShadow(uint32_t qid) const { return qid != 0 && (2 * qid + 1) * 4 + 4 <= shadowPageBytes_; }
  void startShadow(ShadowedDoorbell& d, uint32_t index, uint32_t current, uint32_t size);
  uint32_t shadowedValue(ShadowedDoorbell& d, uint32_t index, uint32_t current, bool* fromMmio);
  uint32_t takeDoorbell(ShadowedDoorbell& d, uint32_t index, uint32_t current, bool* fromMmio);
  void giveBack(ShadowedDoorbell& d, uint32_t index, uint32_t value);
  bool publishEventIdx(ShadowedDoorbell& d, uint32_t index, uint32_t value, uint32_t size);
  bool takeCqHead(uint16_t q);
  bool shadowOn_ = false;
  uint64_t shadowIova_ = 0, eventIova_ = 0;
  uint32_t shadowPageBytes_ = 0;
  uint32_t pass_ = 0;             // passes (readCqDoorbells calls), for EventIdx timing
  uint32_t* shadow_ = nullptr;    // this pass's host view of the shadow page (attachShadow)
  uint32_t* eventIdx_ = nullptr;  // and of the EventIdx page
  struct {
    uint64_t mmio = 0, shadow = 0, eventIdx = 0;
  } counts_;
};

}  // namespace phyr::emu
