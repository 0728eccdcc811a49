#include "bench/native/clock.h"

#include <sys/resource.h>

#include <cerrno>
#include <ctime>
#include <mutex>

namespace phyr::bench {

uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

double nsPerTick() {
  static std::once_flag once;
  static double value = 1.0;
  std::call_once(once, [] {
    const uint64_t n0 = monotonicNs();
    const uint64_t t0 = ticks();
    uint64_t n1;
    do n1 = monotonicNs();
    while (n1 - n0 < 10'000'000);
    const uint64_t t1 = ticks();
    if (t1 > t0) value = static_cast<double>(n1 - n0) / static_cast<double>(t1 - t0);
  });
  return value;
}

uint64_t tickOverhead() {
  static std::once_flag once;
  static uint64_t value = 0;
  std::call_once(once, [] {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 1000; i++) {
      const uint64_t a = ticks();
      const uint64_t b = ticks();
      if (b - a < best) best = b - a;
    }
    value = best;
  });
  return value;
}

ThreadCpu threadCpu() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  auto ns = [](const timeval& tv) { return static_cast<uint64_t>(tv.tv_sec) * 1000000000ull + static_cast<uint64_t>(tv.tv_usec) * 1000ull; };
  return {ns(ru.ru_utime), ns(ru.ru_stime), static_cast<uint64_t>(ru.ru_nvcsw + ru.ru_nivcsw),
          static_cast<uint64_t>(ru.ru_majflt), static_cast<uint64_t>(ru.ru_minflt)};
}

void sleepNs(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace phyr::bench
