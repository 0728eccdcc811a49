// BAR0 registers (3.1) and the enable/shutdown/reset state machine (7.3.2, 7.6).
// Section numbers refer to the NVMe Base Specification 1.4.
#include "emu/native/registers.h"

#include <cstdlib>
#include <cstring>

#include "addon/channel/shared_memory.h"

namespace phyr::emu {
using namespace phyr::nvme;

namespace {
constexpr uint32_t kCapTimeoutUnits = 10;  // CAP.TO: 5 s
constexpr uint32_t kMpsMax = 4;            // CAP.MPSMAX: 64 KiB pages
constexpr uint32_t kVersion14 = 0x00010400;
}  // namespace

RegisterFile::RegisterFile(uint32_t queues, uint32_t maxQueueEntries, uint64_t cmbBytes, uint32_t cmbSupport)
    : queues_(queues), maxQueueEntries_(maxQueueEntries), cmbSupport_(cmbSupport) {
  cmb_.bytes = cmbBytes;
}

bool RegisterFile::allocate(bool shared, std::string* error) {
  // BAR0: registers, then one SQ tail + CQ head doorbell pair per queue (stride 4).
  uint64_t bytes = REG_DOORBELLS + 8ull * (queues_ + 1);
  size_ = (bytes + 4095) / 4096 * 4096;
  if (shared) {
    // A memfd: a served client maps the same pages and rings its doorbells in them; the
    // device thread sees those stores as it sees the driver's (docs/SERVE.md). The memfd
    // is freed (unmapped, closed) with the last holder of the memory.
    auto* region = new channel::SharedRegion;
    if (int err = channel::createShared(size_, false, "phyr-emu-bar0", region)) {
      delete region;
      *error = std::string("cannot allocate the BAR in shared memory: ") + std::strerror(err);
      return false;
    }
    barFd_ = region->fd;
    bar_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(region->addr), [region](uint8_t*) {
      channel::freeShared(region);
      delete region;
    });
    init();
    return true;
  }
  void* mem = nullptr;
  if (posix_memalign(&mem, 4096, size_) != 0) {
    *error = "cannot allocate the BAR";
    return false;
  }
  std::memset(mem, 0, size_);
  bar_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(mem), [](uint8_t* p) { std::free(p); });
  init();
  return true;
}

void RegisterFile::init() {
  cap_ = static_cast<uint64_t>(maxQueueEntries_ - 1) | 1ull << CAP_CQR_SHIFT |
         static_cast<uint64_t>(kCapTimeoutUnits) << CAP_TO_SHIFT | 0ull << CAP_DSTRD_SHIFT |
         CAP_CSS_NVM << CAP_CSS_SHIFT | 0ull << CAP_MPSMIN_SHIFT | static_cast<uint64_t>(kMpsMax) << CAP_MPSMAX_SHIFT |
         (cmb_.bytes ? 1ull << CAP_CMBS_SHIFT : 0);
  setReg64(REG_CAP, cap_);
  setReg32(REG_VS, kVersion14);
  csts_ = 0;
  setReg32(REG_CSTS, 0);
}

bool RegisterFile::poll(RegisterHost& host) {
  // CC changes are acquire loads of the register the driver stores with release.
  uint32_t cc = reg32(REG_CC);
  bool changed = false;
  if (cc != ccSeen_) {
    handleCcChange(cc, host);
    changed = true;
  } else if (enableFailed_ && (cc & CC_EN) && ((cc >> CC_SHN_SHIFT) & 0x3) == 0) {
    uint32_t before = csts_;
    retryFailedEnable(cc, host);
    changed = csts_ != before;
  }
  syncCmb();
  restoreReadOnlyRegisters();
  handleInterruptMaskRegisters();
  return changed;
}

// The driver may store anything into BAR memory; registers it may not write get their
// value back, as a read-only register would keep it.
void RegisterFile::restoreReadOnlyRegisters() {
  if (reg64(REG_CAP) != cap_) setReg64(REG_CAP, cap_);
  if (reg32(REG_VS) != kVersion14) setReg32(REG_VS, kVersion14);
  if (reg32(REG_CSTS) != csts_) setReg32(REG_CSTS, csts_);
  if (reg32(REG_NSSR) != 0) setReg32(REG_NSSR, 0);  // CAP.NSSRS = 0: no subsystem reset
  if (reg32(REG_CMBLOC) != cmbloc_) setReg32(REG_CMBLOC, cmbloc_);
  if (reg32(REG_CMBSZ) != cmbsz_) setReg32(REG_CMBSZ, cmbsz_);
  if (reg32(REG_CMBSTS) != cmbsts_) setReg32(REG_CMBSTS, cmbsts_);
}

