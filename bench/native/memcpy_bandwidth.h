// The machine's memory-copy bandwidth, measured the simple way (large memcpy between two
// buffers bigger than the last-level cache), so data-moving benchmark rows can be stated as
// a fraction of what this machine can physically copy.
#pragma once
#include <cstddef>
#include <cstdint>

namespace phyr::bench {

struct MemcpyBandwidth {
  double bytesPerSecond;  // best of the runs
  uint64_t bytesCopied;   // total over all runs
  double seconds;         // total time spent copying
};

// Copies `bufferBytes` repeatedly for about `millis` ms; returns the best pass's rate.
MemcpyBandwidth measureMemcpyBandwidth(size_t bufferBytes, uint32_t millis);

}  // namespace phyr::bench
