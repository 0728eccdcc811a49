// The device's view of memory: every access the embedded controller makes (SQ fetch, PRP
// list and SGL segment reads, data, CQ post) goes through translate() — to its own CMB
// when the address lies in the enabled CMB window, else through the IOMMU. An access
// neither allows is recorded in the fault log with the command that made it.
#pragma once
#include <cstdint>

#include "emu/native/command.h"
#include "emu/native/fault_log.h"
#include "emu/native/iommu.h"
#include "emu/native/registers.h"

namespace phyr::emu {

class DeviceMemory {
 public:
  DeviceMemory(const RegisterFile& regs, IommuTable& iommu, FaultLog& faults)
      : regs_(regs), iommu_(iommu), faults_(faults) {}
  void setCmb(uint8_t* cmb) { cmb_ = cmb; }

  // Device thread, with the IOMMU lock held. Same contract as IommuTable::translateLocked:
  // the host address of `iova` and in *avail how many bytes from there are reachable in one
  // piece (capped at `len`), or nullptr.
  uint8_t* translate(uint64_t iova, uint64_t len, bool write, uint64_t* avail) {
    const CmbWindow& w = regs_.cmb();
    if (w.contains(iova)) {
      uint64_t left = w.bytes - (iova - w.base);
      *avail = left < len ? left : len;
      return cmb_ + (iova - w.base);
    }
    return iommu_.translateLocked(iova, len, write, avail);
  }
  bool inCmb(uint64_t iova) const { return regs_.cmb().contains(iova); }

  // Logs a refused access; `cmd` is null for queue accesses (no command yet or any more).
  void fault(uint64_t iova, uint64_t len, bool write, FaultSite site, const Command* cmd) {
    faults_.record(FaultRecord{iova, len, write, site, cmd ? cmd->sqid : uint16_t{0}, cmd ? cmd->cid : uint16_t{0},
                               cmd ? cmd->opcode : uint8_t{0}});
  }

 private:
  const RegisterFile& regs_;
  IommuTable& iommu_;
  FaultLog& faults_;
  uint8_t* cmb_ = nullptr;
};

}  // namespace phyr::emu
