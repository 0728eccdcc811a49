#include "bench/native/memcpy_bandwidth.h"

#include <cstring>
#include <ctime>
#include <memory>

namespace phyr::bench {
namespace {
double nowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

MemcpyBandwidth measureMemcpyBandwidth(size_t bufferBytes, uint32_t millis) {
  MemcpyBandwidth r{0, 0, 0};
  if (bufferBytes == 0) return r;
  std::unique_ptr<uint8_t[]> src(new uint8_t[bufferBytes]);
  std::unique_ptr<uint8_t[]> dst(new uint8_t[bufferBytes]);
  // Touch both buffers first so page faults are not timed.
  std::memset(src.get(), 0x5a, bufferBytes);
  std::memset(dst.get(), 0, bufferBytes);
  const double deadline = nowSeconds() + millis / 1000.0;
  do {
    const double t0 = nowSeconds();
    std::memcpy(dst.get(), src.get(), bufferBytes);
    const double dt = nowSeconds() - t0;
    // Keep the copy observable so it is not optimised away.
    src[dst[bufferBytes / 2] & 1] ^= 1;
    r.bytesCopied += bufferBytes;
    r.seconds += dt;
    if (dt > 0 && bufferBytes / dt > r.bytesPerSecond) r.bytesPerSecond = static_cast<double>(bufferBytes) / dt;
  } while (nowSeconds() < deadline);
  return r;
}

}  // namespace phyr::bench
