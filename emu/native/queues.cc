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
  // A reset forgets the Doorbell Buffer Config (the host sends it again after enabling).
  shadowOn_ = false;
  shadowIova_ = eventIova_ = 0;
  shadowPageBytes_ = 0;
  detachShadow();
  for (auto& q : sqs_) q = SubmissionQueue{};
  for (auto& q : cqs_) q = CompletionQueue{};
  // Doorbells read 0 after a reset.
  for (uint32_t i = 0; i < 2 * (queues_ + 1); i++) regs_.setDoorbell(i, 0);
}

void QueueSet::createAdmin(uint64_t asq, uint32_t asqs, uint64_t acq, uint32_t acqs) {
  sqs_[0] = SubmissionQueue{true, asq, asqs, 0, 0, 0, {}};
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
  if (shadowOn_ && fitsShadow(qid)) startShadow(cq.shadow, 2 * qid + 1, 0, size);
  addId(liveCqs_, qid);
}

void QueueSet::createSq(uint32_t qid, uint64_t base, uint32_t size, uint16_t cqid) {
  sqs_[qid] = SubmissionQueue{true, base, size, 0, 0, cqid, {}};
  cqs_[cqid].sqRefs++;
  regs_.setDoorbell(2 * qid, 0);
  if (shadowOn_ && fitsShadow(qid)) startShadow(sqs_[qid].shadow, 2 * qid, 0, size);
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
  pass_++;  // once per pass (the engine's first doorbell read), for publishEventIdx
  uint32_t invalid = 0;
  for (uint16_t q : liveCqs_) {
    if (!takeCqHead(q)) invalid++;
  }
  return invalid;
}

bool QueueSet::takeCqHead(uint16_t q) {
  CompletionQueue& cq = cqs_[q];
  bool fromMmio = true;
  uint32_t head = takeDoorbell(cq.shadow, 2 * q + 1, cq.head, &fromMmio);
  if (head != cq.head) {
    // A head past the entries the device posted is an invalid doorbell write (4.1): keep
    // the old value.
    uint32_t posted = (cq.tail + cq.size - cq.head) % cq.size;
    uint32_t advance = (head + cq.size - cq.head) % cq.size;
    if (head >= cq.size || advance > posted) {
      if (fromMmio) giveBack(cq.shadow, 2 * q + 1, cq.head);
      return false;
    }
    cq.head = head;
  }
  if (!cq.shadow.on || !publishEventIdx(cq.shadow, 2 * q + 1, cq.head, cq.size)) return true;
  // EventIdx changed: the shadow is read again after it (the rule at publishEventIdx).
  return takeCqHead(q);
}

bool QueueSet::readSqDoorbell(uint32_t qid) {
  SubmissionQueue& sq = sqs_[qid];
  bool fromMmio = true;
  uint32_t tail = takeDoorbell(sq.shadow, 2 * qid, sq.tail, &fromMmio);
  if (tail != sq.tail) {
    if (tail >= sq.size) {
      if (fromMmio) giveBack(sq.shadow, 2 * qid, sq.tail);
      return false;
    }
    sq.tail = tail;
  }
  if (!sq.shadow.on || !publishEventIdx(sq.shadow, 2 * qid, sq.tail, sq.size)) return true;
  // EventIdx changed: the shadow is read again after it (the rule at publishEventIdx).
  return readSqDoorbell(qid);
}

// The value doorbell `index` now asks for (`current` when nothing changed): the MMIO
// register for a queue without shadow doorbells, else shadowedValue(). The counters cover
// the IO queues (index 2 and up), which shadow doorbells are for: the admin queue's MMIO
// doorbells go on whatever the configuration.
uint32_t QueueSet::takeDoorbell(ShadowedDoorbell& d, uint32_t index, uint32_t current, bool* fromMmio) {
  if (d.on) return shadowedValue(d, index, current, fromMmio);
  const uint32_t v = regs_.doorbell(index);
  if (v != current && index > 1) bump(counts_.mmio);
  *fromMmio = true;
  return v;
}

// A shadowed doorbell: the host writes every new value into the shadow slot and, when
// EventIdx asks, into the MMIO register too (1.4 §5.7; 2.0 §5.8). A changed shadow slot is
// the newest value: the host stores the shadow before the register, and the shadow is read
// first here, so a register value seen in the same read is never newer than it. A register
// that changed while the slot did not is a host that rang MMIO only: its value is taken, so
// an MMIO doorbell write keeps working after Doorbell Buffer Config.
// Ordering: the slot load is an acquire, pairing with the host's store (release or
// stronger), so the SQEs written before it are visible, as with the register's acquire.
uint32_t QueueSet::shadowedValue(ShadowedDoorbell& d, uint32_t index, uint32_t current, bool* fromMmio) {
  const uint32_t sh = __atomic_load_n(&shadow_[index], __ATOMIC_ACQUIRE);
  const uint32_t mm = regs_.doorbell(index);
  const bool mmioChanged = mm != d.mmioSeen;
  if (mmioChanged) {
    d.mmioSeen = mm;
    bump(counts_.mmio);
  }
  *fromMmio = false;
  if (sh != d.shadowSeen) {
    d.shadowSeen = sh;
    bump(counts_.shadow);
    return sh;
  }
  if (mmioChanged) {
    *fromMmio = true;
    return mm;
  }
  return current;
}

