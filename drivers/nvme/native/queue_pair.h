// One NVMe submission/completion queue pair driven from user space: the data plane.
//
// Usable from any native code (the JS binding in queue_pair_napi.cc, or a benchmark's
// own thread through unwrapQueuePair). Not thread-safe: one thread drives a queue pair at
// a time; acquireExclusive() marks it taken so the JS side refuses to touch it meanwhile.
//
// Memory: the SQ ring, CQ ring and list pages live in DMA memory the caller allocated and
// mapped (the driver's pool); this class never allocates on the IO path.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "drivers/nvme/native/dptr_policy.h"
#include "drivers/nvme/native/shadow_doorbell.h"
#include "spec/nvme.h"
#include "spec/phyr.h"

namespace phyr::nvme {

// DMA memory of a queue pair: CPU view and device address of each part.
struct QueueMemory {
  uint8_t* sq = nullptr;  // qsize × 64 bytes, page-aligned IOVA
  uint64_t sqIova = 0;
  uint8_t* cq = nullptr;  // qsize × 16 bytes, page-aligned IOVA
  uint64_t cqIova = 0;
  uint8_t* lists = nullptr;  // listPages × pageSize: one per tracker, the rest spare
  uint64_t listsIova = 0;
  uint32_t listPages = 0;
};

struct QueueConfig {
  uint16_t qid = 0;
  uint32_t qsize = 0;                  // entries in each ring, 2 .. 65536
  uint32_t* sqTailDoorbell = nullptr;  // in BAR0
  uint32_t* cqHeadDoorbell = nullptr;
  // Shadow doorbells (Doorbell Buffer Config) for an IO queue; both null = MMIO only.
  ShadowDoorbell sqShadow{};
  ShadowDoorbell cqShadow{};
  DptrCaps caps{};
};

// One IO command as native callers describe it.
struct IoCommand {
  uint8_t opcode = 0;
  bool rawCdw = false;  // cdw10/cdw11 below are sent as given (no SLBA / NLB encoding)
  uint32_t nsid = 0;
  uint64_t slba = 0;    // or cdw10 | cdw11 << 32 when rawCdw
  uint32_t blocks = 0;  // logical blocks (1-based); 0 = the command has no NLB field
  uint32_t lbaSize = 512;
  const PhyrEntry* data = nullptr;  // the phyr array holding the data (may be longer)
  uint32_t dataCount = 0;
  uint64_t dataBytes = 0;  // bytes to transfer; 0 = blocks × lbaSize
  uint32_t cdw12Extra = 0; // ORed into CDW12 (e.g. FUA bit 30, DEAC bit 25)
  uint32_t cdw13 = 0;
  SglBuckets buckets{};
  uint64_t userData = 0;   // returned with the completion
};

// A finished command (all children of a split done). status is the CQE's 15-bit status
// field (SC 7:0, SCT 10:8, CRD 12:11, M 13, DNR 14); 0 = success.
struct Completion {
  uint64_t userData;
  uint32_t dw0;
  uint16_t status;
  uint16_t flags;  // kCompletionCancelled: never completed by the controller (reset)
};
constexpr uint16_t kCompletionCancelled = 1;

enum class SubmitResult : uint8_t {
  Ok = 0,
  QueueFull,       // not enough free trackers now: reap, then retry
  NeedListPages,   // not enough spare list pages: add pages (addListPages), then retry
  Bounce,          // the data cannot be described in place: copy through pool memory
  Reject,          // the data can never be sent as given (reason says why)
  Invalid,         // malformed command (buffer shorter than the transfer, zero length...)
  Exclusive,       // driven by another thread (acquireExclusive)
};
const char* submitResultName(SubmitResult r);

struct SubmitOutcome {
  SubmitResult result;
  DptrDecision decision;
  DptrError error;  // for Invalid / NeedListPages
};

// Counters for reports and tests.
struct QueueStats {
  uint64_t submitted = 0;     // SQEs written
  uint64_t completed = 0;     // CQEs consumed
  uint64_t doorbells = 0;     // SQ tail + CQ head MMIO writes
  uint64_t shadowUpdates = 0; // shadow doorbell writes (an MMIO write followed only when EventIdx asked)
  uint64_t spurious = 0;      // CQEs naming a CID not in flight (ignored)
  uint64_t extraListPages = 0;// list pages taken beyond a tracker's own
};

class QueuePair {
 public:
  // Validates config and memory; on failure returns nullptr and a sentence in *why.
  static QueuePair* create(const QueueConfig& cfg, const QueueMemory& mem, const char** why);

  uint16_t qid() const { return cfg_.qid; }
  uint32_t qsize() const { return cfg_.qsize; }
  // Most commands in flight at once: qsize − qsize/4 (and below qsize), so the CQ can
  // never overrun however late completions are reaped.
  uint32_t capacity() const { return static_cast<uint32_t>(trackers_.size()); }
  uint32_t outstanding() const { return capacity() - static_cast<uint32_t>(free_.size()); }
  const QueueStats& stats() const { return stats_; }
  const DptrCaps& caps() const { return cfg_.caps; }

