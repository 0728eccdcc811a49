#include "emu/native/device_thread.h"

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

void IdlePolicy::workFound(uint64_t now) {
  if (slept_) {
    // Work came back soon after the spin gave up: the workload paused (a descheduled job
    // thread, a think time) rather than stopped, so the next pause is spun through.
    if (now - lastWork_ < kRegrowFactor * spinNs_) spinNs_ = std::min(spinNs_ * 2, kSpinMaxNs);
    slept_ = false;
  }
  lastWork_ = now;
}

uint64_t IdlePolicy::sleepFor(uint64_t now, uint64_t due) {
  const uint64_t idle = now - lastWork_;
  if (idle < spinNs_ || (due && due < now + kDueSpinNs)) return 0;
  // A controller idle this long is no longer in a burst: the window starts small again.
  if (idle >= kDecayNs) spinNs_ = kSpinMinNs;
  slept_ = true;
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
    uint64_t sleepNs = policy.sleepFor(monotonicNs(), target.nextPendingDue());
    if (sleepNs == 0) {
      __builtin_ia32_pause();  // spin: recent work, or a held completion due soon
      continue;
    }
    timespec ts{0, static_cast<long>(sleepNs)};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace phyr::emu
