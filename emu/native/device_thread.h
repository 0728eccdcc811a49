// The device thread: polls the controller in a loop and, when there is no work, sleeps in
// growing steps so that an idle controller costs almost no CPU (docs/EMULATOR.md, "How
// the device notices writes, and the wake-up latency").
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