  // Writes the command's SQE(s) (several for a split). The doorbell is not rung: call
  // ringSubmit() once after a batch.
  SubmitOutcome submit(const IoCommand& cmd);
  // Submits a prepared SQE (admin path). CID is filled in; when data is given, PRP1/PRP2
  // are built from it (admin commands always use PRP). Returns the CID or -1 when full
  // (or -2 when the data is not PRP-able / lacks list pages).
  int submitRaw(const Sqe& sqe, const PhyrEntry* data, uint32_t count, uint64_t bytes, uint64_t userData);
  // Writes the SQ tail doorbell if the tail moved since the last ring.
  void ringSubmit();
  // Reaps up to `max` CQEs, writes finished commands to `out`, returns how many were
  // written; publishes the CQ head (shadow and/or doorbell) once if anything was consumed —
  // or, with setCqHeadLag(true), once more were consumed than the ring's spare entries hold.
  uint32_t poll(Completion* out, uint32_t max);
  // For a polled IO queue (no interrupt vector) driven by one loop, e.g. the benchmark's:
  // the CQ head may lag the consumed entries by up to qsize − 1 − capacity(). At most
  // capacity() commands are ever in flight, so the controller can still post every one of
  // them and never sees a full queue (full is head = tail + 1, NVMe 1.4 §4.1); each head
  // doorbell not written is an exit saved on an emulated controller. Off by default: with
  // an interrupt vector a controller may hold back its next message until the head shows
  // every entry consumed (the interrupt status of NVMe 1.4 §7.5.1.1). Turning it off
  // publishes a lagging head at once. The admin queue (qid 0) never lags.
  void setCqHeadLag(bool on);

  // After the controller was reset: completes every command in flight with `status` and
  // kCompletionCancelled (up to max; call again while it returns max), then, when none
  // is left, rewinds both rings to their initial state for re-creation.
  uint32_t cancelAll(Completion* out, uint32_t max, uint16_t status);

  // Timeout support without clock reads on the IO path: tick() advances an epoch the
  // caller drives from a timer; commands submitted `age` or more epochs ago are listed.
  void tick() { epoch_++; }
  uint32_t expired(uint32_t age, uint64_t* userData, uint16_t* cids, uint32_t max) const;
  // CIDs currently in flight for a command's userData (several for a split).
  uint32_t cidsOf(uint64_t userData, uint16_t* cids, uint32_t max) const;

  // Adds spare list pages (page-aligned IOVA, pageSize each) for long PRP lists / SGLs.
  bool addListPages(uint8_t* cpu, uint64_t iova, uint32_t count);
  uint32_t spareListPages() const { return static_cast<uint32_t>(spare_.size()); }

  // Exclusive use by one native thread; JS entry points refuse while taken.
  bool acquireExclusive() { return !exclusive_.exchange(true, std::memory_order_acquire); }
  void releaseExclusive() { exclusive_.store(false, std::memory_order_release); }
  bool exclusive() const { return exclusive_.load(std::memory_order_acquire); }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  struct Tracker {
    uint64_t userData;
    uint32_t leader;     // tracker index of the first child (itself when not split)
    uint32_t pending;    // on a leader: children not yet completed
    uint32_t extraPages; // head of this tracker's chain of extra list pages
    uint32_t epoch;
    uint32_t dw0;
    uint16_t status;
    bool inFlight;
  };
  class TrackerPages;

  QueuePair(const QueueConfig& cfg, const QueueMemory& mem);
  uint32_t popTracker();
  void startTracker(uint32_t t, uint32_t leader, uint64_t userData);
  void releasePages(uint32_t t);
  void freeTracker(uint32_t t);
  void writeSqe(Sqe& sqe);
  SubmitOutcome submitChildren(const IoCommand& cmd, const DptrRequest& req, const DptrDecision& d);
  bool complete(uint32_t cid, uint16_t status, uint32_t dw0, Completion* out);
  void publishCqHead();

  QueueConfig cfg_;
  QueueMemory mem_;
  std::vector<Tracker> trackers_;
  std::vector<uint8_t> held_;    // tracker taken (in flight, or a leader awaiting children)
  std::vector<uint32_t> free_;   // LIFO: the most recently freed tracker is reused first (warm cache)
  std::vector<ListPage> pages_;  // all list pages: [0, capacity) belong to trackers
  std::vector<uint32_t> spare_;  // indices of spare pages
  std::vector<uint32_t> pageNext_;
  uint32_t sqTail_ = 0;
  uint32_t sqTailRung_ = 0;
  uint32_t cqUnreported_ = 0;  // CQEs consumed since the CQ head was last published
  uint32_t cqDeferMax_ = 0;    // how many may stay unpublished (setCqHeadLag: the ring's spare entries)
  uint32_t cqHead_ = 0;
  uint32_t phase_ = 1;
  uint32_t epoch_ = 0;
  QueueStats stats_;
  std::atomic<bool> exclusive_{false};
};

}  // namespace phyr::nvme
