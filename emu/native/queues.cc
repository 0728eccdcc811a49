// Queue state, doorbells and completion posting (4.1, 4.6 of NVMe Base 1.4).
#include "emu/native/queues.h"

#include <algorithm>
#include <cstdint>

namespace phyr::emu {
using namespace phyr::nvme;

namespace {
// Keeps `ids` ascending and free of duplicates (capacity is reserved: no allocation).
void addId(std::vector<uint16_t>& ids, uint32_t qid) {
  auto it = std::lower_bound(ids.begin(), ids.end(), static_cast<uint16_t>(qid));
  if (it == ids.end() || *it != qid) ids.insert(it, static_cast<uint16_t>(qid));
}
void removeId(std::vector<uint16_t>& ids, uint32_t qid) {
  auto it = std::lower_bound(ids.begin(), ids.end(), static_cast<uint16_t>(qid));
  if (it != ids.end() && *it == qid) ids.erase(it);
}
}  // namespace

QueueSet::QueueSet(RegisterFile& regs, uint32_t queues)
    : regs_(regs), queues_(queues), sqs_(queues + 1), cqs_(queues + 1) {
  irqCqs_.reserve(queues + 1);  // one slot per CQ: posting never allocates
  liveSqs_.reserve(queues + 1);
  liveCqs_.reserve(queues + 1);
}

void QueueSet::reset() {
  irqCqs_.clear();
  liveSqs_.clear();
  liveCqs_.clear();
  line_.count = 0;  // a reset posts nothing more (the engine flushed at its last pass end)
  for (auto& q : sqs_) q = SubmissionQueue{};
  for (auto& q : cqs_) q = CompletionQueue{};
  // Doorbells read 0 after a reset.
  for (uint32_t i = 0; i < 2 * (queues_ + 1); i++) regs_.setDoorbell(i, 0);
}

void QueueSet::createAdmin(uint64_t asq, uint32_t asqs, uint64_t acq, uint32_t acqs) {
  sqs_[0] = SubmissionQueue{true, asq, asqs, 0, 0, 0};
  cqs_[0] = CompletionQueue{};
  cqs_[0].exists = true;
  cqs_[0].base = acq;
  cqs_[0].size = acqs;
  cqs_[0].interrupts = true;
  cqs_[0].sqRefs = 1;
  addId(liveSqs_, 0);
  addId(liveCqs_, 0);
}

void QueueSet::createCq(uint32_t qid, uint64_t base, uint32_t size, bool interrupts, uint16_t vector) {
  CompletionQueue& cq = cqs_[qid];
  cq = CompletionQueue{};
  cq.exists = true;
  cq.base = base;
  cq.size = size;
  cq.interrupts = interrupts;
  cq.vector = vector;
  regs_.setDoorbell(2 * qid + 1, 0);
  addId(liveCqs_, qid);
}

void QueueSet::createSq(uint32_t qid, uint64_t base, uint32_t size, uint16_t cqid) {
  sqs_[qid] = SubmissionQueue{true, base, size, 0, 0, cqid};
  cqs_[cqid].sqRefs++;
  regs_.setDoorbell(2 * qid, 0);
  addId(liveSqs_, qid);
}

void QueueSet::deleteSq(uint32_t qid) {
  cqs_[sqs_[qid].cqid].sqRefs--;
  sqs_[qid] = SubmissionQueue{};
  regs_.setDoorbell(2 * qid, 0);
  removeId(liveSqs_, qid);
}

void QueueSet::deleteCq(uint32_t qid) {
  flushCompletions();  // nothing is written into a queue's memory after it is gone
  cqs_[qid] = CompletionQueue{};
  regs_.setDoorbell(2 * qid + 1, 0);
  removeId(liveCqs_, qid);
}

uint32_t QueueSet::readCqDoorbells() {
  uint32_t invalid = 0;
  for (uint16_t q : liveCqs_) {
    CompletionQueue& cq = cqs_[q];
    uint32_t head = regs_.doorbell(2 * q + 1);
    if (head == cq.head) continue;
    // A head past the entries the device posted is an invalid doorbell write (4.1): keep
    // the old value.
    uint32_t posted = (cq.tail + cq.size - cq.head) % cq.size;
    uint32_t advance = (head + cq.size - cq.head) % cq.size;
    if (head >= cq.size || advance > posted) {
      invalid++;
      regs_.setDoorbell(2 * q + 1, cq.head);
      continue;
    }
    cq.head = head;
  }
  return invalid;
}

bool QueueSet::readSqDoorbell(uint32_t qid) {
  SubmissionQueue& sq = sqs_[qid];
  uint32_t tail = regs_.doorbell(2 * qid);
  if (tail == sq.tail) return true;
  if (tail >= sq.size) {
    regs_.setDoorbell(2 * qid, sq.tail);
    return false;
  }
  sq.tail = tail;
  return true;
}

// Posts a CQE (4.6): staged with its phase bit, written by writeLine() with the others of
// its cache line. The tail advances now, so the CQ's free-slot accounting is exact.
void QueueSet::writeCompletion(uint16_t sqid, uint16_t cid, uint16_t status, uint32_t dw0, uint8_t* slot) {
  SubmissionQueue& sq = sqs_[sqid];
  CompletionQueue& cq = cqs_[sq.cqid];
  // Not the slot after the staged ones (another CQ, a wrap, another mapping): those go first.
  if (line_.count && line_.host + line_.count * CQE_SIZE != slot) writeLine();
  if (!line_.count) line_.host = slot;
  uint32_t* e = line_.dw[line_.count++];
  e[0] = dw0;
  e[1] = 0;
  e[2] = sq.head | static_cast<uint32_t>(sqid) << 16;
  e[3] = cid | (cq.phase ? 1u : 0u) << CQE_PHASE_BIT | static_cast<uint32_t>(status) << CQE_SC_SHIFT;
  if (++cq.tail == cq.size) {
    cq.tail = 0;
    cq.phase = !cq.phase;
  }
  if (cq.interrupts && !cq.irqPending) {
    cq.irqPending = true;
    irqCqs_.push_back(sq.cqid);  // capacity reserved: one slot per CQ
  }
  // The line is full (the next slot starts a new one), or the ring wrapped to slot 0.
  const bool lineEnd = (reinterpret_cast<uintptr_t>(slot + CQE_SIZE) % kLineBytes) == 0;
  if (lineEnd || cq.tail == 0 || line_.count == kCqesPerLine) writeLine();
}

// DW0..DW2 of every staged entry are plain stores, made first; then each entry's DW3, which
// carries the phase bit, is stored with release ordering, so a driver that sees an entry's
// new phase (acquire) sees the whole entry (4.6), and no entry is ever visible half written.
void QueueSet::writeLine() {
  const uint32_t n = line_.count;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t* e = reinterpret_cast<uint32_t*>(line_.host + i * CQE_SIZE);
    e[0] = line_.dw[i][0];
    e[1] = line_.dw[i][1];
    e[2] = line_.dw[i][2];
  }
  for (uint32_t i = 0; i < n; i++) {
    uint32_t* e = reinterpret_cast<uint32_t*>(line_.host + i * CQE_SIZE);
    __atomic_store_n(&e[3], line_.dw[i][3], __ATOMIC_RELEASE);
  }
  line_.count = 0;
  lineWrites_++;
}

void QueueSet::dropInterrupts() {
  for (uint16_t q : irqCqs_) cqs_[q].irqPending = false;
  irqCqs_.clear();
}

}  // namespace phyr::emu