// An invalid register write is given back its old value (only the register: the device
// never writes the host's shadow page).
void QueueSet::giveBack(ShadowedDoorbell& d, uint32_t index, uint32_t value) {
  regs_.setDoorbell(index, value);
  if (d.on) d.mmioSeen = value;
}

// EventIdx (1.4 §5.7): the host writes the MMIO doorbell only when its update moves past
// the EventIdx value (old <= EventIdx < new, modulo 2^16). This device polls the shadow
// page at every pass, so it never needs an MMIO write, and publishes the value no update of
// the host moves past: the slot before the last value it took (tail - 1 for an SQ, head - 1
// for a CQ, in ring order) — the host's next update starts at or after that value and never
// laps the ring past entries the device has not consumed. It does so once it has read the
// value again in a later pass (a read in the same pass follows the first by nanoseconds,
// measured: 6 needless MMIO writes in 800 updates at QD1); at the first read it publishes the slot before the value it took before
// (one update behind): the device can take a value between the host's shadow store and
// its EventIdx load, and the slot before it lies inside that update's interval
// (publishing it at the first read measured ~1 needless MMIO write per 4000 updates). A
// queue whose value changes at every read thus keeps EventIdx one update behind, and the
// host rings only when it gets nearly a ring ahead of that. Values stay queue indices, so
// the host's 16-bit comparison equals the ring's at a wrap too.
// Ordering, the lost-wakeup rule: the host stores its shadow value and then loads
// EventIdx; the device stores EventIdx and then loads the shadow again — both pairs
// sequentially consistent, so at least one side sees the other's store. A host that read
// the old EventIdx (and skipped an MMIO write the new one would have asked for) stored its
// value before that read, so the device's re-read after its own store finds it. Returns
// true when EventIdx changed (the caller then reads the shadow again).
bool QueueSet::publishEventIdx(ShadowedDoorbell& d, uint32_t index, uint32_t value, uint32_t size) {
  uint32_t behind = value;
  if (value != d.taken) {
    behind = d.taken;  // first read: the slot before the value taken before it
    d.taken = value;
    d.takenPass = pass_;
  } else if (d.takenPass == pass_) {
    behind = d.before;  // read again in the same pass: still too soon (below)
  }
  d.before = behind;
  const uint32_t e = behind == 0 ? size - 1 : behind - 1;
  if (e == d.published) return false;
  d.published = e;
  __atomic_store_n(&eventIdx_[index], e, __ATOMIC_SEQ_CST);
  bump(counts_.eventIdx);
  // The re-read that follows must not move before this store (seq_cst store then seq_cst
  // load: store-load order, which acquire and release alone do not give).
  (void)__atomic_load_n(&shadow_[index], __ATOMIC_SEQ_CST);
  return true;
}

// Starts shadowing one doorbell: the slot's and the register's current contents are the
// "seen" values (a slot left over from an earlier queue is not a new value), `current` is
// what the device has taken, and EventIdx is published for it.
void QueueSet::startShadow(ShadowedDoorbell& d, uint32_t index, uint32_t current, uint32_t size) {
  d.on = true;
  d.shadowSeen = __atomic_load_n(&shadow_[index], __ATOMIC_ACQUIRE);
  d.mmioSeen = current;  // a register write not taken yet is still taken at the next read
  d.taken = d.before = current;
  d.takenPass = pass_;
  d.published = current;  // differs from current - 1: the first publish writes
  publishEventIdx(d, index, current, size);
}

void QueueSet::configureShadow(uint64_t shadowIova, uint64_t eventIova, uint32_t pageBytes, uint32_t* shadow,
                               uint32_t* eventIdx) {
  shadowOn_ = true;
  shadowIova_ = shadowIova;
  eventIova_ = eventIova;
  shadowPageBytes_ = pageBytes;
  attachShadow(shadow, eventIdx);
  // Queues created before the command are shadowed from now on (the spec does not limit the
  // command to a controller without IO queues).
  for (uint16_t q : liveSqs_) {
    SubmissionQueue& sq = sqs_[q];
    sq.shadow = ShadowedDoorbell{};
    if (fitsShadow(q)) startShadow(sq.shadow, 2 * q, sq.tail, sq.size);
  }
  for (uint16_t q : liveCqs_) {
    CompletionQueue& cq = cqs_[q];
    cq.shadow = ShadowedDoorbell{};
    if (fitsShadow(q)) startShadow(cq.shadow, 2 * q + 1, cq.head, cq.size);
  }
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
