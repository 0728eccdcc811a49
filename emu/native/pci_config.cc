// PCI configuration space and MSI-X vectors of the embedded controller.
#include "emu/native/pci_config.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon/eventfd/eventfd_ops.h"

namespace phyr::emu {

namespace {
// PCI identity of the embedded controller (a project-local placeholder vendor/device id)
// and the NVMe class code 01h/08h/02h (mass storage, NVM, NVM Express).
constexpr uint16_t kPciVendor = 0x1234;
constexpr uint16_t kPciDevice = 0x5845;
constexpr uint32_t kPciClassNvme = 0x010802;
constexpr uint16_t kPciCommandMemory = 1u << 1;
constexpr uint16_t kPciCommandBusMaster = 1u << 2;
constexpr uint16_t kPciCommandIntxDisable = 1u << 10;
constexpr uint32_t kPciMsixCapOffset = 0x40;
constexpr uint8_t kPciCapIdMsix = 0x11;

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
  put16(0x00, kPciVendor);
  put16(0x02, kPciDevice);
  put16(0x06, 1u << 4);  // status: capability list present
  put32(0x08, kPciClassNvme << 8);
  put32(0x10, 0x4);  // BAR0: 64-bit memory
  put16(0x2C, kPciVendor);
  put16(0x2E, kPciDevice);
  cs[0x34] = kPciMsixCapOffset;
  cs[kPciMsixCapOffset] = kPciCapIdMsix;
  put16(kPciMsixCapOffset + 2, static_cast<uint16_t>(msixVectors - 1));
  if (bar2) put32(0x18, 0xC);  // BAR2: 64-bit prefetchable memory
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
    if (off == 0x04) {
      bytes_[off] = byte & (kPciCommandMemory | kPciCommandBusMaster);
    } else if (off == 0x05) {
      bytes_[off] = byte & (kPciCommandIntxDisable >> 8);
    } else if (off == kPciMsixCapOffset + 3) {
      bytes_[off] = (bytes_[off] & 0x07) | (byte & 0xC0);
    }
  }
  uint16_t command;
  std::memcpy(&command, bytes_ + 0x04, 2);
  // Bus Master Enable gates every DMA of the device (PCI 3.0 §6.2.2).
  busMaster_.store((command & kPciCommandBusMaster) != 0, std::memory_order_release);
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
