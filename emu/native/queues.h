// Submission and completion queue state (4.1) and what the device does with it that needs
// no command knowledge: reading and checking doorbells, reserving CQ slots, writing a CQE
// with its phase bit, and the list of CQs owed an interrupt. Addresses are IOVAs: the
// caller translates them (IOMMU or CMB) and passes host pointers. Device thread only.
#pragma once
#include <cstdint>
#include <vector>

#include "emu/native/registers.h"

namespace phyr::emu {

struct SubmissionQueue {
  bool exists = false;
  uint64_t base = 0;  // IOVA of entry 0
  uint32_t size = 0;
  uint32_t head = 0;
  uint32_t tail = 0;  // last valid tail doorbell value seen
  uint16_t cqid = 0;

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
};

}  // namespace phyr::emu
