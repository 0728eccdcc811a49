// The device thread: polls the controller in a loop, spins while work is recent (a window
// that grows while a workload keeps coming back) and otherwise sleeps in growing steps, so
// that an idle controller costs almost no CPU (docs/EMULATOR.md, "How the device notices
// writes, and the wake-up latency").
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>

namespace phyr::emu {

/** What the thread drives. */
class Pollable {
 public:
  // One pass; true when it did any work.
  virtual bool pollOnce() = 0;
  // Due time (monotonic ns) of the earliest held completion, or 0 when there is none.
  virtual uint64_t nextPendingDue() const = 0;

 protected:
  ~Pollable() = default;
};

/**
 * When the device thread spins and when it sleeps. It spins (polling) while the last work
 * is younger than the spin window, and sleeps once it is older. The window starts at
 * kSpinMinNs; each time work comes back within kRegrowFactor windows of the last work
 * after the thread went to sleep (a benchmark's job thread that was descheduled, a think
 * time), the window doubles, up to kSpinMaxNs, so a running workload stops paying the
 * wake-up latency; after kDecayNs without work it is back to kSpinMinNs. Past the first
 * kSpinMinNs the spin yields the core at every pass (see yieldWhileSpinning). A thread
 * that finds it lost its core between two passes (kPreemptedNs) takes the window back to
 * kSpinMinNs and keeps it there for kDecayNs: on an oversubscribed machine a longer spin
 * only takes CPU from the job it waits for. Sleeps are 20 us
 * while idle < 10 ms, 200 us while idle < 1 s, then 1 ms. Pure logic (no clock of its
 * own), so it is tested alone.
 */
class IdlePolicy {
 public:
  static constexpr uint64_t kSpinMinNs = 50'000;
  static constexpr uint64_t kSpinMaxNs = 500'000;
  static constexpr uint64_t kRegrowFactor = 4;
  static constexpr uint64_t kDecayNs = 100'000'000;
  // A held completion due within this long is spun for rather than slept past.
  static constexpr uint64_t kDueSpinNs = 100'000;
  // Two passes of a spinning thread this far apart: it lost its core meanwhile (more
  // runnable threads than cores), where spinning only takes CPU from the threads that
  // make the work. The window drops to kSpinMinNs and does not grow for kDecayNs.
  static constexpr uint64_t kPreemptedNs = 200'000;

  explicit IdlePolicy(uint64_t now) : lastWork_(now) {}
  // A pass did work at `now`.
  void workFound(uint64_t now);
  // A pass found no work at `now`; `due` is the earliest held completion (0: none).
  // Returns 0 to keep spinning, else how long to sleep (ns).
  uint64_t sleepFor(uint64_t now, uint64_t due);
  // While spinning: true past the first kSpinMinNs of idle, where the thread yields its
  // core at every pass instead of only pausing, so a thread sharing the core (on a loaded
  // machine, the very job thread it waits for) runs at once rather than after the spin.
  bool yieldWhileSpinning(uint64_t now) const { return now - lastWork_ >= kSpinMinNs; }
  uint64_t spinNs() const { return spinNs_; }

 private:
  // Notes a pass at `now`; returns false when the thread was descheduled since the last.
  bool notePass(uint64_t now);

  uint64_t lastWork_;
  uint64_t lastPass_ = 0;      // 0: unknown (after a sleep)
  uint64_t noGrowUntil_ = 0;   // the window stays small until then (the core was oversubscribed)
  uint64_t spinNs_ = kSpinMinNs;
  bool slept_ = false;  // slept since the last work
};

class DeviceThread {
 public:
  DeviceThread() = default;
  ~DeviceThread() { stop(); }
  DeviceThread(const DeviceThread&) = delete;
  DeviceThread& operator=(const DeviceThread&) = delete;

  // Starts polling `target` (no-op when running). stop() is idempotent and joins.
  void start(Pollable& target);
  void stop();
  bool running() const { return thread_.joinable(); }

 private:
  void run(Pollable& target);

  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace phyr::emu
