// Admin commands (5). Each check answers with the status the specification names for it.
#include <cstring>

#include "emu/native/clock.h"
#include "emu/native/controller.h"

namespace phyr::emu {
using namespace phyr::nvme;

namespace {
uint16_t generic(uint8_t sc) { return makeStatus(SCT_GENERIC, sc, true); }
uint16_t specific(uint8_t sc) { return makeStatus(SCT_COMMAND_SPECIFIC, sc, true); }
Completion fail(uint16_t s) { return Completion{s, 0}; }

void putString(uint8_t* dst, size_t width, const std::string& s) {
  std::memset(dst, ' ', width);  // ASCII, space padded (5.15.2.1)
  std::memcpy(dst, s.data(), s.size() < width ? s.size() : width);
}
template <typename T>
void put(uint8_t* dst, size_t off, T v) {
  std::memcpy(dst + off, &v, sizeof v);
}

// Features this controller implements (5.21.1).
bool knownFeature(uint32_t fid) {
  return fid == FEAT_VOLATILE_WRITE_CACHE || fid == FEAT_NUMBER_OF_QUEUES || fid == FEAT_INTERRUPT_COALESCING ||
         fid == FEAT_ASYNC_EVENT_CONFIG || fid == FEAT_ARBITRATION || fid == FEAT_POWER_MANAGEMENT ||
         fid == FEAT_TEMPERATURE_THRESHOLD || fid == FEAT_WRITE_ATOMICITY;
}

// Temperature Threshold CDW11 (5.21.1.4): TMPTH 15:0, TMPSEL 19:16 (0 = composite, Fh =
// every sensor; this controller has only the composite one), THSEL 21:20 (0 over, 1 under).
struct ThresholdSelect {
  bool valid;
  bool under;
};
ThresholdSelect thresholdSelect(uint32_t cdw11) {
  uint32_t tmpsel = (cdw11 >> 16) & 0xF, thsel = (cdw11 >> 20) & 0x3;
  return {(tmpsel == 0 || tmpsel == 0xF) && thsel <= 1, thsel == 1};
}

}  // namespace

Completion Controller::executeAdmin(Command& cmd) {
  bump(stats_.adminCommands);
  bump(stats_.adminOpcodes[cmd.opcode]);
  // Fused operations are not supported (FUSES = 0): a fused admin command is invalid.
  if ((cmd.sqe.cdw0 >> 8) & 0x3) return fail(generic(SC_INVALID_FIELD));
  switch (cmd.opcode) {
    case ADMIN_IDENTIFY: return identify(cmd);
    case ADMIN_SET_FEATURES: return setFeatures(cmd);
    case ADMIN_GET_FEATURES: return getFeatures(cmd);
    case ADMIN_CREATE_CQ: return createCq(cmd);
    case ADMIN_CREATE_SQ: return createSq(cmd);
    case ADMIN_DELETE_CQ: return deleteCq(cmd);
    case ADMIN_DELETE_SQ: return deleteSq(cmd);
    case ADMIN_GET_LOG_PAGE: return getLogPage(cmd);
    case ADMIN_ABORT: return abort(cmd);
    case ADMIN_ASYNC_EVENT_REQUEST: return asyncEventRequest(cmd);
    case ADMIN_FORMAT_NVM: return formatNvm(cmd);
    case ADMIN_DOORBELL_BUFFER_CONFIG:
      if (config_.dbbuf) return doorbellBufferConfig(cmd);
      return fail(generic(SC_INVALID_OPCODE));  // not offered (OACS bit 8 clear)
    default: return fail(generic(SC_INVALID_OPCODE));
  }
}

// Identify (5.15).
Completion Controller::identify(Command& cmd) {
  uint32_t cns = cmd.sqe.cdw10 & 0xFF;
  uint32_t nsid = cmd.sqe.nsid;
  uint8_t* d = scratch_.data();
  std::memset(d, 0, IDENTIFY_DATA_SIZE);
  bool nsValid = nsid >= 1 && nsid <= config_.namespaces;
  switch (cns) {
    case CNS_NAMESPACE: {
      if (!nsValid) return fail(generic(SC_INVALID_NAMESPACE));
      put<uint64_t>(d, 0, nsBlocks_);   // NSZE
      put<uint64_t>(d, 8, nsBlocks_);   // NCAP
      put<uint64_t>(d, 16, nsBlocks_);  // NUSE (thin provisioning not reported)
      d[25] = 1;                        // NLBAF: two formats (0's based)
      d[26] = config_.lbads == 12 ? 1 : 0;  // FLBAS: the current format
      // DLFEAT (5.15.2): deallocated blocks read as zeros, and Write Zeroes takes DEAC (bit
      // 3). backend=nodata leaves a read's buffer as it was, so it promises no read value.
      d[33] = static_cast<uint8_t>((movesData_ ? DLFEAT_READ_ZEROES : 0) | 1u << 3);
      put<uint64_t>(d, 120, 0x0050485952000000ull | nsid);  // EUI64
      put<uint32_t>(d, 128, 9u << 16);   // LBAF0: 512-byte LBAs
      put<uint32_t>(d, 132, 12u << 16);  // LBAF1: 4 KiB LBAs
      break;
    }
    case CNS_CONTROLLER: {
      put<uint16_t>(d, 0, 0x1234);  // VID (PCI vendor id)
      put<uint16_t>(d, 2, 0x1234);  // SSVID
      putString(d + 4, 20, config_.serial);
      putString(d + 24, 40, "phyr embedded NVMe controller");
      putString(d + 64, 8, "1.0");
      d[72] = 6;                                     // RAB
      d[77] = static_cast<uint8_t>(config_.mdts);    // MDTS
      put<uint16_t>(d, 78, 1);                       // CNTLID
      put<uint32_t>(d, 80, 0x00010400);              // VER
      // OACS: Doorbell Buffer Config (shadow doorbells) with dbbuf=on; no other optional admin command.
      put<uint16_t>(d, 256, static_cast<uint16_t>(config_.dbbuf ? OACS_DOORBELL_BUFFER_CONFIG : 0));
      d[111] = 1;                                    // CNTRLTYPE: I/O controller
      d[258] = 3;                                    // ACL: 4 aborts (0's based)
      d[259] = 3;                                    // AERL: 4 requests (0's based)
      d[260] = 0x3;                                  // FRMW: slot 1 read-only, 1 slot
      d[261] = 0x0;                                  // LPA: SMART log is controller-wide only
      d[262] = 63;                                   // ELPE: 64 error log entries (0's based)
      put<uint16_t>(d, 266, kDefaultOverTemperature); // WCTEMP (kelvin)
      put<uint16_t>(d, 268, kCriticalTemperature);    // CCTEMP
      d[512] = 0x66;                                 // SQES: 64 bytes
      d[513] = 0x44;                                 // CQES: 16 bytes
      put<uint16_t>(d, 514, 0);                      // MAXCMD (fabrics only)
      put<uint32_t>(d, 516, config_.namespaces);     // NN
      put<uint16_t>(d, 520, ONCS_COMPARE | ONCS_DSM | ONCS_WRITE_ZEROES | ONCS_COMPARE << 7);  // ONCS: + Verify (bit 7)
      d[524] = 0x1;                                  // FNA: a format applies to all namespaces
      d[525] = 0x7;                                  // VWC present; Flush NSID FFFFFFFFh supported
      uint32_t sgls = 0;
      if (config_.sgl == SglSupport::ByteAligned) sgls = SGLS_BYTE_ALIGNED | SGLS_BIT_BUCKET;
      if (config_.sgl == SglSupport::DwordAligned) sgls = SGLS_DWORD_ALIGNED | SGLS_BIT_BUCKET;
      put<uint32_t>(d, 536, sgls);
      putString(d + 768, 256, "nqn.2024-01.io.phyr:emu:" + config_.serial);
      std::memset(d + 768 + 24 + config_.serial.size(), 0, 256 - 24 - config_.serial.size());
      put<uint16_t>(d, 2048, 2500);  // PSD0 MP: 25 W (centiwatts)
      break;
    }
    case CNS_ACTIVE_NS_LIST: {
      // Namespaces with ids greater than NSID, ascending (5.15.2.2); FFFFFFFEh and up are
      // invalid here.
      if (nsid >= 0xFFFFFFFEu) return fail(generic(SC_INVALID_NAMESPACE));
      uint32_t n = 0;
      for (uint32_t id = nsid + 1; id <= config_.namespaces && n < 1024; id++) put<uint32_t>(d, 4 * n++, id);
      break;
    }
    case CNS_NS_DESCRIPTORS: {
      if (!nsValid) return fail(generic(SC_INVALID_NAMESPACE));
      // EUI64 then UUID descriptors (5.15.2.3): NIDT, NIDL, 2 reserved, NID.
      d[0] = NIDT_EUI64;
      d[1] = 8;
      put<uint64_t>(d, 4, 0x0050485952000000ull | nsid);
      d[12] = NIDT_UUID;
      d[13] = 16;
      // A stable version-4-shaped UUID derived from the serial and nsid.
      uint8_t* u = d + 16;
      for (size_t i = 0; i < 16; i++) u[i] = static_cast<uint8_t>(0x5A ^ (i * 37) ^ (i < config_.serial.size() ? config_.serial[i] : 0));
      put<uint32_t>(u, 12, nsid);
      u[6] = (u[6] & 0x0F) | 0x40;
      u[8] = (u[8] & 0x3F) | 0x80;
      break;
    }
    default:
      return fail(generic(SC_INVALID_FIELD));
  }
  return fail(dptr_.transferToHost(cmd, d, IDENTIFY_DATA_SIZE));
}

// Set Features (5.21).
Completion Controller::setFeatures(Command& cmd) {
  uint32_t fid = cmd.sqe.cdw10 & 0xFF;
  bool save = cmd.sqe.cdw10 >> 31;
  uint32_t v = cmd.sqe.cdw11;
  if (!knownFeature(fid)) return fail(generic(SC_INVALID_FIELD));
  if (save) return fail(specific(SC_FEATURE_NOT_SAVEABLE));
  switch (fid) {
    case FEAT_NUMBER_OF_QUEUES: {
      // 5.21.1.7: 0's based counts; FFFFh is invalid; only before IO queues exist.
      uint32_t nsqr = v & 0xFFFF, ncqr = v >> 16;
      if (nsqr == 0xFFFF || ncqr == 0xFFFF) return fail(generic(SC_INVALID_FIELD));
      if (ioQueuesCreated_) return fail(generic(SC_COMMAND_SEQUENCE_ERROR));
      sqAllocated_ = nsqr + 1 < config_.queues ? nsqr + 1 : config_.queues;
      cqAllocated_ = ncqr + 1 < config_.queues ? ncqr + 1 : config_.queues;
      return Completion{0, (sqAllocated_ - 1) | (cqAllocated_ - 1) << 16};
    }
    case FEAT_VOLATILE_WRITE_CACHE:
      // 5.21.1.6. Turning the cache off first makes what it held durable, so that every
      // write completed so far is as safe as the ones that follow.
      if (volatileWriteCache_ && !(v & 1) && !makeDurable()) return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
      volatileWriteCache_ = v & 1;
      return {};
    case FEAT_INTERRUPT_COALESCING:
      interruptCoalescing_ = v & 0xFFFF;
      return {};
    case FEAT_ASYNC_EVENT_CONFIG:
      asyncEventConfig_ = v;
      return {};
    case FEAT_ARBITRATION:
      arbitration_ = v & 0xFFFFFF07u;  // bits 7:3 are reserved
      return {};
    case FEAT_POWER_MANAGEMENT:
      if ((v & 0x1F) > 0) return fail(generic(SC_INVALID_FIELD));  // NPSS = 0: power state 0 only
      powerManagement_ = v & 0xFF;
      return {};
    case FEAT_TEMPERATURE_THRESHOLD: {
      ThresholdSelect t = thresholdSelect(v);
      if (!t.valid) return fail(generic(SC_INVALID_FIELD));
      (t.under ? underTemperature_ : overTemperature_) = static_cast<uint16_t>(v & 0xFFFF);
      return {};
    }
    case FEAT_WRITE_ATOMICITY:
      writeAtomicity_ = v & 1;
      return {};
  }
  return fail(generic(SC_INVALID_FIELD));
}

// Get Features (5.15): SEL 0 current, 1 default, 2 saved (= default: nothing is saveable),
// 3 supported capabilities (changeable, not saveable).
Completion Controller::getFeatures(Command& cmd) {
  uint32_t fid = cmd.sqe.cdw10 & 0xFF;
  uint32_t sel = (cmd.sqe.cdw10 >> 8) & 0x7;
  if (!knownFeature(fid) || sel > 3) return fail(generic(SC_INVALID_FIELD));
  if (sel == 3) return Completion{0, 1u << 2};  // changeable
  bool current = sel == 0;
  switch (fid) {
    case FEAT_NUMBER_OF_QUEUES: {
      uint32_t s = current ? sqAllocated_ : config_.queues, c = current ? cqAllocated_ : config_.queues;
      return Completion{0, (s - 1) | (c - 1) << 16};
    }
    case FEAT_VOLATILE_WRITE_CACHE: return Completion{0, current ? (volatileWriteCache_ ? 1u : 0u) : 1u};
    case FEAT_INTERRUPT_COALESCING: return Completion{0, current ? interruptCoalescing_ : 0};
    case FEAT_ASYNC_EVENT_CONFIG: return Completion{0, current ? asyncEventConfig_ : 0};
    case FEAT_ARBITRATION: return Completion{0, current ? arbitration_ : 0};
    case FEAT_POWER_MANAGEMENT: return Completion{0, current ? powerManagement_ : 0};
    case FEAT_WRITE_ATOMICITY: return Completion{0, current ? writeAtomicity_ : 0};
    case FEAT_TEMPERATURE_THRESHOLD: {
      ThresholdSelect t = thresholdSelect(cmd.sqe.cdw11);
      if (!t.valid || ((cmd.sqe.cdw11 >> 16) & 0xF) == 0xF) return fail(generic(SC_INVALID_FIELD));  // one sensor at a time
      return Completion{0, t.under ? (current ? underTemperature_ : 0u) : (current ? overTemperature_ : kDefaultOverTemperature)};
    }
  }
  return fail(generic(SC_INVALID_FIELD));
}

// Create I/O Completion Queue (5.3).
Completion Controller::createCq(Command& cmd) {
  uint32_t qid = cmd.sqe.cdw10 & 0xFFFF, qsize = (cmd.sqe.cdw10 >> 16) + 1;
  bool pc = cmd.sqe.cdw11 & 1, ien = (cmd.sqe.cdw11 >> 1) & 1;
  uint32_t iv = cmd.sqe.cdw11 >> 16;
  uint64_t base = cmd.sqe.dptr1;
  if (qid == 0 || qid > cqAllocated_ || queues_.cq(qid).exists) return fail(specific(SC_INVALID_QUEUE_IDENTIFIER));
  if (qsize < 2 || qsize > config_.qsize) return fail(specific(SC_INVALID_QUEUE_SIZE));
  if (iv >= msixTableSize()) return fail(specific(SC_INVALID_INTERRUPT_VECTOR));
  if (!pc) return fail(generic(SC_INVALID_FIELD));  // CAP.CQR = 1: queues must be contiguous
  if ((base & (regs_.pageSize() - 1)) != 0) return fail(generic(SC_PRP_OFFSET_INVALID));
  if ((cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3) return fail(generic(SC_INVALID_FIELD));
  // A CQ in the CMB needs CMBSZ.CQS (3.1.13); otherwise Invalid Use of Controller Memory Buffer (4.7).
  if (memory_.inCmb(base) && !regs_.cmbSupports(CMBSZ_CQS)) return fail(generic(SC_INVALID_CMB_USE));
  // A new queue starts with its head doorbell at 0, whatever was stored there before.
  queues_.createCq(qid, base, qsize, ien, static_cast<uint16_t>(iv));
  ioQueuesCreated_ = true;
  return {};
}

// Create I/O Submission Queue (5.4).
Completion Controller::createSq(Command& cmd) {
  uint32_t qid = cmd.sqe.cdw10 & 0xFFFF, qsize = (cmd.sqe.cdw10 >> 16) + 1;
  bool pc = cmd.sqe.cdw11 & 1;
  uint32_t cqid = cmd.sqe.cdw11 >> 16;
  uint64_t base = cmd.sqe.dptr1;
  if (qid == 0 || qid > sqAllocated_ || queues_.sq(qid).exists) return fail(specific(SC_INVALID_QUEUE_IDENTIFIER));
  if (cqid == 0 || cqid > config_.queues || !queues_.cq(cqid).exists) return fail(specific(SC_COMPLETION_QUEUE_INVALID));
  if (qsize < 2 || qsize > config_.qsize) return fail(specific(SC_INVALID_QUEUE_SIZE));
  if (!pc) return fail(generic(SC_INVALID_FIELD));
  if ((base & (regs_.pageSize() - 1)) != 0) return fail(generic(SC_PRP_OFFSET_INVALID));
  if ((cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3) return fail(generic(SC_INVALID_FIELD));
  // An SQ in the CMB needs CMBSZ.SQS (3.1.13); otherwise Invalid Use of Controller Memory Buffer (4.7).
  if (memory_.inCmb(base) && !regs_.cmbSupports(CMBSZ_SQS)) return fail(generic(SC_INVALID_CMB_USE));
  queues_.createSq(qid, base, qsize, static_cast<uint16_t>(cqid));
  ioQueuesCreated_ = true;
  return {};
}

// Delete I/O Submission Queue (5.7). Commands are executed as they are fetched, so none of
// this queue's is left in the device; unfetched entries are dropped with the queue.
Completion Controller::deleteSq(Command& cmd) {
  uint32_t qid = cmd.sqe.cdw10 & 0xFFFF;
  if (qid == 0 || qid > config_.queues || !queues_.sq(qid).exists) return fail(specific(SC_INVALID_QUEUE_IDENTIFIER));
  // Commands of this queue still held in the device complete now with Command Aborted due
  // to SQ Deletion (5.7), before the queue goes away.
  abortPendingOf(static_cast<uint16_t>(qid), makeStatus(SCT_GENERIC, SC_ABORTED_SQ_DELETION, false));
  for (size_t i = 0; i < abortRequests_.size();) {
    if (abortRequests_[i].first == qid) abortRequests_.erase(abortRequests_.begin() + static_cast<long>(i));
    else i++;
  }
  queues_.deleteSq(qid);  // unbinds it from its CQ
  stoppedSq_[qid] = false;
  return {};
}

// Delete I/O Completion Queue (5.6): refused while an SQ still uses it.
Completion Controller::deleteCq(Command& cmd) {
  uint32_t qid = cmd.sqe.cdw10 & 0xFFFF;
  if (qid == 0 || qid > config_.queues || !queues_.cq(qid).exists) return fail(specific(SC_INVALID_QUEUE_IDENTIFIER));
  if (queues_.cq(qid).sqRefs) return fail(specific(SC_INVALID_QUEUE_DELETION));
  queues_.deleteCq(qid);
  return {};
}

// Doorbell Buffer Config (NVMe 1.4 §5.7; 2.0 §5.8): PRP1 is the shadow doorbell page,
// PRP2 the EventIdx page, each one memory page (CC.MPS), page aligned — not a data
// transfer, so PSDT must be 0 (PRPs). A page not aligned is Invalid Field in Command (the
// status QEMU returns, with DNR); so is one page named twice (the device's EventIdx writes
// would land on the host's shadow values: the spec names two buffers). A page the device
// cannot reach (the shadow page read, the EventIdx page written, through the IOMMU) is a
// Data Transfer Error, logged, as for any data pointer. Sent again, it replaces the pages;
// a controller reset drops them (QueueSet::reset).
Completion Controller::doorbellBufferConfig(Command& cmd) {
  const uint64_t shadow = cmd.sqe.dptr1, eventIdx = cmd.sqe.dptr2;
  const uint64_t page = regs_.pageSize();
  if ((cmd.sqe.cdw0 >> PSDT_SHIFT) & 0x3) return fail(generic(SC_INVALID_FIELD));
  if ((shadow & (page - 1)) != 0 || (eventIdx & (page - 1)) != 0 || shadow == eventIdx)
    return fail(generic(SC_INVALID_FIELD));
  auto* s = reinterpret_cast<uint32_t*>(iommu_->translateWholeLocked(shadow, page, false));
  auto* e = reinterpret_cast<uint32_t*>(iommu_->translateWholeLocked(eventIdx, page, true));
  if (!s || !e) {
    if (!s) memory_.fault(shadow, page, false, FaultSite::ShadowDoorbell, &cmd);
    if (!e) memory_.fault(eventIdx, page, true, FaultSite::ShadowDoorbell, &cmd);
    return fail(generic(SC_DATA_TRANSFER_ERROR));
  }
  queues_.configureShadow(shadow, eventIdx, static_cast<uint32_t>(page), s, e);
  return {};
}

// Get Log Page (5.14): error information (01h), SMART / health (02h, controller-wide, with
// the device's real counters) and firmware slot information (03h).
Completion Controller::getLogPage(Command& cmd) {
  uint32_t lid = cmd.sqe.cdw10 & 0xFF;
  uint64_t numd = ((cmd.sqe.cdw10 >> 16) | static_cast<uint64_t>(cmd.sqe.cdw11 & 0xFFFF) << 16) + 1;
  uint64_t offset = cmd.sqe.cdw12 | static_cast<uint64_t>(cmd.sqe.cdw13) << 32;
  uint64_t len = numd * 4;
  if (offset % 4 != 0) return fail(generic(SC_INVALID_FIELD));
  uint8_t* d = scratch_.data();
  std::memset(d, 0, IDENTIFY_DATA_SIZE);
  uint64_t size = 0;
  switch (lid) {
    case LOG_ERROR: {
      size = 64 * 64;
      size_t i = 0;
      for (const ErrorEntry& e : errorLog_) {
        uint8_t* x = d + 64 * i++;
        put<uint64_t>(x, 0, e.count);
        put<uint16_t>(x, 8, e.sqid);
        put<uint16_t>(x, 10, e.cid);
        put<uint16_t>(x, 12, static_cast<uint16_t>(e.status << 1));  // status field, phase bit 0
        put<uint16_t>(x, 14, 0xFFFF);  // parameter error location: not reported
        put<uint64_t>(x, 16, e.lba);
        put<uint32_t>(x, 24, e.nsid);
      }
      break;
    }
    case LOG_SMART: {
      if (cmd.sqe.nsid != 0 && cmd.sqe.nsid != 0xFFFFFFFFu) return fail(generic(SC_INVALID_FIELD));  // LPA bit 0 = 0
      size = 512;
      const EmuStats st = stats();
      auto units = [](uint64_t bytes) { return (bytes / 512 + 999) / 1000; };  // 1000 x 512 bytes, rounded up
      d[0] = 0;                          // critical warning
      put<uint16_t>(d, 1, 273 + 35);     // composite temperature: 35 C in kelvin
      d[3] = 100;                        // available spare
      d[4] = 10;                         // spare threshold
      put<uint64_t>(d, 32, units(st.bytesRead));
      put<uint64_t>(d, 48, units(st.bytesWritten));
      put<uint64_t>(d, 64, st.ioOpcodes[IO_READ] + st.ioOpcodes[IO_COMPARE]);
      put<uint64_t>(d, 80, st.ioOpcodes[IO_WRITE] + st.ioOpcodes[IO_WRITE_ZEROES]);
      put<uint64_t>(d, 112, 1);          // power cycles
      uint64_t upNs = monotonicNs() - createdNs_;
      put<uint64_t>(d, 128, upNs / 3600000000000ull);  // power-on hours
      put<uint64_t>(d, 160, mediaErrors_);
      put<uint64_t>(d, 176, errorCount_);
      break;
    }
    case LOG_FIRMWARE_SLOT:
      size = 512;
      d[0] = 0x1;  // AFI: slot 1 active
      std::memcpy(d + 8, "1.0     ", 8);
      break;
    default:
      return fail(specific(SC_INVALID_LOG_PAGE));
  }
  if (offset >= size) return fail(generic(SC_INVALID_FIELD));
  // Bytes past the end of the log read as zeros (the data is staged in a 4 KiB buffer; a
  // longer transfer is refused rather than read past it).
  if (offset + len > IDENTIFY_DATA_SIZE) return fail(generic(SC_INVALID_FIELD));
  return fail(dptr_.transferToHost(cmd, d + offset, len));
}

// Abort (5.1): CDW10 SQID 15:0, CID 31:16. DW0 bit 0 = 0: aborted; 1: not aborted.
Completion Controller::abort(Command& cmd) {
  uint32_t sqid = cmd.sqe.cdw10 & 0xFFFF;
  uint16_t cid = static_cast<uint16_t>(cmd.sqe.cdw10 >> 16);
  if (sqid > config_.queues || !queues_.sq(sqid).exists) return Completion{0, 1};
  if (sqid == ADMIN_QID && cid == cmd.cid) return Completion{0, 1};  // not itself
  return Completion{0, abortCommand(static_cast<uint16_t>(sqid), cid) ? 0u : 1u};
}

// Asynchronous Event Request (5.2): held until an event; at most AERL + 1 = 4 outstanding.
Completion Controller::asyncEventRequest(Command& cmd) {
  if (aers_.size() >= 4) return fail(specific(SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
  if (!aerQueued_.empty()) {
    uint32_t dw0 = aerQueued_.front();
    aerQueued_.erase(aerQueued_.begin());
    return Completion{0, dw0};
  }
  aers_.push_back(cmd.cid);
  Completion c;
  c.deferred = true;
  return c;
}

// Format NVM (5.23): LBAF 0 (512 B) or 1 (4 KiB); no metadata, no protection information;
// FNA bit 0: it applies to every namespace. User data is erased (reads as zeros).
Completion Controller::formatNvm(Command& cmd) {
  uint32_t nsid = cmd.sqe.nsid;
  if (nsid != 0xFFFFFFFFu && (nsid < 1 || nsid > config_.namespaces)) return fail(generic(SC_INVALID_NAMESPACE));
  uint32_t lbaf = cmd.sqe.cdw10 & 0xF, mset = (cmd.sqe.cdw10 >> 4) & 1, pi = (cmd.sqe.cdw10 >> 5) & 0x7;
  uint32_t ses = (cmd.sqe.cdw10 >> 9) & 0x7;
  if (lbaf > 1 || mset || pi) return fail(specific(SC_INVALID_FORMAT));
  if (ses > 1) return fail(generic(SC_INVALID_FIELD));  // no cryptographic erase
  uint32_t lbads = lbaf == 1 ? 12 : 9;
  if (config_.nsBytes % (1ull << lbads) != 0) return fail(specific(SC_INVALID_FORMAT));
  if (!backend_->zero(0, config_.nsBytes * config_.namespaces, true))
    return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  if (durableNow(false) && !makeDurable()) return fail(makeStatus(SCT_MEDIA, SC_WRITE_FAULT, false));
  config_.lbads = lbads;
  nsBlocks_ = config_.nsBytes >> lbads;
  return {};
}

}  // namespace phyr::emu
