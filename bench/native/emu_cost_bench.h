// Device-side cost per command: a native loop that plays the driver (SQEs in memory mapped
// into the controller's IOMMU, doorbells in its BAR) and times only the device's work
// (Controller::pollOnce, no device thread), so the figure is the device model's own cost.
#pragma once
#include <cstdint>
#include <string>

#include "spec/nvme.h"

namespace phyr::bench {

struct CostBenchOptions {
  uint64_t commands = 1000000;
  uint32_t batch = 64;        // commands per doorbell (<= queue size - 1)
  uint32_t blockBytes = 4096; // transfer size of reads/writes
  uint8_t opcode = nvme::IO_READ;  // IO_READ, IO_WRITE or IO_FLUSH
  std::string backend = "null";
};

struct CostBenchResult {
  uint64_t commands = 0;
  double deviceNsPerCommand = 0;  // wall time inside pollOnce / commands
  // thread CPU time inside pollOnce / commands: excludes time the thread was descheduled
  // (a loaded machine), includes two clock syscalls per batch
  double deviceCpuNsPerCommand = 0;
  double totalNsPerCommand = 0;   // including the native driver loop
  std::string error;
};

CostBenchResult runCostBench(const CostBenchOptions& o);

}  // namespace phyr::bench
