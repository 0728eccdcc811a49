// Data pointers: PRP (4.3) and SGL (4.4) walked through the device's memory view into
// host pieces (dptr.h).
#include "emu/native/dptr.h"

#include <cstring>

namespace phyr::emu {
using namespace phyr::nvme;

namespace {
constexpr uint16_t kDnr = true;
uint16_t status(uint8_t sc) { return makeStatus(SCT_GENERIC, sc, kDnr); }
}  // namespace

DataPointers::DataPointers(DeviceMemory& memory, const RegisterFile& regs, SglSupport sgl, uint64_t maxTransfer)
    : memory_(memory), regs_(regs), sgl_(sgl) {
  pieces_.reserve((maxTransfer ? maxTransfer / 4096 + 2 : 1024) + 4096);
  sglSegment_.reserve(4096);
}

// `use`: the CMBSZ bit (3.1.13) this address needs when it lies in the CMB: LISTS for a
// PRP/SGL list, RDS for data the controller writes (reads), WDS for data it reads (writes).
// A CMB use the controller does not support, or a command mixing CMB and host memory, is
// Invalid Use of Controller Memory Buffer (4.7).
uint16_t DataPointers::noteCmbUse(uint64_t iova, uint32_t use) {
  int here = memory_.inCmb(iova) ? 1 : 0;
  if (here && !regs_.cmbSupports(use)) return status(SC_INVALID_CMB_USE);
  if (cmbUse_ >= 0 && cmbUse_ != here) return status(SC_INVALID_CMB_USE);
  cmbUse_ = here;
  return 0;
}

// Translates [iova, iova + len) (possibly over several adjacent mappings) into pieces_.
uint16_t DataPointers::addPiece(const Command& cmd, uint64_t iova, uint64_t len, bool deviceWrites, FaultSite site) {
  if (uint16_t s = noteCmbUse(iova, deviceWrites ? CMBSZ_RDS : CMBSZ_WDS)) return s;
  while (len > 0) {
    uint64_t avail = 0;
    uint8_t* host = memory_.translate(iova, len, deviceWrites, &avail);
    if (!host) {
      memory_.fault(iova, len, deviceWrites, site, &cmd);
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

bool DataPointers::readDeviceQword(const Command& cmd, uint64_t iova, FaultSite site, uint64_t* out) {
  uint64_t avail = 0;
  const uint8_t* p = memory_.translate(iova, 8, false, &avail);
  if (!p || avail != 8) {
    memory_.fault(iova, 8, false, site, &cmd);
    return false;
  }
  std::memcpy(out, p, 8);
  return true;
}

uint16_t DataPointers::map(const Command& cmd, uint64_t len, bool deviceWrites) {
  pieces_.clear();
  cmbUse_ = -1;
  uint32_t psdt = (cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3;
  if (psdt == PSDT_PRP) return mapPrp(cmd, len, deviceWrites);
  // SGLs are refused with Invalid Field when the controller does not support them (4.2).
  // PSDT 11b is reserved. PSDT 10b differs from 01b only in MPTR, and namespaces here
  // carry no metadata, so MPTR is never used.
  if (sgl_ == SglSupport::Off || psdt == 0x3) return status(SC_INVALID_FIELD);
  return mapSgl(cmd, len, deviceWrites);
}

// Copies `len` bytes of device memory at `iova` (a SGL segment) into `dst`.
bool DataPointers::readDeviceBytes(const Command& cmd, uint64_t iova, uint64_t len, FaultSite site, uint8_t* dst) {
  while (len > 0) {
    uint64_t avail = 0;
    const uint8_t* p = memory_.translate(iova, len, false, &avail);
    if (!p) {
      memory_.fault(iova, len, false, site, &cmd);
      return false;
    }
    std::memcpy(dst, p, avail);
    dst += avail, iova += avail, len -= avail;
  }
  return true;
}

// SGL rules (4.4): SGL1 holds one descriptor; a Segment descriptor points to a segment (an
// array of descriptors whose length is a non-zero multiple of 16) and may only be the last
// descriptor of its segment; a Last Segment descriptor points to the final segment, which
// holds no further segment descriptors. Data Block descriptors carry data; Bit Bucket
// descriptors (reads only) discard it. The data described must equal the transfer length.
uint16_t DataPointers::mapSgl(const Command& cmd, uint64_t len, bool deviceWrites) {
  constexpr uint32_t kMaxDescriptors = 4096;
  const bool dword = sgl_ == SglSupport::DwordAligned;
  SglDesc first;
  std::memcpy(&first, &cmd.sqe.dptr1, 16);
  const SglDesc* descs = &first;
  uint32_t n = 1;
  bool inLastSegment = false;
  uint64_t remaining = len;
  uint32_t total = 0;
  for (;;) {
    bool chained = false;
    for (uint32_t i = 0; i < n; i++) {
      const SglDesc& d = descs[i];
      uint32_t type = d.id >> 4, subtype = d.id & 0xF;
      if (++total > kMaxDescriptors) return status(SC_INVALID_SGL_DESCRIPTOR_COUNT);
      if (type == SGL_TYPE_DATA_BLOCK || type == SGL_TYPE_BIT_BUCKET) {
        if (subtype == SGL_SUBTYPE_OFFSET && type == SGL_TYPE_DATA_BLOCK) return status(SC_SGL_OFFSET_INVALID);
        if (subtype != SGL_SUBTYPE_ADDRESS) return status(SC_SGL_DESCRIPTOR_TYPE_INVALID);
        if (type == SGL_TYPE_BIT_BUCKET && !deviceWrites) return status(SC_SGL_DESCRIPTOR_TYPE_INVALID);
        if (dword && d.len % 4 != 0) return status(SC_DATA_SGL_LENGTH_INVALID);
        if (dword && type == SGL_TYPE_DATA_BLOCK && d.addr % 4 != 0) return status(SC_INVALID_FIELD);
        if (d.len > remaining) return status(SC_DATA_SGL_LENGTH_INVALID);
        if (type == SGL_TYPE_BIT_BUCKET) {
          if (d.len) pieces_.push_back({nullptr, d.len});
        } else if (d.len) {
          if (uint16_t s = addPiece(cmd, d.addr, d.len, deviceWrites, FaultSite::Data)) return s;
        }
        remaining -= d.len;
        continue;
      }
      if (type == SGL_TYPE_SEGMENT || type == SGL_TYPE_LAST_SEGMENT) {
        if (i != n - 1 || inLastSegment) return status(SC_INVALID_SGL_SEGMENT_DESCRIPTOR);
        if (subtype != SGL_SUBTYPE_ADDRESS) return status(SC_SGL_DESCRIPTOR_TYPE_INVALID);
        if (d.len == 0 || d.len % SGL_DESC_SIZE != 0) return status(SC_INVALID_SGL_SEGMENT_DESCRIPTOR);
        if (d.len / SGL_DESC_SIZE + total > kMaxDescriptors) return status(SC_INVALID_SGL_DESCRIPTOR_COUNT);
        if (uint16_t s = noteCmbUse(d.addr, CMBSZ_LISTS)) return s;
        sglSegment_.resize(d.len / SGL_DESC_SIZE);
        if (!readDeviceBytes(cmd, d.addr, d.len, FaultSite::SglSegment, reinterpret_cast<uint8_t*>(sglSegment_.data())))
          return status(SC_DATA_TRANSFER_ERROR);
        inLastSegment = type == SGL_TYPE_LAST_SEGMENT;
        descs = sglSegment_.data();
        n = static_cast<uint32_t>(sglSegment_.size());
        chained = true;
        break;
      }
      return status(SC_SGL_DESCRIPTOR_TYPE_INVALID);  // keyed, transport or reserved types
    }
    if (!chained) break;
  }
  if (remaining != 0) return status(SC_DATA_SGL_LENGTH_INVALID);
  return 0;
}

// PRP rules (4.3): PRP1 may carry a dword-aligned offset; a transfer crossing one page
// boundary puts the second page in PRP2 (page-aligned); more pages put a PRP list pointer
// in PRP2. List entries are page-aligned; the last entry of a list page chains to the next
// list page when more entries remain. Any misaligned entry: PRP Offset Invalid.
uint16_t DataPointers::mapPrp(const Command& cmd, uint64_t len, bool deviceWrites) {
  const uint64_t page = regs_.pageSize(), mask = page - 1;
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
    if (uint16_t s = noteCmbUse(entryAddr, CMBSZ_LISTS)) return s;
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

void DataPointers::copyToHost(const uint8_t* src, uint64_t len) {
  for (const HostPiece& p : pieces_) {
    if (len == 0) break;
    uint64_t n = p.len < len ? p.len : len;
    if (p.host) std::memcpy(p.host, src, n);  // a bit bucket discards
    src += n;
    len -= n;
  }
}

void DataPointers::copyFromHost(uint8_t* dst, uint64_t len) {
  for (const HostPiece& p : pieces_) {
    if (len == 0) break;
    uint64_t n = p.len < len ? p.len : len;
    std::memcpy(dst, p.host, n);
    dst += n;
    len -= n;
  }
}

uint16_t DataPointers::transferToHost(const Command& cmd, const uint8_t* data, uint64_t len) {
  // Admin commands always use PRPs (4.2: PSDT is reserved for admin commands over PCIe).
  if ((cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3) return status(SC_INVALID_FIELD);
  pieces_.clear();
  cmbUse_ = -1;
  if (uint16_t s = mapPrp(cmd, len, true)) return s;
  copyToHost(data, len);
  return 0;
}

}  // namespace phyr::emu