// CMBMSC (3.1.16, v1.4 semantics): CRE makes CMBLOC/CMBSZ read their values (0 before);
// CMSE with CRE enables the controller memory space at CBA — command addresses in
// [CBA, CBA + size) then reach the CMB directly, not through the IOMMU. A CBA whose window
// would wrap 64 bits is invalid: CMBSTS.CBAI and no window.
void RegisterFile::syncCmb() {
  if (!cmb_.bytes) {
    if (reg64(REG_CMBMSC) != 0) setReg64(REG_CMBMSC, 0);  // CAP.CMBS = 0: reserved
    return;
  }
  uint64_t msc = reg64(REG_CMBMSC);
  if (msc == cmbMscSeen_) return;
  cmbMscSeen_ = msc;
  bool cre = msc & CMBMSC_CRE, cmse = msc & CMBMSC_CMSE;
  // BIR 2, offset 0; the support bits of cmbsz= (default SQS, LISTS, RDS, WDS); SZU 0 (4 KiB units).
  cmbloc_ = cre ? 2u : 0u;
  cmbsz_ = cre ? static_cast<uint32_t>(cmbSupport_ | (cmb_.bytes / 4096) << CMBSZ_SZ_SHIFT)
               : 0u;
  uint64_t cba = msc & ~0xFFFull;
  bool valid = cba + cmb_.bytes > cba;
  cmbsts_ = cre && cmse && !valid ? static_cast<uint32_t>(CMBSTS_CBAI) : 0u;
  cmb_.on = cre && cmse && valid;
  cmb_.base = cba;
  setReg32(REG_CMBLOC, cmbloc_);
  setReg32(REG_CMBSZ, cmbsz_);
  setReg32(REG_CMBSTS, cmbsts_);
}

// INTMS/INTMC (3.1.3, 3.1.4): writing 1s sets / clears mask bits; both read the mask. The
// device sees a write as a value differing from the mask it last published (so writing
// INTMC with exactly the current mask cannot be told apart from no write). With MSI-X
// vectors (the only kind here) the spec leaves these registers without effect.
void RegisterFile::handleInterruptMaskRegisters() {
  uint32_t ms = reg32(REG_INTMS), mc = reg32(REG_INTMC);
  if (ms == intMask_ && mc == intMask_) return;
  if (ms != intMask_) intMask_ |= ms;
  if (mc != intMask_) intMask_ &= ~mc;
  setReg32(REG_INTMS, intMask_);
  setReg32(REG_INTMC, intMask_);
}

void RegisterFile::fatal(const char* /*why*/) {
  csts_ |= CSTS_CFS;
  setReg32(REG_CSTS, csts_);
  halted_ = true;
}

// CC.EN 1 -> 0 (7.3.2): the host drops queues, pending commands and features; the
// controller is then disabled, not halted, and CSTS reads 0.
void RegisterFile::reset(RegisterHost& host) {
  host.resetController();
  enabled_ = false;
  enableFailed_ = false;
  halted_ = false;
  csts_ = 0;
  setReg32(REG_CSTS, csts_);
}

// CC.EN 0 -> 1 (7.6.1): check the admin queue and entry sizes; a bad value is a fatal
// controller status (CSTS.CFS) and the controller does not become ready.
void RegisterFile::enable(uint32_t cc, RegisterHost& host) {
  if (!enableFieldsValid(cc) || fatalOnEnable_) {
    fatal(fatalOnEnable_ ? "sticky injected fault" : "bad admin queue or CC fields at enable");
    enableFailed_ = true;
    return;
  }
  uint32_t aqa = reg32(REG_AQA);
  uint32_t asqs = (aqa & AQA_SIZE_MASK) + 1, acqs = ((aqa >> AQA_ACQS_SHIFT) & AQA_SIZE_MASK) + 1;
  uint32_t mps = (cc >> CC_MPS_SHIFT) & 0xF;
  pageSize_ = 4096u << (mps <= kMpsMax ? mps : 0);
  host.createAdminQueues(reg64(REG_ASQ), asqs, reg64(REG_ACQ), acqs);
  enabled_ = true;
  csts_ |= CSTS_RDY;
  setReg32(REG_CSTS, csts_);
}

