// Queue pair data plane. Ordering rules (NVMe 1.4 §4.1, §4.6):
// - An SQE is written in full before the SQ tail doorbell: the doorbell store is a
//   release, so the device observing the new tail also observes the entries.
// - A CQE is new when its phase tag equals the expected phase; the phase word is loaded
//   with acquire so the rest of the entry is read only after the device published it.
// - The CQ head doorbell is a release store after the entries were consumed, so the
//   device never overwrites an entry still being read.
#include "drivers/nvme/native/queue_pair.h"

#include <cstring>

#include "drivers/nvme/native/prp.h"
#include "drivers/nvme/native/sgl.h"

namespace phyr::nvme {

const char* submitResultName(SubmitResult r) {
  switch (r) {
    case SubmitResult::Ok: return "ok";
    case SubmitResult::QueueFull: return "queue-full";
    case SubmitResult::NeedListPages: return "need-list-pages";
    case SubmitResult::Bounce: return "bounce";
    case SubmitResult::Reject: return "reject";
    case SubmitResult::Invalid: return "invalid";
    case SubmitResult::Exclusive: return "exclusive";
  }
  return "unknown";
}

// List pages for one tracker: its own page first, then spare pages chained to it.
class QueuePair::TrackerPages final : public ListPageSource {
 public:
  TrackerPages(QueuePair& qp, uint32_t t) : qp_(qp), t_(t) {}
  bool take(ListPage* out) override {
    if (!usedOwn_) {
      usedOwn_ = true;
      *out = qp_.pages_[t_];
      return true;
    }
    if (qp_.spare_.empty()) return false;
    const uint32_t p = qp_.spare_.back();
    qp_.spare_.pop_back();
    qp_.pageNext_[p] = qp_.trackers_[t_].extraPages;
    qp_.trackers_[t_].extraPages = p;
    qp_.stats_.extraListPages++;
    *out = qp_.pages_[p];
    return true;
  }

