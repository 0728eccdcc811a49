// The polling engine (4.1, 4.6 of NVMe Base 1.4): one pass over registers and doorbells,
// fetching commands, executing them, posting their completions and signalling vectors.
// Device thread only (or the only thread, when tests poll by hand).
#include <cstring>

#include "emu/native/clock.h"
#include "emu/native/controller.h"

namespace phyr::emu {
using namespace phyr::nvme;

bool Controller::pollOnce() {
  // Acquire: pairs with surpriseRemove()'s release; a removed device reads no register,
  // runs no command, posts no completion and signals no vector again.
  if (removed_.load(std::memory_order_acquire)) return removedPass();
  bool work = regs_.poll(*this);
  // No DMA at all while Bus Master Enable is clear: commands wait in their queues.
  if (injectedPending_.load(std::memory_order_acquire)) {
    takeInjected();
    work = true;
  }
  if (!regs_.enabled() || regs_.halted() || !configSpace_.busMaster()) return work;
  return processQueues() || work;
}

// An invalid doorbell write (4.1): counted, and reported as an error event.
void Controller::invalidDoorbell() {
  bump(stats_.invalidDoorbells);
  asyncEvent(0, 1, LOG_ERROR);  // error event: invalid doorbell write value
}

bool Controller::processQueues() {
  // Most passes of a spinning device find nothing new: the doorbells are read first (BAR
  // memory, no lock), and the IOMMU lock is taken only when there is something to fetch,
  // post or report. With shadow doorbells the doorbells are in host memory, reached through
  // the IOMMU: the lock is taken first and the two pages translated, every pass.
  std::unique_lock<std::mutex> lock(iommu_->mutex, std::defer_lock);
  ShadowPass shadowPass{queues_};
  if (queues_.shadowConfigured()) {
    lock.lock();
    if (!attachShadowPages()) return true;
  }
  uint32_t invalid = queues_.readCqDoorbells();
  const std::vector<uint16_t>& live = queues_.liveSqs();
  bool ready = false;
  for (uint16_t q : live) {
    if (!queues_.readSqDoorbell(q)) invalid++;
    const SubmissionQueue& sq = queues_.sq(q);
    ready = ready || (sq.head != sq.tail && !stoppedSq_[q]);
  }
  if (!invalid && !ready && pending_.empty()) return false;
  if (!lock.owns_lock()) lock.lock();  // once per batch, not per access
  for (; invalid > 0; invalid--) invalidDoorbell();
  bool work = false;
  if (!pending_.empty()) work = completeDue(monotonicNs());
  // The removal flag is checked per queue too (relaxed: it only ends this pass sooner; the
  // pass-start acquire in pollOnce() is what the ordering rests on), so a removal injected
  // during a long pass does not wait for every queue's batch.
  // Only the queues that exist (by index: an admin command of this pass may create or
  // delete one, which at worst moves a queue's turn to the next pass).
  for (size_t i = 0; i < live.size() && !regs_.halted() && !removed_.load(std::memory_order_relaxed); i++) {
    const uint16_t q = live[i];
    SubmissionQueue& sq = queues_.sq(q);
    if (!queues_.readSqDoorbell(q)) invalidDoorbell();  // a write since the look above
    if (sq.head != sq.tail && !stoppedSq_[q]) work |= processSq(static_cast<uint16_t>(q), 256) > 0;
  }
  // Every staged entry is written here at the latest: under the IOMMU lock (the slots were
  // translated under it, and an unmap waits for it), and before the interrupt announcing it.
  queues_.flushCompletions();
  if (work) signalInterrupts();
  return work;
}

// The shadow doorbell and EventIdx pages of this pass (IOMMU lock held): the shadow page
// must be readable and the EventIdx page writable by the device. A page the host unmapped
// (or made inaccessible) while they are configured is a fault the device cannot recover
// from, like an SQ it cannot fetch: logged, and CSTS.CFS.
bool Controller::attachShadowPages() {
  const uint32_t page = queues_.shadowPageBytes();
  auto* shadow = reinterpret_cast<uint32_t*>(iommu_->translateWholeLocked(queues_.shadowIova(), page, false));
  auto* eventIdx = reinterpret_cast<uint32_t*>(iommu_->translateWholeLocked(queues_.eventIdxIova(), page, true));
  if (shadow && eventIdx) {
    queues_.attachShadow(shadow, eventIdx);
    return true;
  }
  if (!shadow) memory_.fault(queues_.shadowIova(), page, false, FaultSite::ShadowDoorbell, nullptr);
  else memory_.fault(queues_.eventIdxIova(), page, true, FaultSite::ShadowDoorbell, nullptr);
  regs_.fatal("shadow doorbell page fault");
  return false;
}

uint32_t Controller::processSq(uint16_t sqid, uint32_t budget) {
  // Registers the driver wrote before this doorbell are visible now (the doorbell load was
  // an acquire): pick up a CMB window change before running the commands that rely on it.
  regs_.syncCmb();
  // Bus Master Enable again, after the doorbell's acquire: a config write that cleared it
  // before this doorbell was rung must stop these commands (on a real bus the non-posted
  // config write completes before the doorbell write is issued).
  if (!configSpace_.busMaster()) return 0;
  // Likewise rules injected before this doorbell (e.g. clear, then read) apply to it.
  if (injectedPending_.load(std::memory_order_acquire)) {
    takeInjected();
    if (regs_.halted() || stoppedSq_[sqid]) return 0;
  }
  SubmissionQueue& sq = queues_.sq(sqid);
  uint32_t done = 0;
  while (sq.head != sq.tail && done < budget && !regs_.halted()) {
    CompletionQueue& cq = queues_.cq(sq.cqid);
    // Fetch only when the completion has a free slot to go to, so the CQ never overruns.
    if (!cq.hasRoom()) break;
    if (config_.timing.inflight && sqid != ADMIN_QID && pending_.size() >= config_.timing.inflight) break;
    Command cmd;
    uint64_t iova = sq.entryIova(sq.head);
    uint64_t avail = 0;
    const uint8_t* p = memory_.translate(iova, SQE_SIZE, false, &avail);
    if (!p || avail != SQE_SIZE) {
      memory_.fault(iova, SQE_SIZE, false, FaultSite::SqFetch, nullptr);
      regs_.fatal("SQ fetch fault");
      break;
    }
    std::memcpy(&cmd.sqe, p, sizeof cmd.sqe);
    sq.head = sq.next(sq.head);
    cmd.sqid = sqid;
    cmd.cid = static_cast<uint16_t>(cmd.sqe.cdw0 >> 16);
    cmd.opcode = static_cast<uint8_t>(cmd.sqe.cdw0);
    cq.reserved++;
    bump(stats_.commands);
    Completion c;
    if (!abortRequests_.empty() && takeAbortRequest(sqid, cmd.cid)) {
      c.status = makeStatus(SCT_GENERIC, SC_ABORTED_BY_REQUEST, false);
    } else if (!answerInjected(cmd, &c)) {
      c = sqid == ADMIN_QID ? executeAdmin(cmd) : executeIo(cmd);
    }
    if (c.status) {
      bump(stats_.errors);
      recordError(cmd, c.status);
    }
    if (c.deferred) {  // completes later; its CQ slot stays reserved
      done++;
      continue;
    }
    cq.reserved--;
    if (!postCompletion(sqid, cmd.cid, c)) break;
    done++;
  }
  // Entries of one batch share cache lines; the batch's last ones are written now, never
  // held for a later command.
  queues_.flushCompletions();
  return done;
}

// An Answer fault rule (faults.h) replaces the command's execution with its completion.
bool Controller::answerInjected(const Command& cmd, Completion* out) {
  for (FaultRule& r : rules_) {
    if (!answerMatches(r, cmd.sqe, cmd.sqid) || ++r.seen % r.nth != 0) continue;
    out->status = r.status;
    out->dw0 = r.result;
    return true;
  }
  return false;
}

// Posts a CQE (4.6) into the slot at the CQ's tail, translated like any device write; a
// slot the device cannot reach is a fatal controller status.
bool Controller::postCompletion(uint16_t sqid, uint16_t cid, const Completion& c) {
  uint64_t iova = queues_.cqOf(sqid).tailIova();
  uint64_t avail = 0;
  uint8_t* p = memory_.translate(iova, CQE_SIZE, true, &avail);
  if (!p || avail != CQE_SIZE) {
    memory_.fault(iova, CQE_SIZE, true, FaultSite::CqPost, nullptr);
    regs_.fatal("CQ post fault");
    return false;
  }
  queues_.writeCompletion(sqid, cid, c.status, c.dw0, p);
  return true;
}

void Controller::signalInterrupts() {
  if (!queues_.interruptsOwed()) return;
  // A device removed during this pass raises no interrupt for it (acquire: pairs with
  // surpriseRemove()'s release; the vectors' eventfds stay open until close).
  if (removed_.load(std::memory_order_acquire)) {
    queues_.dropInterrupts();
    return;
  }
  MsixVectors::Batch batch(vectors_);  // one lock for the pass
  queues_.drainInterrupts([&](uint16_t vector) {
    if (batch.signal(vector)) bump(stats_.interrupts);
  });
}

bool Controller::takeAbortRequest(uint16_t sqid, uint16_t cid) {
  for (size_t i = 0; i < abortRequests_.size(); i++) {
    if (abortRequests_[i].first == sqid && abortRequests_[i].second == cid) {
      abortRequests_.erase(abortRequests_.begin() + static_cast<long>(i));
      return true;
    }
  }
  return false;
}

}  // namespace phyr::emu
