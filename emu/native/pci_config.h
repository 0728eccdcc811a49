// The embedded controller's PCI side: its configuration space (a type 0 header with an
// MSI-X capability) and its MSI-X vectors, which are eventfds the driver watches.
// Neither knows anything of NVMe.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "spec/pci.h"

namespace phyr::emu {

/** Config space (4 KiB). Read and written from the driver's thread; the device thread
 * reads only Bus Master Enable, through busMaster(). */
class ConfigSpace {
 public:
  // `msixVectors`: the MSI-X table size; `bar2`: a CMB is exposed as BAR2.
  ConfigSpace(uint32_t msixVectors, bool bar2);
  ConfigSpace(const ConfigSpace&) = delete;
  ConfigSpace& operator=(const ConfigSpace&) = delete;

  uint32_t read(uint32_t offset, uint32_t size) const;
  void write(uint32_t offset, uint32_t size, uint32_t value);
  // Bus Master Enable gates every DMA of the device (PCI 3.0 §6.2.2). Acquire: pairs with
  // the release in write(), so a device pass that sees it clear does no DMA after it.
  bool busMaster() const { return busMaster_.load(std::memory_order_acquire); }

 private:
  uint8_t bytes_[pci::CFG_SPACE_SIZE] = {};
  std::atomic<bool> busMaster_{false};
  mutable std::mutex mutex_;
};

/** The interrupt vectors: one eventfd per enabled MSI-X vector, owned by the device. */
class MsixVectors {
 public:
  MsixVectors() = default;
  ~MsixVectors();
  MsixVectors(const MsixVectors&) = delete;
  MsixVectors& operator=(const MsixVectors&) = delete;

  // Creates `count` eventfds (replacing earlier ones) out of a table of `tableSize`;
  // returns them, or an empty vector with *error set.
  std::vector<int> enable(uint32_t count, uint32_t tableSize, std::string* error);

  /** One interrupt pass: holds the vector lock while it signals (device thread). */
  class Batch {
   public:
    explicit Batch(MsixVectors& v) : v_(v), lock_(v.mutex_) {}
    // True when `vector` is enabled and its eventfd was signalled.
    bool signal(uint16_t vector);

   private:
    MsixVectors& v_;
    std::lock_guard<std::mutex> lock_;
  };

 private:
  std::mutex mutex_;
  std::vector<int> fds_;
};

}  // namespace phyr::emu
