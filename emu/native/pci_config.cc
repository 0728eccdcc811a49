// PCI configuration space and MSI-X vectors of the embedded controller.
#include "emu/native/pci_config.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon/eventfd/eventfd_ops.h"

namespace phyr::emu {

namespace {
// PCI identity of the embedded controller (a project-local placeholder vendor/device id);
// its class code is the NVMe one (spec/pci.h CLASS_NVME). The MSI-X capability sits right
// after the 64-byte header.
constexpr uint16_t kPciVendor = 0x1234;
constexpr uint16_t kPciDevice = 0x5845;
constexpr uint32_t kPciMsixCapOffset = 0x40;
// The writable bits of the MSI-X Message Control high byte (enable, function mask) and
// the read-only ones (table size 10:8).
constexpr uint8_t kMsixCtrlHighWritable = (pci::MSIX_CTRL_ENABLE | pci::MSIX_CTRL_FUNCTION_MASK) >> 8;
constexpr uint8_t kMsixCtrlHighReadOnly = pci::MSIX_CTRL_TABLE_SIZE_MASK >> 8;

void closeAll(const std::vector<int>& fds) {
  for (int fd : fds) {
    eventfd::disown(fd);
    close(fd);
  }
}
}  // namespace

// PCI 3.0 header type 0 + an MSI-X capability.
ConfigSpace::ConfigSpace(uint32_t msixVectors, bool bar2) {
  uint8_t* cs = bytes_;
  auto put16 = [cs](uint32_t off, uint16_t v) { std::memcpy(cs + off, &v, 2); };
  auto put32 = [cs](uint32_t off, uint32_t v) { std::memcpy(cs + off, &v, 4); };
  put16(pci::CFG_VENDOR_ID, kPciVendor);
  put16(pci::CFG_DEVICE_ID, kPciDevice);
  put16(pci::CFG_STATUS, pci::STATUS_CAP_LIST);
  put32(pci::CFG_CLASS_REVISION, pci::CLASS_NVME << 8);
  put32(pci::CFG_BAR0, pci::BAR_MEM_64);
  put16(pci::CFG_SUBSYSTEM_VENDOR_ID, kPciVendor);
  put16(pci::CFG_SUBSYSTEM_ID, kPciDevice);
  cs[pci::CFG_CAPABILITY_LIST] = kPciMsixCapOffset;
  cs[kPciMsixCapOffset + pci::CAP_ID] = pci::CAP_ID_MSIX;
  put16(kPciMsixCapOffset + pci::MSIX_CTRL, static_cast<uint16_t>(msixVectors - 1));
  if (bar2) put32(pci::CFG_BAR2, pci::BAR_MEM_64 | pci::BAR_PREFETCHABLE);
}

uint32_t ConfigSpace::read(uint32_t offset, uint32_t size) const {
  std::lock_guard<std::mutex> lock(mutex_);
  uint32_t v = 0;
  std::memcpy(&v, bytes_ + offset, size);
  return v;
}

void ConfigSpace::write(uint32_t offset, uint32_t size, uint32_t value) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Only the command register and the MSI-X enable/mask bits are writable; other writes
  // are dropped, as read-only PCI registers do.
  for (uint32_t i = 0; i < size; i++) {
    uint32_t off = offset + i;
    uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    if (off == pci::CFG_COMMAND) {
      bytes_[off] = byte & (pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
    } else if (off == pci::CFG_COMMAND + 1) {
      bytes_[off] = byte & (pci::COMMAND_INTX_DISABLE >> 8);
    } else if (off == kPciMsixCapOffset + pci::MSIX_CTRL + 1) {
      bytes_[off] = (bytes_[off] & kMsixCtrlHighReadOnly) | (byte & kMsixCtrlHighWritable);
    }
  }
  uint16_t command;
  std::memcpy(&command, bytes_ + pci::CFG_COMMAND, 2);
  // Bus Master Enable gates every DMA of the device (PCI 3.0 §6.2.2).
  busMaster_.store((command & pci::COMMAND_BUS_MASTER) != 0, std::memory_order_release);
}

MsixVectors::~MsixVectors() {
  std::lock_guard<std::mutex> lock(mutex_);
  closeAll(fds_);
}

std::vector<int> MsixVectors::enable(uint32_t count, uint32_t tableSize, std::string* error) {
  if (count < 1 || count > tableSize) {
    *error = "vector count " + std::to_string(count) + " is out of range: the controller has 1.." +
             std::to_string(tableSize) + " vectors";
    return {};
  }
  std::vector<int> fds;
  for (uint32_t i = 0; i < count; i++) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
      *error = std::string("eventfd failed: ") + std::strerror(errno);
      closeAll(fds);
      return {};
    }
    // The driver may watch and read these, never close them (eventfd_ops.h: Owner).
    eventfd::own(fd, eventfd::Owner::Emu);
    fds.push_back(fd);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  closeAll(fds_);
  fds_ = fds;
  return fds;
}

bool MsixVectors::Batch::signal(uint16_t vector) {
  if (vector >= v_.fds_.size()) return false;
  uint64_t one = 1;
  return write(v_.fds_[vector], &one, sizeof one) == sizeof one;
}

}  // namespace phyr::emu
