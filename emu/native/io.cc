// NVM command set IO commands (6).
#include <cstring>

#include "emu/native/controller.h"

namespace phyr::emu {
using namespace phyr::nvme;

namespace {
uint16_t generic(uint8_t sc) { return makeStatus(SCT_GENERIC, sc, true); }
Completion fail(uint16_t s) { return Completion{s, 0}; }
constexpr uint32_t kBroadcastNsid = 0xFFFFFFFFu;
}  // namespace

Completion Controller::executeIo(Command& cmd) {
  bump(stats_.ioCommands);
  bump(stats_.ioOpcodes[cmd.opcode]);
  if ((cmd.sqe.cdw0 >> 8) & 0x3) return fail(generic(SC_INVALID_FIELD));  // no fused operations
  Completion c;
  bool injected = false;
  for (FaultRule& r : rules_) injected = injected || applyRuleBefore(r, cmd, &c);
  if (!injected) c = executeIoCommand(cmd);
  if (regs_.halted()) c.deferred = true;  // an injected CFS: nothing more is posted
  if (rules_.empty() && !config_.timing.active()) return c;
  uint64_t bytes = (cmd.opcode == IO_READ || cmd.opcode == IO_WRITE) ? ((cmd.sqe.cdw12 & 0xFFFF) + 1ull) << config_.lbads : 0;
  return finishIo(cmd, c, bytes);
}

Completion Controller::executeIoCommand(Command& cmd) {
  switch (cmd.opcode) {
    case IO_READ: return readWrite(cmd, false);
    case IO_WRITE: return readWrite(cmd, true);
    case IO_FLUSH: return flush(cmd);
    case IO_WRITE_ZEROES: return writeZeroes(cmd);
    case IO_DATASET_MANAGEMENT: return datasetManagement(cmd);
    case IO_COMPARE: return compare(cmd);
    case IO_VERIFY: return verify(cmd);
    default: return fail(generic(SC_INVALID_OPCODE));
  }
}

// Read (6.9) / Write (6.15): namespace, transfer size (MDTS), LBA range, then the data
// pointer; data moves only when all of them are valid.
Completion Controller::readWrite(Command& cmd, bool isWrite) {
  uint32_t nsid = cmd.sqe.nsid;
  if (nsid < 1 || nsid > config_.namespaces) return fail(generic(SC_INVALID_NAMESPACE));
  uint64_t slba = cmd.sqe.cdw10 | static_cast<uint64_t>(cmd.sqe.cdw11) << 32;
  uint64_t nlb = (cmd.sqe.cdw12 & 0xFFFF) + 1ull;
  uint64_t bytes = nlb << config_.lbads;
  if (maxTransfer_ && bytes > maxTransfer_) return fail(generic(SC_INVALID_FIELD));
  if (slba >= nsBlocks_ || nlb > nsBlocks_ - slba) return fail(generic(SC_LBA_OUT_OF_RANGE));
  if (uint16_t s = dptr_.map(cmd, bytes, !isWrite)) return fail(s);
  uint64_t off = (static_cast<uint64_t>(nsid - 1) * nsBlocks_ + slba) << config_.lbads;
  bool ok = true;
  // backend=nodata: the data pointer was walked and every piece translated and checked
  // above; only the copy is skipped (the host buffer keeps what it held).
  if (movesData_) {
    for (const HostPiece& p : dptr_.pieces()) {
      if (!p.host) {  // bit bucket: the blocks are read and discarded
        off += p.len;
        continue;
      }
      ok = isWrite ? backend_->write(off, p.host, p.len) : backend_->read(off, p.host, p.len);
      if (!ok) break;
      off += p.len;
    }
  }
  if (!ok) return fail(makeStatus(SCT_MEDIA, isWrite ? SC_WRITE_FAULT : SC_UNRECOVERED_READ_ERROR, false));
  // FUA (CDW12 bit 30, 6.15): the data is on non-volatile media before the completion is
  // posted; with the volatile write cache disabled (5.21.1.6) every write is. A failed sync
  // is a Write Fault: the data may not be durable, so the write must not report success.
  if (isWrite && durableNow((cmd.sqe.cdw12 >> 30) & 1) && !makeDurable())
    return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  if (!isWrite && !rules_.empty()) corruptReadData(cmd, slba, nlb);
  bump(isWrite ? stats_.bytesWritten : stats_.bytesRead, bytes);
  return {};
}

// Injected silent data corruption (corrupt:lba=L[:nsid=N][:nth=N][:byte=B]): a Read whose
// range covers LBA L completes with success, but the byte B of that block it delivered to
// host memory is the stored byte inverted, as a flaky medium or bus would deliver it. The
// byte is written through the same IOMMU-translated data pieces the transfer used (the
// device's DMA path); the backend's copy is left as it was, so a later read is clean. A
// byte that falls in an SGL bit bucket reaches no host memory and is not counted.
void Controller::corruptReadData(const Command& cmd, uint64_t slba, uint64_t nlb) {
  const uint64_t blockBytes = 1ull << config_.lbads;
  bool corrupted = false;
  for (FaultRule& r : rules_) {
    if (r.kind != FaultKind::Corrupt || r.byte >= blockBytes) continue;
    if ((r.nsid && r.nsid != cmd.sqe.nsid) || r.lba < slba || r.lba - slba >= nlb) continue;
    if (++r.seen % r.nth != 0) continue;
    uint64_t at = ((r.lba - slba) << config_.lbads) + r.byte;  // offset in the transfer
    for (const HostPiece& p : dptr_.pieces()) {
      if (at >= p.len) {
        at -= p.len;
        continue;
      }
      uint8_t stored;
      if (p.host && backend_->read(byteOffset(cmd.sqe.nsid, r.lba) + r.byte, &stored, 1)) {
        p.host[at] = static_cast<uint8_t>(stored ^ 0xFF);
        corrupted = true;
      }
      break;
    }
  }
  if (corrupted) bump(stats_.corruptedReads);
}

// Checks NSID and [slba, slba + nlb) for the LBA-range commands; 0 when valid.
uint16_t Controller::checkRange(const Command& cmd, uint64_t* slba, uint64_t* nlb) {
  uint32_t nsid = cmd.sqe.nsid;
  if (nsid < 1 || nsid > config_.namespaces) return generic(SC_INVALID_NAMESPACE);
  *slba = cmd.sqe.cdw10 | static_cast<uint64_t>(cmd.sqe.cdw11) << 32;
  *nlb = (cmd.sqe.cdw12 & 0xFFFF) + 1ull;
  if (*slba >= nsBlocks_ || *nlb > nsBlocks_ - *slba) return generic(SC_LBA_OUT_OF_RANGE);
  return 0;
}

uint64_t Controller::byteOffset(uint32_t nsid, uint64_t lba) const {
  return (static_cast<uint64_t>(nsid - 1) * nsBlocks_ + lba) << config_.lbads;
}

// Write Zeroes (6.16): no data pointer; DEAC (CDW12 bit 25) lets the blocks be deallocated.
Completion Controller::writeZeroes(Command& cmd) {
  uint64_t slba, nlb;
  if (uint16_t s = checkRange(cmd, &slba, &nlb)) return fail(s);
  bool deac = (cmd.sqe.cdw12 >> 25) & 1;
  if (!backend_->zero(byteOffset(cmd.sqe.nsid, slba), nlb << config_.lbads, deac))
    return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  // FUA is CDW12 bit 30 here too (6.16); VWC disabled: as for Write.
  if (durableNow((cmd.sqe.cdw12 >> 30) & 1) && !makeDurable()) return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  return {};
}

// Dataset Management (6.7): NR+1 ranges of 16 bytes (context attributes, length in LBAs,
// starting LBA) read through the data pointer; AD (CDW11 bit 2) deallocates them.
Completion Controller::datasetManagement(Command& cmd) {
  uint32_t nsid = cmd.sqe.nsid;
  if (nsid < 1 || nsid > config_.namespaces) return fail(generic(SC_INVALID_NAMESPACE));
  uint32_t ranges = (cmd.sqe.cdw10 & 0xFF) + 1;
  bool deallocate = (cmd.sqe.cdw11 >> 2) & 1;
  uint64_t bytes = ranges * 16ull;
  if (uint16_t s = dptr_.map(cmd, bytes, false)) return fail(s);
  uint8_t list[256 * 16];
  dptr_.copyFromHost(list, bytes);
  if (!deallocate) return {};  // IDR/IDW/AD clear: hints only
  for (uint32_t i = 0; i < ranges; i++) {
    uint32_t count;
    uint64_t slba;
    std::memcpy(&count, list + 16 * i + 4, 4);
    std::memcpy(&slba, list + 16 * i + 8, 8);
    if (slba > nsBlocks_ || count > nsBlocks_ - slba) return fail(generic(SC_LBA_OUT_OF_RANGE));
  }
  for (uint32_t i = 0; i < ranges; i++) {
    uint32_t count;
    uint64_t slba;
    std::memcpy(&count, list + 16 * i + 4, 4);
    std::memcpy(&slba, list + 16 * i + 8, 8);
    if (count && !backend_->zero(byteOffset(nsid, slba), static_cast<uint64_t>(count) << config_.lbads, true))
      return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  }
  // Deallocation changes what the blocks read: with the write cache disabled it is durable
  // at completion like a write (DSM has no FUA bit).
  if (durableNow(false) && !makeDurable()) return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  return {};
}

// Compare (6.6): the host data must equal the stored blocks, else Compare Failure.
Completion Controller::compare(Command& cmd) {
  uint64_t slba, nlb;
  if (uint16_t s = checkRange(cmd, &slba, &nlb)) return fail(s);
  uint64_t bytes = nlb << config_.lbads;
  if (maxTransfer_ && bytes > maxTransfer_) return fail(generic(SC_INVALID_FIELD));
  if (uint16_t s = dptr_.map(cmd, bytes, false)) return fail(s);
  uint64_t off = byteOffset(cmd.sqe.nsid, slba);
  for (const HostPiece& p : dptr_.pieces()) {
    if (compareBuf_.size() < p.len) compareBuf_.resize(p.len);
    if (!backend_->read(off, compareBuf_.data(), p.len)) return fail(makeStatus(SCT_MEDIA, SC_UNRECOVERED_READ_ERROR, false));
    if (std::memcmp(compareBuf_.data(), p.host, p.len) != 0) return fail(makeStatus(SCT_MEDIA, SC_COMPARE_FAILURE, true));
    off += p.len;
  }
  return {};
}

// Verify (6.14): checks the blocks are readable; no data transfer.
Completion Controller::verify(Command& cmd) {
  uint64_t slba, nlb;
  if (uint16_t s = checkRange(cmd, &slba, &nlb)) return fail(s);
  return {};
}

// Flush (6.8): every write completed before it is on non-volatile media when it completes.
// NSID FFFFFFFFh flushes every namespace (all share one store, so each flush syncs it all).
Completion Controller::flush(Command& cmd) {
  uint32_t nsid = cmd.sqe.nsid;
  if (nsid != kBroadcastNsid && (nsid < 1 || nsid > config_.namespaces)) return fail(generic(SC_INVALID_NAMESPACE));
  if (!makeDurable()) return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  return {};
}

bool Controller::makeDurable() {
  bool ok = backend_->flush();
  if (backend_->persistent()) bump(stats_.syncs);
  return ok;
}

}  // namespace phyr::emu