 private:
  QueuePair& qp_;
  uint32_t t_;
  bool usedOwn_ = false;
};

QueuePair* QueuePair::create(const QueueConfig& cfg, const QueueMemory& mem, const char** why) {
  const uint32_t ps = cfg.caps.pageSize;
  if (ps < 4096 || (ps & (ps - 1)) != 0) {
    *why = "the memory page size must be a power of two of at least 4096";
  } else if (cfg.qsize < 2 || cfg.qsize > 65536) {
    *why = "the queue size must be 2 .. 65536 entries";
  } else if (!cfg.sqTailDoorbell || !cfg.cqHeadDoorbell) {
    *why = "both doorbells are needed";
  } else if (!mem.sq || !mem.cq || (reinterpret_cast<uintptr_t>(mem.sq) & 7) != 0 ||
             (reinterpret_cast<uintptr_t>(mem.cq) & 7) != 0) {
    *why = "the SQ and CQ rings need 8-byte aligned memory";
  } else if (mem.sqIova % ps != 0 || mem.cqIova % ps != 0) {
    *why = "the SQ and CQ device addresses must be memory-page aligned (NVMe 1.4 §4.1)";
  } else if (!mem.lists || (reinterpret_cast<uintptr_t>(mem.lists) & 7) != 0 || mem.listsIova % ps != 0) {
    *why = "list pages need 8-byte aligned memory at a page-aligned device address";
  } else {
    const uint32_t cap = std::min(cfg.qsize - 1, cfg.qsize - cfg.qsize / 4);
    if (mem.listPages < cap) {
      *why = "one list page per tracker is needed (qsize - qsize/4 pages)";
    } else {
      return new QueuePair(cfg, mem);
    }
  }
  return nullptr;
}

QueuePair::QueuePair(const QueueConfig& cfg, const QueueMemory& mem) : cfg_(cfg), mem_(mem) {
  const uint32_t cap = std::min(cfg.qsize - 1, cfg.qsize - cfg.qsize / 4);
  trackers_.assign(cap, Tracker{0, 0, 0, kNone, 0, 0, 0, false});
  held_.assign(cap, false);
  free_.reserve(cap);
  for (uint32_t i = cap; i-- > 0;) free_.push_back(i);  // CID 0 is handed out first
  pages_.reserve(mem.listPages);
  pageNext_.assign(mem.listPages, kNone);
  for (uint32_t p = 0; p < mem.listPages; p++) {
    pages_.push_back({mem.lists + static_cast<size_t>(p) * cfg.caps.pageSize, mem.listsIova + uint64_t{p} * cfg.caps.pageSize});
    if (p >= cap) spare_.push_back(p);
  }
}

bool QueuePair::addListPages(uint8_t* cpu, uint64_t iova, uint32_t count) {
  const uint32_t ps = cfg_.caps.pageSize;
  if (!cpu || (reinterpret_cast<uintptr_t>(cpu) & 7) != 0 || iova % ps != 0 || count == 0) return false;
  for (uint32_t i = 0; i < count; i++) {
    spare_.push_back(static_cast<uint32_t>(pages_.size()));
    pages_.push_back({cpu + static_cast<size_t>(i) * ps, iova + uint64_t{i} * ps});
    pageNext_.push_back(kNone);
  }
  return true;
}

// Inlined: on the per-IO path, and a call costs as much as its body.
[[gnu::always_inline]] inline uint32_t QueuePair::popTracker() {
  const uint32_t t = free_.back();
  free_.pop_back();
  Tracker& tr = trackers_[t];
  tr.extraPages = kNone;
  tr.epoch = epoch_;
  tr.status = 0;
  tr.dw0 = 0;
  tr.pending = 0;
  held_[t] = true;
  return t;
}

// Marks tracker `t` (fresh from popTracker) in flight for the command `userData`, as a
// child of `leader` (itself when the command is not split): the leader counts its
// children still to complete, so its completion is reported once the last one lands.
// Inlined: on the per-IO path, and a call costs as much as its body.
[[gnu::always_inline]] inline void QueuePair::startTracker(uint32_t t, uint32_t leader, uint64_t userData) {
  Tracker& tr = trackers_[t];
  tr.userData = userData;
  tr.leader = leader;
  tr.inFlight = true;
  trackers_[leader].pending++;
}

void QueuePair::releasePages(uint32_t t) {
  for (uint32_t p = trackers_[t].extraPages; p != kNone;) {
    const uint32_t next = pageNext_[p];
    spare_.push_back(p);
    p = next;
  }
  trackers_[t].extraPages = kNone;
}

// Inlined: on the per-IO path, and a call costs as much as its body.
[[gnu::always_inline]] inline void QueuePair::freeTracker(uint32_t t) {
  if (trackers_[t].extraPages != kNone) releasePages(t);
  trackers_[t].inFlight = false;
  held_[t] = false;
  free_.push_back(t);
}

// Inlined: on the per-IO path, and a call costs as much as its body.
[[gnu::always_inline]] inline void QueuePair::writeSqe(Sqe& sqe) {
  // Field by field, each read as wide as it was written: GCC compiled the one 64-byte
  // memcpy to `rep movsl`, and a vectorised copy reads the 4- and 8-byte stores that just
  // built the SQE with 16-byte loads (a store-forwarding stall); either was a fifth of a
  // loopback IO's CPU time. The volatile view keeps the reads at their own widths. Same
  // bytes, all before the doorbell's release store.
  Sqe* slot = reinterpret_cast<Sqe*>(mem_.sq + static_cast<size_t>(sqTail_) * sizeof(Sqe));
  const volatile Sqe& from = sqe;
  slot->cdw0 = from.cdw0;
  slot->nsid = from.nsid;
  slot->cdw2 = from.cdw2;
  slot->cdw3 = from.cdw3;
  slot->mptr = from.mptr;
  slot->dptr1 = from.dptr1;
  slot->dptr2 = from.dptr2;
  slot->cdw10 = from.cdw10;
  slot->cdw11 = from.cdw11;
  slot->cdw12 = from.cdw12;
  slot->cdw13 = from.cdw13;
  slot->cdw14 = from.cdw14;
  slot->cdw15 = from.cdw15;
  if (++sqTail_ == cfg_.qsize) sqTail_ = 0;
  stats_.submitted++;
}

namespace {
void encodeLba(Sqe& sqe, uint64_t slba, uint32_t blocks, uint32_t cdw12Extra) {
  sqe.cdw10 = static_cast<uint32_t>(slba);
  sqe.cdw11 = static_cast<uint32_t>(slba >> 32);
  sqe.cdw12 = (blocks ? blocks - 1 : 0) | cdw12Extra;  // NLB is 0's based (NVMe 1.4 §6.9)
}
}  // namespace

SubmitOutcome QueuePair::submit(const IoCommand& cmd) {
  SubmitOutcome out{SubmitResult::Ok, {DptrFormat::Prp, DptrReason::PrpSglUnsupported, 1}, DptrError::None};
  Sqe sqe{};
  sqe.nsid = cmd.nsid;
  sqe.cdw13 = cmd.cdw13;
  if (cmd.rawCdw) {
    sqe.cdw10 = static_cast<uint32_t>(cmd.slba);
    sqe.cdw11 = static_cast<uint32_t>(cmd.slba >> 32);
    sqe.cdw12 = cmd.cdw12Extra;
  } else {
    encodeLba(sqe, cmd.slba, cmd.blocks, cmd.cdw12Extra);
  }
  if (cmd.dataCount == 0) {
    // No data pointer (Flush, Write Zeroes, ...).
    if (free_.empty()) return {SubmitResult::QueueFull, out.decision, DptrError::None};
    const uint32_t t = popTracker();
    startTracker(t, t, cmd.userData);
    sqe.cdw0 = cmd.opcode | t << 16;
    writeSqe(sqe);
    out.decision.children = 1;
    return out;
  }
  const uint64_t transfer = cmd.dataBytes ? cmd.dataBytes : uint64_t{cmd.blocks} * cmd.lbaSize;
  const uint64_t discard = uint64_t{cmd.buckets.head} + cmd.buckets.tail;
  if (transfer == 0 || discard >= transfer || cmd.lbaSize == 0) {
    return {SubmitResult::Invalid, out.decision, DptrError::Empty};
  }
  const uint64_t dataLen = transfer - discard;
  const PhyrEntry& e0 = cmd.data[0];
  const DptrCaps& caps = cfg_.caps;
  const uint64_t nlbLimit = 65536ull * cmd.lbaSize;  // NLB is a 16-bit field
  // Fast path: one range, small enough for one command, host memory, dword-aligned —
  // always PRP-able; what `decide` would answer, without walking anything.
  if (cmd.dataCount == 1 && discard == 0 && e0.len >= dataLen && (e0.addr & 3) == 0 && (e0.flags & kPhyr_CMB) == 0 &&
      (caps.maxTransfer == 0 || dataLen <= caps.maxTransfer) && dataLen <= nlbLimit &&
      (caps.sglSupport == 0 || (dataLen < caps.sglThreshold && !caps.preferSgl))) {
    if (free_.empty()) return {SubmitResult::QueueFull, out.decision, DptrError::None};
    out.decision.reason = caps.sglSupport == 0 ? DptrReason::PrpSglUnsupported : DptrReason::PrpSmallSegments;
    const uint32_t t = popTracker();
    // One dword-aligned range within at most two memory pages needs no list: PRP1 is the
    // address (offset allowed), PRP2 the second page or 0 (NVMe 1.4 §4.3) — what
    // buildPrp writes for it, without walking the array. Longer ranges take a list page.
    const uint64_t pageMask = ~static_cast<uint64_t>(caps.pageSize - 1);
    const uint64_t firstPage = e0.addr & pageMask;
    const uint64_t lastPage = (e0.addr + dataLen - 1) & pageMask;
    if (lastPage - firstPage <= caps.pageSize) {
      sqe.dptr1 = e0.addr;
      sqe.dptr2 = lastPage != firstPage ? lastPage : 0;
    } else {
      const PhyrSlice s{cmd.data, 1, 0, dataLen};
      TrackerPages pages(*this, t);
      uint32_t used;
      const DptrError err = buildPrp(s, caps.pageSize, pages, &sqe.dptr1, &sqe.dptr2, &used);
      if (err != DptrError::None) {
        freeTracker(t);
        return {err == DptrError::NoListPages ? SubmitResult::NeedListPages : SubmitResult::Invalid, out.decision, err};
      }
    }
    startTracker(t, t, cmd.userData);
    sqe.cdw0 = cmd.opcode | t << 16;
    writeSqe(sqe);
    return out;
  }
  if (phyrTotalBytes(cmd.data, cmd.dataCount) < dataLen) {
    return {SubmitResult::Invalid, out.decision, DptrError::OutOfBounds};
  }
  DptrRequest req;
  req.data = PhyrSlice{cmd.data, cmd.dataCount, 0, dataLen};
  req.lbaSize = cmd.lbaSize;
  req.buckets = cmd.buckets;
  DptrCaps limited = caps;
  if (limited.maxTransfer == 0 || limited.maxTransfer > nlbLimit) limited.maxTransfer = nlbLimit;
  const DptrDecision d = decide(req, limited);
  out.decision = d;
  if (d.format == DptrFormat::Bounce) return {SubmitResult::Bounce, d, DptrError::None};
  if (d.format == DptrFormat::Reject) return {SubmitResult::Reject, d, DptrError::None};
  if (d.children > 1 && cmd.rawCdw) return {SubmitResult::Reject, d, DptrError::None};
  if (d.children > free_.size()) return {SubmitResult::QueueFull, d, DptrError::None};
  // SQ slots past the rung tail are ours until the doorbell: children are written
  // straight into the ring and, if one cannot be built (no list page), the tail is
  // rewound and every tracker returned, leaving the queue as it was.
  const uint32_t startTail = sqTail_;
  uint32_t first = kNone;
  uint64_t pos = 0;
  for (uint32_t n = 0; n < d.children; n++) {
    const DptrChild c = nextChild(req, limited, pos);
    const uint32_t t = popTracker();
    if (first == kNone) first = t;
    startTracker(t, first, cmd.userData);
    Sqe child = sqe;
    if (!cmd.rawCdw && d.children > 1) {
      encodeLba(child, cmd.slba + pos / cmd.lbaSize, static_cast<uint32_t>(c.length / cmd.lbaSize), cmd.cdw12Extra);
    }
    const PhyrSlice s{cmd.data, cmd.dataCount, pos, c.length};
    TrackerPages pages(*this, t);
    uint32_t used;
    uint32_t psdt = PSDT_PRP;
    DptrError err;
    if (c.format == DptrFormat::Sgl) {
      err = buildSgl(s, caps, cmd.buckets, pages, &child.dptr1, &child.dptr2, &used);
      psdt = PSDT_SGL_MPTR_CONTIG;
    } else {
      err = buildPrp(s, caps.pageSize, pages, &child.dptr1, &child.dptr2, &used);
    }
    if (err != DptrError::None) {
      for (uint32_t i = 0; i < capacity(); i++) {
        if (held_[i] && trackers_[i].leader == first && i != first) freeTracker(i);
      }
      freeTracker(first);
      stats_.submitted -= (sqTail_ + cfg_.qsize - startTail) % cfg_.qsize;
      sqTail_ = startTail;
      return {err == DptrError::NoListPages ? SubmitResult::NeedListPages : SubmitResult::Invalid, d, err};
    }
    child.cdw0 = cmd.opcode | psdt << PSDT_SHIFT | t << 16;
    writeSqe(child);
    pos += c.length;
  }
  return out;
}

int QueuePair::submitRaw(const Sqe& sqe, const PhyrEntry* data, uint32_t count, uint64_t bytes, uint64_t userData) {
  if (free_.empty()) return -1;
  const uint32_t t = popTracker();
  Sqe copy = sqe;
  if (count != 0) {
    TrackerPages pages(*this, t);
    uint32_t used;
    const PhyrSlice s{data, count, 0, bytes};
    if (bytes == 0 || phyrTotalBytes(data, count) < bytes ||
        buildPrp(s, cfg_.caps.pageSize, pages, &copy.dptr1, &copy.dptr2, &used) != DptrError::None) {
      freeTracker(t);
      return -2;
    }
  }
  startTracker(t, t, userData);
  // Admin commands always use PRP: PSDT cleared (NVMe 1.4 §4.2).
  copy.cdw0 = (copy.cdw0 & 0x3FFFu) | t << 16;
  writeSqe(copy);
  return static_cast<int>(t);
}

void QueuePair::ringSubmit() {
  if (sqTail_ == sqTailRung_) return;
  sqTailRung_ = sqTail_;
  if (cfg_.sqShadow.shadow) {
    stats_.shadowUpdates++;
    if (!publishShadow(cfg_.sqShadow, sqTail_)) return;
  }
  // Release: every SQE written above is visible before the device sees the new tail.
  __atomic_store_n(cfg_.sqTailDoorbell, sqTail_, __ATOMIC_RELEASE);
  stats_.doorbells++;
}

// Inlined: on the per-IO path, and a call costs as much as its body.
[[gnu::always_inline]] inline bool QueuePair::complete(uint32_t cid, uint16_t status, uint32_t dw0, Completion* out) {
  if (cid >= capacity() || !trackers_[cid].inFlight) {
    stats_.spurious++;
    return false;
  }
  Tracker& tr = trackers_[cid];
  tr.inFlight = false;
  const uint32_t l = tr.leader;
  Tracker& lead = trackers_[l];
  if (status != 0 && lead.status == 0) lead.status = status;  // the first error wins
  if (cid == l) lead.dw0 = dw0;
  if (cid != l) freeTracker(cid);
  if (--lead.pending != 0) return false;
  *out = Completion{lead.userData, lead.dw0, lead.status, 0};
  freeTracker(l);
  return true;
}

// Inlined: on the per-IO path, and a call costs as much as its body.
[[gnu::always_inline]] inline void QueuePair::publishCqHead() {
  cqUnreported_ = 0;
  if (cfg_.cqShadow.shadow) {
    stats_.shadowUpdates++;
    if (!publishShadow(cfg_.cqShadow, cqHead_)) return;
  }
  // Release: the entries were read before the device may reuse their slots.
  __atomic_store_n(cfg_.cqHeadDoorbell, cqHead_, __ATOMIC_RELEASE);
  stats_.doorbells++;
}

uint32_t QueuePair::poll(Completion* out, uint32_t max) {
  uint32_t consumed = 0, written = 0;
  auto* ring = reinterpret_cast<Cqe*>(mem_.cq);
  while (consumed < max) {
    Cqe* c = &ring[cqHead_];
    // Acquire: the phase tag is the device's publish flag for the whole entry.
    const uint32_t dw3 = __atomic_load_n(&c->dw3, __ATOMIC_ACQUIRE);
    if (((dw3 >> CQE_PHASE_BIT) & 1u) != phase_) break;
    const uint32_t dw0 = c->dw0;
    if (++cqHead_ == cfg_.qsize) {
      cqHead_ = 0;
      phase_ ^= 1u;  // the expected phase flips on every wrap (NVMe 1.4 §4.6)
    }
    consumed++;
    if (complete(dw3 & 0xFFFFu, static_cast<uint16_t>(dw3 >> CQE_SC_SHIFT), dw0, &out[written])) written++;
  }
  if (consumed != 0) {
    stats_.completed += consumed;
    // With setCqHeadLag, up to cqDeferMax_ consumed entries stay unpublished (see there).
    cqUnreported_ += consumed;
    if (cqUnreported_ > cqDeferMax_) publishCqHead();
  }
  return written;
}

void QueuePair::setCqHeadLag(bool on) {
  const uint32_t cap = capacity();
  cqDeferMax_ = on && cfg_.qid != 0 ? cfg_.qsize - 1 - cap : 0;
  if (!on && cqUnreported_ != 0) publishCqHead();
}

uint32_t QueuePair::cancelAll(Completion* out, uint32_t max, uint16_t status) {
  uint32_t written = 0;
  for (uint32_t l = 0; l < capacity() && written < max; l++) {
    if (!held_[l] || trackers_[l].leader != l) continue;
    out[written++] = Completion{trackers_[l].userData, 0, status, kCompletionCancelled};
    for (uint32_t i = 0; i < capacity(); i++) {
      if (i != l && held_[i] && trackers_[i].leader == l) freeTracker(i);
    }
    freeTracker(l);
  }
  if (outstanding() == 0) {
    // The controller forgot the queues: start over as if freshly created.
    sqTail_ = sqTailRung_ = cqHead_ = cqUnreported_ = 0;
    phase_ = 1;
    std::memset(mem_.cq, 0, static_cast<size_t>(cfg_.qsize) * sizeof(Cqe));
  }
  return written;
}

uint32_t QueuePair::expired(uint32_t age, uint64_t* userData, uint16_t* cids, uint32_t max) const {
  uint32_t n = 0;
  for (uint32_t t = 0; t < capacity() && n < max; t++) {
    if (trackers_[t].inFlight && epoch_ - trackers_[t].epoch >= age) {
      userData[n] = trackers_[t].userData;
      cids[n++] = static_cast<uint16_t>(t);
    }
  }
  return n;
}

uint32_t QueuePair::cidsOf(uint64_t userData, uint16_t* cids, uint32_t max) const {
  uint32_t n = 0;
  for (uint32_t t = 0; t < capacity() && n < max; t++) {
    if (trackers_[t].inFlight && trackers_[t].userData == userData) cids[n++] = static_cast<uint16_t>(t);
  }
  return n;
}

}  // namespace phyr::nvme
