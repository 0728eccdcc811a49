// NVM command set IO commands (6).
#include <cstring>

#include "controller.h"

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
  switch (cmd.opcode) {
    case IO_READ: return readWrite(cmd, false);
    case IO_WRITE: return readWrite(cmd, true);
    case IO_FLUSH: return flush(cmd);
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
  if (uint16_t s = mapDataPointer(cmd, bytes, !isWrite)) return fail(s);
  uint64_t off = (static_cast<uint64_t>(nsid - 1) * nsBlocks_ + slba) << config_.lbads;
  bool ok = true;
  for (const HostPiece& p : pieces_) {
    ok = isWrite ? backend_->write(off, p.host, p.len) : backend_->read(off, p.host, p.len);
    if (!ok) break;
    off += p.len;
  }
  if (!ok) return fail(makeStatus(SCT_MEDIA, isWrite ? SC_WRITE_FAULT : SC_UNRECOVERED_READ_ERROR, false));
  bump(isWrite ? stats_.bytesWritten : stats_.bytesRead, bytes);
  return {};
}

// Flush (6.8): NSID FFFFFFFFh flushes every namespace.
Completion Controller::flush(Command& cmd) {
  uint32_t nsid = cmd.sqe.nsid;
  if (nsid != kBroadcastNsid && (nsid < 1 || nsid > config_.namespaces)) return fail(generic(SC_INVALID_NAMESPACE));
  if (!backend_->flush()) return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  return {};
}

}  // namespace phyr::emu
