// Timing model (latency, throughput caps, in-device concurrency), fault injection, Abort,
// Asynchronous Event Requests and the error log: everything that completes a command at a
// different time than when it executes. Device thread only, except inject().
#include <algorithm>
#include <cmath>
#include <cstring>

#include "emu/native/clock.h"
#include "emu/native/controller.h"

namespace phyr::emu {
using namespace phyr::nvme;

void Controller::inject(const FaultRule& rule) {
  if (rule.kind == FaultKind::Remove && rule.after == 0) {
    surpriseRemove();  // synchronous: in effect when inject() returns
    return;
  }
  std::lock_guard<std::mutex> lock(injectMutex_);
  injected_.push_back(rule);
  injectedPending_.store(true, std::memory_order_release);
}

// Applies rules injected at run time; Stop/Resume/Clear act at once, CFS with after=0 too.
void Controller::takeInjected() {
  std::vector<FaultRule> rules;
  {
    std::lock_guard<std::mutex> lock(injectMutex_);
    rules.swap(injected_);
    injectedPending_.store(false, std::memory_order_relaxed);
  }
  for (const FaultRule& r : rules) {
    switch (r.kind) {
      case FaultKind::Clear:
        rules_.clear();
        regs_.setFatalOnEnable(false);
        std::fill(stoppedSq_.begin(), stoppedSq_.end(), false);
        break;
      case FaultKind::Stop:
      case FaultKind::Resume:
        if (r.qid >= 0 && static_cast<uint32_t>(r.qid) < stoppedSq_.size()) stoppedSq_[r.qid] = r.kind == FaultKind::Stop;
        break;
      case FaultKind::Cfs:
        if (r.sticky) regs_.setFatalOnEnable(true);
        if (r.after == 0) {
          regs_.fatal("injected");
          break;
        }
        rules_.push_back(r);
        break;
      case FaultKind::Remove:
        if (r.after == 0) removeNow();  // inject() handles these; kept for completeness
        else rules_.push_back(r);
        break;
      default:
        rules_.push_back(r);
    }
  }
}

// Rules checked before an IO command executes. Returns true when the command must not
// execute (it fails with *out).
bool Controller::applyRuleBefore(FaultRule& r, const Command& cmd, Completion* out) {
  if (r.opcode >= 0 && r.opcode != cmd.opcode) return false;
  if (r.qid >= 0 && r.qid != cmd.sqid) return false;
  switch (r.kind) {
    case FaultKind::Fail:
      if (++r.seen % r.nth != 0) return false;
      out->status = r.status;
      return true;
    case FaultKind::FailLba: {
      if (cmd.opcode != IO_READ && cmd.opcode != IO_WRITE && cmd.opcode != IO_COMPARE && cmd.opcode != IO_VERIFY &&
          cmd.opcode != IO_WRITE_ZEROES)
        return false;
      if (r.nsid && r.nsid != cmd.sqe.nsid) return false;
      uint64_t slba = cmd.sqe.cdw10 | static_cast<uint64_t>(cmd.sqe.cdw11) << 32;
      uint64_t nlb = (cmd.sqe.cdw12 & 0xFFFF) + 1ull;
      if (r.lba < slba || r.lba - slba >= nlb) return false;
      out->status = r.status;
      return true;
    }
    case FaultKind::Cfs:
      if (++r.seen >= r.after) regs_.fatal("injected after N commands");
      return false;
    case FaultKind::Remove:
      // remove:after=N: the Nth IO command from now is fetched as the device disappears; it
      // neither executes nor completes (executeIo defers it: halted).
      if (++r.seen < r.after) return false;
      removeNow();
      return true;
    default:
      return false;
  }
}

uint64_t Controller::sampleLatency() {
  const TimingModel& t = config_.timing;
  auto next = [this] {  // xorshift64*: cheap, deterministic per controller
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return (rng_ * 0x2545F4914F6CDD1Dull) >> 11;  // 53 bits
  };
  switch (t.latency) {
    case TimingModel::Latency::None: return 0;
    case TimingModel::Latency::Fixed: return t.latencyNs;
    case TimingModel::Latency::Uniform: return t.latencyNs + next() % (t.latencyMaxNs - t.latencyNs + 1);
    case TimingModel::Latency::Exponential: {
      double u = (static_cast<double>(next()) + 1.0) / 9007199254740993.0;
      return static_cast<uint64_t>(-std::log(u) * static_cast<double>(t.latencyNs));
    }
  }
  return 0;
}

// Decides when an executed IO command completes: now (the fast path), later (timing model
// or a delay fault), or never (a dropped completion).
Completion Controller::finishIo(Command& cmd, Completion c, uint64_t bytes) {
  uint64_t extraDelay = 0;
  bool drop = false;
  for (FaultRule& r : rules_) {
    if (r.kind != FaultKind::Drop && r.kind != FaultKind::Delay) continue;
    if ((r.opcode >= 0 && r.opcode != cmd.opcode) || (r.qid >= 0 && r.qid != cmd.sqid)) continue;
    if (++r.seen % r.nth != 0) continue;
    if (r.kind == FaultKind::Drop) drop = true;
    else extraDelay += r.delayNs;
  }
  if (drop) {
    queues_.cqOf(cmd.sqid).reserved--;  // its CQ slot is never used
    c.deferred = true;
    return c;
  }
  const TimingModel& t = config_.timing;
  if (!t.active() && extraDelay == 0) return c;
  uint64_t now = monotonicNs();
  uint64_t service = 0;
  if (t.iops) service = 1000000000ull / t.iops;
  if (t.bandwidth) service = std::max<uint64_t>(service, bytes * 1000000000ull / t.bandwidth);
  uint64_t start = std::max(now, busyUntil_);
  busyUntil_ = start + service;
  uint64_t due = std::max(now + sampleLatency(), busyUntil_) + extraDelay;
  pending_.push_back(PendingCompletion{due, cmd.sqid, cmd.cid, c});
  std::push_heap(pending_.begin(), pending_.end());
  __atomic_store_n(&pendingCount_, pending_.size(), __ATOMIC_RELAXED);
  c.deferred = true;
  return c;
}

uint64_t Controller::nextPendingDue() const { return pending_.empty() ? 0 : pending_.front().due; }

bool Controller::completeDue(uint64_t now) {
  bool any = false;
  while (!pending_.empty() && pending_.front().due <= now && !regs_.halted()) {
    std::pop_heap(pending_.begin(), pending_.end());
    PendingCompletion p = pending_.back();
    pending_.pop_back();
    any = true;
    if (!queues_.sq(p.sqid).exists) continue;  // answered when its queue was deleted
    queues_.cqOf(p.sqid).reserved--;
    if (!postCompletion(p.sqid, p.cid, p.c)) break;
  }
  queues_.flushCompletions();
  __atomic_store_n(&pendingCount_, pending_.size(), __ATOMIC_RELAXED);
  return any;
}

// Completes every held-back command of `sqid` at once with `status` (queue deletion).
void Controller::abortPendingOf(uint16_t sqid, uint16_t status) {
  auto it = std::remove_if(pending_.begin(), pending_.end(), [&](const PendingCompletion& p) {
    if (p.sqid != sqid) return false;
    queues_.cqOf(sqid).reserved--;
    postCompletion(sqid, p.cid, Completion{status, 0});
    return true;
  });
  pending_.erase(it, pending_.end());
  std::make_heap(pending_.begin(), pending_.end());
  __atomic_store_n(&pendingCount_, pending_.size(), __ATOMIC_RELAXED);
}

// Abort (5.1): a command held in the device completes now with Command Abort Requested; a
// command still in its SQ is marked and completes that way when fetched. False when the
// command is not found (already completed, or never submitted).
bool Controller::abortCommand(uint16_t sqid, uint16_t cid) {
  const uint16_t aborted = makeStatus(SCT_GENERIC, SC_ABORTED_BY_REQUEST, false);
  for (size_t i = 0; i < pending_.size(); i++) {
    if (pending_[i].sqid != sqid || pending_[i].cid != cid) continue;
    queues_.cqOf(sqid).reserved--;
    postCompletion(sqid, cid, Completion{aborted, 0});
    pending_.erase(pending_.begin() + static_cast<long>(i));
    std::make_heap(pending_.begin(), pending_.end());
    __atomic_store_n(&pendingCount_, pending_.size(), __ATOMIC_RELAXED);
    return true;
  }
  SubmissionQueue& sq = queues_.sq(sqid);
  for (uint32_t i = sq.head; i != sq.tail; i = i + 1 == sq.size ? 0 : i + 1) {
    uint64_t avail = 0;
    const uint8_t* p = memory_.translate(sq.base + static_cast<uint64_t>(i) * SQE_SIZE, SQE_SIZE, false, &avail);
    if (!p || avail != SQE_SIZE) return false;
    uint32_t cdw0;
    std::memcpy(&cdw0, p, 4);
    if ((cdw0 >> 16) == cid) {
      abortRequests_.emplace_back(sqid, cid);
      return true;
    }
  }
  return false;
}

void Controller::recordError(const Command& cmd, uint16_t status) {
  errorCount_++;
  if ((status >> STATUS_SCT_SHIFT & STATUS_SCT_MASK) == SCT_MEDIA) mediaErrors_++;
  if (errorLog_.size() == 64) errorLog_.pop_back();
  uint64_t lba = cmd.sqe.cdw10 | static_cast<uint64_t>(cmd.sqe.cdw11) << 32;
  errorLog_.push_front(ErrorEntry{errorCount_, cmd.sqid, cmd.cid, status, lba, cmd.sqe.nsid});
}

// Asynchronous events (5.2): completes an outstanding AER, or queues the event for the next.
void Controller::asyncEvent(uint8_t type, uint8_t info, uint8_t logPage) {
  uint32_t dw0 = type | static_cast<uint32_t>(info) << 8 | static_cast<uint32_t>(logPage) << 16;
  if (aers_.empty() || !queues_.sq(0).exists) {
    if (aerQueued_.size() < 16) aerQueued_.push_back(dw0);
    return;
  }
  uint16_t cid = aers_.front();
  aers_.erase(aers_.begin());
  queues_.cq(0).reserved--;
  postCompletion(0, cid, Completion{0, dw0});
}

}  // namespace phyr::emu
