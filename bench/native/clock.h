// The benchmark's clock: the CPU timestamp counter, calibrated once against
// CLOCK_MONOTONIC. Reading it costs a few ns (vs ~20 ns for clock_gettime through the
// vDSO), which matters at millions of IOs per second with three timestamps per IO.
// Modern x86 CPUs have an invariant TSC (constant rate across frequency changes and
// cores); the calibration measures its rate rather than trusting a nominal frequency.
#pragma once
#include <x86intrin.h>

#include <cstdint>

namespace phyr::bench {

inline uint64_t ticks() { return __rdtsc(); }

// Nanoseconds per tick, measured on first use (about 10 ms, once per process).
double nsPerTick();

// Ticks that reading the TSC twice back to back costs (the smallest of many tries):
// subtracted from short timed intervals so the clock's own cost is not billed to them.
uint64_t tickOverhead();

// Sleeps about `ns` (nanosleep; for waits the job asked for, never per IO).
void sleepNs(uint64_t ns);

// CLOCK_MONOTONIC in ns.
uint64_t monotonicNs();

// Thread CPU time (user, system) in ns, context switches and page faults (major: the
// fault read from storage; minor: resolved in memory), from getrusage(RUSAGE_THREAD).
struct ThreadCpu {
  uint64_t userNs;
  uint64_t systemNs;
  uint64_t contextSwitches;
  uint64_t majorFaults;
  uint64_t minorFaults;
};
ThreadCpu threadCpu();

}  // namespace phyr::bench