bool RegisterFile::enableFieldsValid(uint32_t cc) const {
  uint32_t aqa = reg32(REG_AQA);
  uint64_t asq = reg64(REG_ASQ), acq = reg64(REG_ACQ);
  uint32_t asqs = (aqa & AQA_SIZE_MASK) + 1, acqs = ((aqa >> AQA_ACQS_SHIFT) & AQA_SIZE_MASK) + 1;
  uint32_t mps = (cc >> CC_MPS_SHIFT) & 0xF;
  uint32_t css = (cc >> CC_CSS_SHIFT) & 0x7, ams = (cc >> CC_AMS_SHIFT) & 0x7;
  uint32_t iosqes = (cc >> CC_IOSQES_SHIFT) & 0xF, iocqes = (cc >> CC_IOCQES_SHIFT) & 0xF;
  auto check = [this](EnableCheck c) { return checked(static_cast<uint8_t>(c)); };
  bool aqaOk = asqs >= 2 && acqs >= 2 && asqs <= maxQueueEntries_ && acqs <= maxQueueEntries_;
  return (aqaOk || !check(EnableCheck::Aqa)) && (((asq & 0xFFF) == 0 && (acq & 0xFFF) == 0) || !check(EnableCheck::AsqAlignment)) &&
         (mps <= kMpsMax || !check(EnableCheck::Mps)) && css == 0 && ams == 0 && (iosqes == IOSQES || !check(EnableCheck::Iosqes)) &&
         (iocqes == IOCQES || !check(EnableCheck::Iocqes));
}

// An enable that raised CSTS.CFS leaves CSTS.RDY at 0 with CC.EN at 1. A host that resets
// such a controller clears CC.EN and finds RDY already 0, so nothing makes it wait for the
// device to see the 0: this device polls CC, and a 1 -> 0 -> 1 between two passes leaves
// no trace. The failed enable therefore stays pending while CC.EN reads 1, and is carried
// out on the first pass at which it would succeed (the fields are valid, no sticky rule
// holds it): a missed toggle and a seen one end in the same state.
void RegisterFile::retryFailedEnable(uint32_t cc, RegisterHost& host) {
  if (fatalOnEnable_ || !enableFieldsValid(cc)) return;
  enableFailed_ = false;
  halted_ = false;
  csts_ = 0;
  enable(cc, host);
}

// CC.SHN (7.6.2): complete outstanding work, make writes durable, report SHST complete.
// Commands are not processed afterwards until a reset.
void RegisterFile::shutdown(RegisterHost& host) {
  csts_ = (csts_ & ~static_cast<uint32_t>(CSTS_SHST_MASK)) | SHST_OCCURRING << CSTS_SHST_SHIFT;
  setReg32(REG_CSTS, csts_);
  host.flushForShutdown();
  halted_ = true;
  csts_ = (csts_ & ~static_cast<uint32_t>(CSTS_SHST_MASK)) | SHST_COMPLETE << CSTS_SHST_SHIFT;
  setReg32(REG_CSTS, csts_);
}

void RegisterFile::handleCcChange(uint32_t cc, RegisterHost& host) {
  uint32_t old = ccSeen_;
  ccSeen_ = cc;
  if ((old & CC_EN) && !(cc & CC_EN)) {
    reset(host);
    return;
  }
  uint32_t shn = (cc >> CC_SHN_SHIFT) & 0x3, oldShn = (old >> CC_SHN_SHIFT) & 0x3;
  if (!(old & CC_EN) && (cc & CC_EN)) enable(cc, host);
  if (shn != 0 && oldShn == 0) shutdown(host);
  if (shn == 0 && oldShn != 0 && !(csts_ & CSTS_CFS)) {
    // Clearing SHN re-arms shutdown; processing restarts only after a reset.
    csts_ &= ~static_cast<uint32_t>(CSTS_SHST_MASK);
    setReg32(REG_CSTS, csts_);
  }
}

// Relaxed stores: the driver reads BAR words with its own loads; what orders the fill
// before the remover's return is the caller's release of its acknowledgement.
void RegisterFile::fillOnes() {
  auto* words = reinterpret_cast<uint32_t*>(bar_.get());
  for (uint64_t i = 0; i < size_ / 4; i++) __atomic_store_n(&words[i], 0xFFFFFFFFu, __ATOMIC_RELAXED);
}

bool RegisterFile::refillOnes() {
  bool changed = false;
  auto* words = reinterpret_cast<uint32_t*>(bar_.get());
  for (uint64_t i = 0; i < size_ / 4; i++) {
    // Relaxed: the value is only compared with all ones, nothing else is read through it.
    if (__atomic_load_n(&words[i], __ATOMIC_RELAXED) != 0xFFFFFFFFu) {
      __atomic_store_n(&words[i], 0xFFFFFFFFu, __ATOMIC_RELAXED);
      changed = true;
    }
  }
  return changed;
}

}  // namespace phyr::emu
