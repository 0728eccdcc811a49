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

// Poll the BAR; after kSpinNs without work, sleep in growing steps so an idle controller
// costs almost no CPU. Wake-up latency (time from a doorbell write to the device noticing
// it) is therefore: ~0 while busy or within 50 us of the last work; up to ~20 us
// (+ scheduler wake-up) within 10 ms; up to ~200 us within 1 s; up to ~1 ms after.
void DeviceThread::run(Pollable& target) {
  prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us timer slack: short sleeps stay short
  constexpr uint64_t kSpinNs = 50'000;
  uint64_t lastWork = monotonicNs();
  while (!stopping_.load(std::memory_order_acquire)) {
    if (target.pollOnce()) {
      lastWork = monotonicNs();
      continue;
    }
    uint64_t now = monotonicNs();
    uint64_t idle = now - lastWork;
    uint64_t due = target.nextPendingDue();
    if (idle < kSpinNs || (due && due < now + 100'000)) {
      __builtin_ia32_pause();  // spin: recent work, or a held completion due within 100 us
      continue;
    }
    uint64_t sleepNs = idle < 10'000'000 ? 20'000 : idle < 1'000'000'000 ? 200'000 : 1'000'000;
    if (due) sleepNs = std::min<uint64_t>(sleepNs, due - now - 50'000);
    timespec ts{0, static_cast<long>(sleepNs)};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace phyr::emu
