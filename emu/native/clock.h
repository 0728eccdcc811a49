// The device's clock: CLOCK_MONOTONIC in nanoseconds (timing model due times, the idle
// policy of the device thread, the SMART log's power-on hours).
#pragma once
#include <time.h>

#include <cstdint>

namespace phyr::emu {
inline uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace phyr::emu
