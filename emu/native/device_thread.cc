#include "emu/native/device_thread.h"

#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>

#include "emu/native/clock.h"

namespace phyr::emu {

void DeviceThread::start(Pollable& target) {
  if (thread_.joinable()) return;
  stopping_.store(false);
  thread_ = std::thread([this, &target] { run(target); });
}

void DeviceThread::stop() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

bool IdlePolicy::notePass(uint64_t now) {
  const bool ran = lastPass_ == 0 || now - lastPass_ < kPreemptedNs;
  lastPass_ = now;
  if (!ran) {
    spinNs_ = kSpinMinNs;
    noGrowUntil_ = now + kDecayNs;
  }
  return ran;
}

void IdlePolicy::workFound(uint64_t now) {
  notePass(now);
  if (slept_ && now < noGrowUntil_) slept_ = false;
  if (slept_) {
    // Work came back soon after the spin gave up: the workload paused (a descheduled job
    // thread, a think time) rather than stopped, so the next pause is spun through.
    if (now - lastWork_ < kRegrowFactor * spinNs_) spinNs_ = std::min(spinNs_ * 2, kSpinMaxNs);
    slept_ = false;
  }
  lastWork_ = now;
}

uint64_t IdlePolicy::sleepFor(uint64_t now, uint64_t due) {
  notePass(now);
  const uint64_t idle = now - lastWork_;
  if (idle < spinNs_ || (due && due < now + kDueSpinNs)) return 0;
  // A controller idle this long is no longer in a burst: the window starts small again.
  if (idle >= kDecayNs) spinNs_ = kSpinMinNs;
  slept_ = true;
  lastPass_ = 0;  // the sleep is not a lost core
  uint64_t sleepNs = idle < 10'000'000 ? 20'000 : idle < 1'000'000'000 ? 200'000 : 1'000'000;
  if (due) sleepNs = std::min<uint64_t>(sleepNs, due - now - 50'000);
  return sleepNs;
}

// Poll the BAR; spin while work was recent (IdlePolicy), then sleep in growing steps so an
// idle controller costs almost no CPU (docs/EMULATOR.md, the wake-up latency).
void DeviceThread::run(Pollable& target) {
  prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us timer slack: short sleeps stay short
  IdlePolicy policy(monotonicNs());
  while (!stopping_.load(std::memory_order_acquire)) {
    if (target.pollOnce()) {
      policy.workFound(monotonicNs());
      continue;
    }
    const uint64_t now = monotonicNs();
    uint64_t sleepNs = policy.sleepFor(now, target.nextPendingDue());
    if (sleepNs == 0) {  // spin: recent work, or a held completion due soon
      if (policy.yieldWhileSpinning(now)) sched_yield();
      else __builtin_ia32_pause();
      continue;
    }
    timespec ts{0, static_cast<long>(sleepNs)};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace phyr::emu
