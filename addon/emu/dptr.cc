// Data pointers: PRP (4.3) and SGL (4.4) walked through the IOMMU into host pieces.
// Every entry is validated before any data moves; a translation fault fails the command
// with Data Transfer Error and is logged with the command that caused it.
#include <cstring>

#include "controller.h"

namespace phyr::emu {
using namespace phyr::nvme;

namespace {
constexpr uint16_t kDnr = true;
uint16_t status(uint8_t sc) { return makeStatus(SCT_GENERIC, sc, kDnr); }
}  // namespace

// Translates [iova, iova + len) (possibly over several adjacent mappings) into pieces_.
uint16_t Controller::addPiece(const Command& cmd, uint64_t iova, uint64_t len, bool deviceWrites, FaultSite site) {
  while (len > 0) {
    uint64_t avail = 0;
    uint8_t* host = iommu_->translateLocked(iova, len, deviceWrites, &avail);
    if (!host) {
      recordFault(iova, len, deviceWrites, site, &cmd);
      return status(SC_DATA_TRANSFER_ERROR);
    }
    if (!pieces_.empty() && pieces_.back().host + pieces_.back().len == host)
      pieces_.back().len += avail;  // physically adjacent: one copy
    else
      pieces_.push_back({host, avail});
    iova += avail;
    len -= avail;
  }
  return 0;
}

bool Controller::readDeviceQword(const Command& cmd, uint64_t iova, FaultSite site, uint64_t* out) {
  const uint8_t* p = iommu_->translateWholeLocked(iova, 8, false);
  if (!p) {
    recordFault(iova, 8, false, site, &cmd);
    return false;
  }
  std::memcpy(out, p, 8);
  return true;
}

uint16_t Controller::mapDataPointer(const Command& cmd, uint64_t len, bool deviceWrites) {
  pieces_.clear();
  uint32_t psdt = (cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3;
  if (psdt == PSDT_PRP) return mapPrp(cmd, len, deviceWrites);
  // SGLs are refused with Invalid Field when the controller does not support them (4.2).
  return status(SC_INVALID_FIELD);
}

// PRP rules (4.3): PRP1 may carry a dword-aligned offset; a transfer crossing one page
// boundary puts the second page in PRP2 (page-aligned); more pages put a PRP list pointer
// in PRP2. List entries are page-aligned; the last entry of a list page chains to the next
// list page when more entries remain. Any misaligned entry: PRP Offset Invalid.
uint16_t Controller::mapPrp(const Command& cmd, uint64_t len, bool deviceWrites) {
  const uint64_t page = pageSize_, mask = page - 1;
  uint64_t prp1 = cmd.sqe.dptr1, prp2 = cmd.sqe.dptr2;
  if (prp1 & 0x3) return status(SC_PRP_OFFSET_INVALID);
  uint64_t first = page - (prp1 & mask);
  if (first > len) first = len;
  if (uint16_t s = addPiece(cmd, prp1, first, deviceWrites, FaultSite::Data)) return s;
  uint64_t remaining = len - first;
  if (remaining == 0) return 0;
  if (remaining <= page) {
    if (prp2 & mask) return status(SC_PRP_OFFSET_INVALID);
    return addPiece(cmd, prp2, remaining, deviceWrites, FaultSite::Data);
  }
  if (prp2 & 0x7) return status(SC_PRP_OFFSET_INVALID);  // list entries are qwords
  uint64_t entryAddr = prp2;
  while (remaining > 0) {
    uint64_t entry;
    if (!readDeviceQword(cmd, entryAddr, FaultSite::PrpList, &entry)) return status(SC_DATA_TRANSFER_ERROR);
    bool lastSlotOfPage = ((entryAddr + 8) & mask) == 0;
    if (lastSlotOfPage && remaining > page) {
      // Chain to the next list page.
      if (entry & mask) return status(SC_PRP_OFFSET_INVALID);
      entryAddr = entry;
      continue;
    }
    if (entry & mask) return status(SC_PRP_OFFSET_INVALID);
    uint64_t n = remaining < page ? remaining : page;
    if (uint16_t s = addPiece(cmd, entry, n, deviceWrites, FaultSite::Data)) return s;
    remaining -= n;
    entryAddr += 8;
  }
  return 0;
}

void Controller::copyToHost(const uint8_t* src, uint64_t len) {
  for (const HostPiece& p : pieces_) {
    if (len == 0) break;
    uint64_t n = p.len < len ? p.len : len;
    std::memcpy(p.host, src, n);
    src += n;
    len -= n;
  }
}

void Controller::copyFromHost(uint8_t* dst, uint64_t len) {
  for (const HostPiece& p : pieces_) {
    if (len == 0) break;
    uint64_t n = p.len < len ? p.len : len;
    std::memcpy(dst, p.host, n);
    dst += n;
    len -= n;
  }
}

uint16_t Controller::transferToHost(const Command& cmd, const uint8_t* data, uint64_t len) {
  // Admin commands always use PRPs (4.2: PSDT is reserved for admin commands over PCIe).
  if ((cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3) return status(SC_INVALID_FIELD);
  pieces_.clear();
  if (uint16_t s = mapPrp(cmd, len, true)) return s;
  copyToHost(data, len);
  return 0;
}

}  // namespace phyr::emu
