// Data pointers: a command's PRP entries (4.3) or SGL descriptors (4.4) walked through the
// device's memory view into host pieces. Every entry is validated before any data moves;
// a translation fault fails the command with Data Transfer Error and is logged with the
// command that caused it. Device thread only; the pieces stay valid until the next map.
#pragma once
#include <cstdint>
#include <vector>

#include "emu/native/command.h"
#include "emu/native/config.h"
#include "emu/native/device_memory.h"
#include "emu/native/registers.h"
#include "spec/nvme.h"

namespace phyr::emu {

class DataPointers {
 public:
  // `regs` gives the memory page size (CC.MPS); `sgl` what SGLS advertises;
  // `maxTransfer` (bytes, 0 = unlimited) sizes the piece list once, up front.
  DataPointers(DeviceMemory& memory, const RegisterFile& regs, SglSupport sgl, uint64_t maxTransfer);

  // Maps `len` bytes of the command's data pointer (PRP or SGL per PSDT); 0 or an error
  // status. `deviceWrites`: the device writes host memory (a Read).
  uint16_t map(const Command& cmd, uint64_t len, bool deviceWrites);
  // host == nullptr: an SGL bit bucket (data discarded).
  const std::vector<HostPiece>& pieces() const { return pieces_; }
  // Moves data between the mapped pieces and a linear buffer.
  void copyToHost(const uint8_t* src, uint64_t len);
  void copyFromHost(uint8_t* dst, uint64_t len);
  // Admin data transfer: writes `len` bytes of `data` through the command's PRPs.
  uint16_t transferToHost(const Command& cmd, const uint8_t* data, uint64_t len);

 private:
  uint16_t mapPrp(const Command& cmd, uint64_t len, bool deviceWrites);
  uint16_t mapSgl(const Command& cmd, uint64_t len, bool deviceWrites);
  // CMB rules (4.7): each address in the CMB needs its CMBSZ bit `use`; every address of one
  // command's data pointer lies in the CMB, or none.
  uint16_t noteCmbUse(uint64_t iova, uint32_t use);
  uint16_t addPiece(const Command& cmd, uint64_t iova, uint64_t len, bool deviceWrites, FaultSite site);
  bool readDeviceQword(const Command& cmd, uint64_t iova, FaultSite site, uint64_t* out);
  bool readDeviceBytes(const Command& cmd, uint64_t iova, uint64_t len, FaultSite site, uint8_t* dst);

  DeviceMemory& memory_;
  const RegisterFile& regs_;
  const SglSupport sgl_;
  std::vector<HostPiece> pieces_;
  std::vector<nvme::SglDesc> sglSegment_;
  int cmbUse_ = -1;  // per command: -1 nothing seen, 0 host memory, 1 CMB
};

}  // namespace phyr::emu
