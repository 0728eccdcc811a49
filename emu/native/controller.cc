// Controller lifecycle, registers, the device thread and queue processing.
// Section numbers refer to the NVMe Base Specification 1.4.
#include "emu/native/controller.h"

#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>

#include "addon/eventfd/eventfd_ops.h"
#include "emu/native/hex.h"

namespace phyr::emu {
using namespace phyr::nvme;

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
constexpr uint32_t kCapTimeoutUnits = 10;  // CAP.TO: 5 s
constexpr uint32_t kMpsMax = 4;            // CAP.MPSMAX: 64 KiB pages
constexpr uint32_t kVersion14 = 0x00010400;

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

const char* faultSiteName(FaultSite s) {
  switch (s) {
    case FaultSite::SqFetch: return "sq-fetch";
    case FaultSite::CqPost: return "cq-post";
    case FaultSite::PrpList: return "prp-list";
    case FaultSite::SglSegment: return "sgl-segment";
    case FaultSite::Data: return "data";
  }
  return "?";
}

std::string validateConfig(const EmuConfig& c) {
  if (c.backend != "null" && c.backend != "ram" && c.backend != "file") return "backend must be null, ram or file:PATH";
  if (c.backend == "file" && c.path.empty()) return "backend=file needs a path (file:PATH)";
  if (c.namespaces < 1 || c.namespaces > 1024) return "ns must be 1..1024";
  if (c.lbads != 9 && c.lbads != 12) return "lbads must be 9 or 12";
  if (c.nsBytes < (1ull << c.lbads) || c.nsBytes % (1ull << c.lbads) != 0)
    return "size must be a non-zero multiple of the LBA size (" + std::to_string(1u << c.lbads) + " bytes)";
  if (c.nsBytes > (1ull << 46) || c.nsBytes * c.namespaces > (1ull << 46)) return "ns x size must not exceed 64 TiB";
  if (c.queues < 1 || c.queues > 1024) return "queues must be 1..1024";
  if (c.qsize < 2 || c.qsize > 65536) return "qsize must be 2..65536";
  if (c.mdts > 15) return "mdts must be 0..15";
  if (c.cmbBytes % 4096 != 0 || c.cmbBytes > (1ull << 30)) return "cmb must be a multiple of 4 KiB, at most 1G";
  for (const FaultRule& r : c.faults) {
    if (r.kind == FaultKind::Corrupt && r.byte >= (1u << c.lbads))
      return "fault corrupt: byte=" + std::to_string(r.byte) + " must be below the LBA size (" +
             std::to_string(1u << c.lbads) + " bytes)";
  }
  return {};
}

Controller::Controller(const EmuConfig& config, std::shared_ptr<IommuTable> iommu)
    : config_(config), iommu_(std::move(iommu)) {}

std::unique_ptr<Controller> Controller::create(const EmuConfig& config, std::shared_ptr<IommuTable> iommu,
                                               std::string* error, BackendError* detail) {
  *error = validateConfig(config);
  if (!error->empty()) return nullptr;
  std::unique_ptr<Controller> c(new Controller(config, iommu ? std::move(iommu) : std::make_shared<IommuTable>()));
  BackendError be;
  c->backend_ = makeBackend(config.backend, config.path, config.nsBytes * config.namespaces, &be);
  if (!c->backend_) {
    *error = be.message;
    if (detail) *detail = be;
    return nullptr;
  }
  // BAR0: registers, then one SQ tail + CQ head doorbell pair per queue (stride 4).
  uint64_t bytes = REG_DOORBELLS + 8ull * (config.queues + 1);
  c->bar0Size_ = (bytes + 4095) / 4096 * 4096;
  void* mem = nullptr;
  if (posix_memalign(&mem, 4096, c->bar0Size_) != 0) {
    *error = "cannot allocate the BAR";
    return nullptr;
  }
  std::memset(mem, 0, c->bar0Size_);
  c->bar0_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(mem), [](uint8_t* p) { std::free(p); });
  c->sqs_.resize(config.queues + 1);
  c->cqs_.resize(config.queues + 1);
  c->irqCqs_.reserve(config.queues + 1);
  c->stoppedSq_.assign(config.queues + 1, false);
  c->rules_ = config.faults;
  c->pending_.reserve(4096);
  c->createdNs_ = nowNs();
  for (const FaultRule& r : config.faults) {
    if (r.kind == FaultKind::Stop && r.qid >= 0 && static_cast<uint32_t>(r.qid) <= config.queues) c->stoppedSq_[r.qid] = true;
  }
  c->sqAllocated_ = c->cqAllocated_ = config.queues;
  c->maxTransfer_ = config.mdts ? (4096ull << config.mdts) : 0;
  c->nsBlocks_ = config.nsBytes >> config.lbads;
  c->pieces_.reserve((c->maxTransfer_ ? c->maxTransfer_ / 4096 + 2 : 1024) + 4096);
  c->sglSegment_.reserve(4096);
  c->scratch_.resize(IDENTIFY_DATA_SIZE);

  // Config space (PCI 3.0 header type 0 + an MSI-X capability).
  uint8_t* cs = c->configSpace_;
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
  put16(kPciMsixCapOffset + pci::MSIX_CTRL, static_cast<uint16_t>(c->msixTableSize() - 1));
  if (config.cmbBytes) {
    void* cmb = nullptr;
    if (posix_memalign(&cmb, 4096, config.cmbBytes) != 0) {
      *error = "cannot allocate the controller memory buffer";
      return nullptr;
    }
    std::memset(cmb, 0, config.cmbBytes);
    c->cmb_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(cmb), [](uint8_t* p) { std::free(p); });
    put32(pci::CFG_BAR2, pci::BAR_MEM_64 | pci::BAR_PREFETCHABLE);
  }
  c->initRegisters();
  // faults=remove (after=0): the function is gone from the start, as a slot whose device
  // was pulled before the driver looked at it.
  for (const FaultRule& r : config.faults)
    if (r.kind == FaultKind::Remove && r.after == 0) c->removeNow();
  return c;
}

Controller::~Controller() {
  stop();
  std::lock_guard<std::mutex> lock(vectorMutex_);
  for (int fd : vectorFds_) {
    eventfd::disown(fd);
    close(fd);
  }
}

void Controller::start() {
  if (thread_.joinable()) return;
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
}

void Controller::stop() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

// The device thread: poll the BAR; after kSpinNs without work, sleep in growing steps so an
// idle controller costs almost no CPU. Wake-up latency (time from a doorbell write to the
// device noticing it) is therefore: ~0 while busy or within 50 us of the last work; up to
// ~20 us (+ scheduler wake-up) within 10 ms; up to ~200 us within 1 s; up to ~1 ms after.
void Controller::run() {
  prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us timer slack: short sleeps stay short
  constexpr uint64_t kSpinNs = 50'000;
  uint64_t lastWork = nowNs();
  while (!stopping_.load(std::memory_order_acquire)) {
    if (pollOnce()) {
      lastWork = nowNs();
      continue;
    }
    uint64_t now = nowNs();
    uint64_t idle = now - lastWork;
    uint64_t due = nextPendingDue();
    if (idle < kSpinNs || (due && due < now + 100'000)) {
      __builtin_ia32_pause();  // spin: recent work, or a held completion due within 100 us
      continue;
    }
    uint64_t sleepNs = idle < 10'000'000 ? 20'000 : idle < 1'000'000'000 ? 200'000 : 1'000'000;
    if (due) sleepNs = std::min<uint64_t>(sleepNs, due - now - 50'000);
    timespec ts{0, static_cast<long>(sleepNs)};
    nanosleep(&ts, nullptr);
  }
}

std::shared_ptr<uint8_t> Controller::barMemory(int index) const {
  if (index == 0) return bar0_;
  if (index == 2 && cmb_) return cmb_;
  return nullptr;
}

uint64_t Controller::barSize(int index) const {
  if (index == 0) return bar0Size_;
  if (index == 2 && cmb_) return config_.cmbBytes;
  return 0;
}

uint32_t Controller::configRead(uint32_t offset, uint32_t size) const {
  // A removed function answers no configuration read: the root port completes it with all
  // ones (PCIe 3.0 §2.3.2, Unsupported Request to a missing device). Acquire: pairs with
  // the release in surpriseRemove()/removeNow().
  if (removed_.load(std::memory_order_acquire)) return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  std::lock_guard<std::mutex> lock(configMutex_);
  uint32_t v = 0;
  std::memcpy(&v, configSpace_ + offset, size);
  return v;
}

void Controller::configWrite(uint32_t offset, uint32_t size, uint32_t value) {
  // Writes to a removed function go nowhere (acquire: as in configRead).
  if (removed_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(configMutex_);
  // Only the command register and the MSI-X enable/mask bits are writable; other writes
  // are dropped, as read-only PCI registers do.
  for (uint32_t i = 0; i < size; i++) {
    uint32_t off = offset + i;
    uint8_t byte = static_cast<uint8_t>(value >> (8 * i));
    if (off == pci::CFG_COMMAND) {
      configSpace_[off] = byte & (pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
    } else if (off == pci::CFG_COMMAND + 1) {
      configSpace_[off] = byte & (pci::COMMAND_INTX_DISABLE >> 8);
    } else if (off == kPciMsixCapOffset + pci::MSIX_CTRL + 1) {
      configSpace_[off] = (configSpace_[off] & kMsixCtrlHighReadOnly) | (byte & kMsixCtrlHighWritable);
    }
  }
  uint16_t command;
  std::memcpy(&command, configSpace_ + pci::CFG_COMMAND, 2);
  // Bus Master Enable gates every DMA of the device (PCI 3.0 §6.2.2).
  busMaster_.store((command & pci::COMMAND_BUS_MASTER) != 0, std::memory_order_release);
}

std::vector<int> Controller::enableMsix(uint32_t count, std::string* error) {
  if (count < 1 || count > msixTableSize()) {
    *error = "vector count " + std::to_string(count) + " is out of range: the controller has 1.." +
             std::to_string(msixTableSize()) + " vectors";
    return {};
  }
  std::vector<int> fds;
  for (uint32_t i = 0; i < count; i++) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
      *error = std::string("eventfd failed: ") + std::strerror(errno);
      for (int f : fds) {
        eventfd::disown(f);
        close(f);
      }
      return {};
    }
    // The driver may watch and read these, never close them (eventfd_ops.h: Owner).
    eventfd::own(fd, eventfd::Owner::Emu);
    fds.push_back(fd);
  }
  std::lock_guard<std::mutex> lock(vectorMutex_);
  for (int fd : vectorFds_) {
    eventfd::disown(fd);
    close(fd);
  }
  vectorFds_ = fds;
  return fds;
}

std::vector<FaultRecord> Controller::faultLog() {
  std::lock_guard<std::mutex> lock(faultMutex_);
  return {faults_.begin(), faults_.end()};
}

void Controller::clearFaults() {
  std::lock_guard<std::mutex> lock(faultMutex_);
  faults_.clear();
  __atomic_store_n(&faultTotal_, 0, __ATOMIC_RELAXED);
}

void Controller::recordFault(uint64_t iova, uint64_t len, bool write, FaultSite site, const Command* cmd) {
  std::lock_guard<std::mutex> lock(faultMutex_);
  if (faults_.size() == kMaxFaultLog) faults_.pop_front();
  faults_.push_back(FaultRecord{iova, len, write, site, cmd ? cmd->sqid : uint16_t{0}, cmd ? cmd->cid : uint16_t{0},
                                cmd ? cmd->opcode : uint8_t{0}});
  __atomic_store_n(&faultTotal_, faultTotal_ + 1, __ATOMIC_RELAXED);
}

EmuStats Controller::stats() const {
  EmuStats s;
  const uint64_t* src = reinterpret_cast<const uint64_t*>(&stats_);
  uint64_t* dst = reinterpret_cast<uint64_t*>(&s);
  for (size_t i = 0; i < sizeof(EmuStats) / 8; i++) dst[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
  return s;
}

// ---- Registers (3.1) ----

void Controller::initRegisters() {
  cap_ = static_cast<uint64_t>(config_.qsize - 1) | 1ull << CAP_CQR_SHIFT |
         static_cast<uint64_t>(kCapTimeoutUnits) << CAP_TO_SHIFT | 0ull << CAP_DSTRD_SHIFT |
         CAP_CSS_NVM << CAP_CSS_SHIFT | 0ull << CAP_MPSMIN_SHIFT | static_cast<uint64_t>(kMpsMax) << CAP_MPSMAX_SHIFT |
         (config_.cmbBytes ? 1ull << CAP_CMBS_SHIFT : 0);
  setReg64(REG_CAP, cap_);
  setReg32(REG_VS, kVersion14);
  csts_ = 0;
  setReg32(REG_CSTS, 0);
}

// The driver may store anything into BAR memory; registers it may not write get their
// value back, as a read-only register would keep it.
void Controller::restoreReadOnlyRegisters() {
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
void Controller::handleCmbRegisters() {
  if (!cmb_) {
    if (reg64(REG_CMBMSC) != 0) setReg64(REG_CMBMSC, 0);  // CAP.CMBS = 0: reserved
    return;
  }
  uint64_t msc = reg64(REG_CMBMSC);
  if (msc == cmbMscSeen_) return;
  cmbMscSeen_ = msc;
  bool cre = msc & CMBMSC_CRE, cmse = msc & CMBMSC_CMSE;
  // BIR 2, offset 0; SQS, LISTS, RDS, WDS (no CQs); SZU 0 (4 KiB units).
  cmbloc_ = cre ? 2u : 0u;
  cmbsz_ = cre ? static_cast<uint32_t>(CMBSZ_SQS | CMBSZ_LISTS | CMBSZ_RDS | CMBSZ_WDS |
                                       (config_.cmbBytes / 4096) << CMBSZ_SZ_SHIFT)
               : 0u;
  uint64_t cba = msc & ~0xFFFull;
  bool valid = cba + config_.cmbBytes > cba;
  cmbsts_ = cre && cmse && !valid ? static_cast<uint32_t>(CMBSTS_CBAI) : 0u;
  cmbWindow_ = cre && cmse && valid;
  cmbBase_ = cba;
  setReg32(REG_CMBLOC, cmbloc_);
  setReg32(REG_CMBSZ, cmbsz_);
  setReg32(REG_CMBSTS, cmbsts_);
}

// INTMS/INTMC (3.1.3, 3.1.4): writing 1s sets / clears mask bits; both read the mask. The
// device sees a write as a value differing from the mask it last published (so writing
// INTMC with exactly the current mask cannot be told apart from no write). With MSI-X
// vectors (the only kind here) the spec leaves these registers without effect.
void Controller::handleInterruptMaskRegisters() {
  uint32_t ms = reg32(REG_INTMS), mc = reg32(REG_INTMC);
  if (ms == intMask_ && mc == intMask_) return;
  if (ms != intMask_) intMask_ |= ms;
  if (mc != intMask_) intMask_ &= ~mc;
  setReg32(REG_INTMS, intMask_);
  setReg32(REG_INTMC, intMask_);
}

void Controller::fatal(const char* /*why*/) {
  csts_ |= CSTS_CFS;
  setReg32(REG_CSTS, csts_);
  halted_ = true;
}

void Controller::resetQueues() {
  irqCqs_.clear();
  for (auto& q : sqs_) q = SubmissionQueue{};
  for (auto& q : cqs_) q = CompletionQueue{};
  // Doorbells read 0 after a reset.
  for (uint32_t i = 0; i < 2 * (config_.queues + 1); i++)
    __atomic_store_n(reinterpret_cast<uint32_t*>(bar0_.get() + REG_DOORBELLS + 4 * i), 0u, __ATOMIC_RELEASE);
}

// CC.EN 1 -> 0 (7.3.2): drop every queue and pending command, forget features.
void Controller::controllerReset() {
  resetQueues();
  pending_.clear();
  __atomic_store_n(&pendingCount_, 0, __ATOMIC_RELAXED);
  abortRequests_.clear();
  aers_.clear();
  aerQueued_.clear();
  sqAllocated_ = cqAllocated_ = config_.queues;
  ioQueuesCreated_ = false;
  volatileWriteCache_ = true;
  interruptCoalescing_ = 0;
  asyncEventConfig_ = 0;
  enabled_ = false;
  halted_ = false;
  csts_ = 0;
  setReg32(REG_CSTS, csts_);
}

// CC.EN 0 -> 1 (7.6.1): check the admin queue and entry sizes; a bad value is a fatal
// controller status (CSTS.CFS) and the controller does not become ready.
void Controller::enable(uint32_t cc) {
  uint32_t aqa = reg32(REG_AQA);
  uint64_t asq = reg64(REG_ASQ), acq = reg64(REG_ACQ);
  uint32_t asqs = (aqa & AQA_SIZE_MASK) + 1, acqs = ((aqa >> AQA_ACQS_SHIFT) & AQA_SIZE_MASK) + 1;
  uint32_t mps = (cc >> CC_MPS_SHIFT) & 0xF;
  uint32_t css = (cc >> CC_CSS_SHIFT) & 0x7, ams = (cc >> CC_AMS_SHIFT) & 0x7;
  uint32_t iosqes = (cc >> CC_IOSQES_SHIFT) & 0xF, iocqes = (cc >> CC_IOCQES_SHIFT) & 0xF;
  bool ok = asqs >= 2 && acqs >= 2 && asqs <= config_.qsize && acqs <= config_.qsize && (asq & 0xFFF) == 0 &&
            (acq & 0xFFF) == 0 && mps <= kMpsMax && css == 0 && ams == 0 && iosqes == IOSQES && iocqes == IOCQES;
  if (!ok) {
    fatal("bad admin queue or CC fields at enable");
    return;
  }
  pageSize_ = 4096u << mps;
  sqs_[0] = SubmissionQueue{true, asq, asqs, 0, 0, 0};
  cqs_[0] = CompletionQueue{};
  cqs_[0].exists = true;
  cqs_[0].base = acq;
  cqs_[0].size = acqs;
  cqs_[0].interrupts = true;
  cqs_[0].sqRefs = 1;
  enabled_ = true;
  csts_ |= CSTS_RDY;
  setReg32(REG_CSTS, csts_);
}

// CC.SHN (7.6.2): complete outstanding work, make writes durable, report SHST complete.
// Commands are not processed afterwards until a reset.
void Controller::shutdown() {
  csts_ = (csts_ & ~static_cast<uint32_t>(CSTS_SHST_MASK)) | SHST_OCCURRING << CSTS_SHST_SHIFT;
  setReg32(REG_CSTS, csts_);
  makeDurable();
  halted_ = true;
  csts_ = (csts_ & ~static_cast<uint32_t>(CSTS_SHST_MASK)) | SHST_COMPLETE << CSTS_SHST_SHIFT;
  setReg32(REG_CSTS, csts_);
}

void Controller::handleCcChange(uint32_t cc) {
  uint32_t old = ccSeen_;
  ccSeen_ = cc;
  if ((old & CC_EN) && !(cc & CC_EN)) {
    controllerReset();
    return;
  }
  uint32_t shn = (cc >> CC_SHN_SHIFT) & 0x3, oldShn = (old >> CC_SHN_SHIFT) & 0x3;
  if (!(old & CC_EN) && (cc & CC_EN)) enable(cc);
  if (shn != 0 && oldShn == 0) shutdown();
  if (shn == 0 && oldShn != 0 && !(csts_ & CSTS_CFS)) {
    // Clearing SHN re-arms shutdown; processing restarts only after a reset.
    csts_ &= ~static_cast<uint32_t>(CSTS_SHST_MASK);
    setReg32(REG_CSTS, csts_);
  }
}

// ---- Surprise removal ----

void Controller::surpriseRemove() {
  // Release: a device pass or config access that sees the flag (acquire) stops acting on
  // the device's state from then on.
  removed_.store(true, std::memory_order_release);
  if (!thread_.joinable()) {
    // No device thread (manual polling, or stopped): nobody else touches the device state,
    // so the caller does what the device thread would.
    if (!removedAck_.load(std::memory_order_acquire)) removeNow();
    return;
  }
  // Acquire: pairs with removeNow()'s release of removedAck_, so the BAR fill and the end
  // of every command processing happen before this returns. The device thread notices the
  // flag within one idle sleep (at most ~1 ms, see run()).
  while (!removedAck_.load(std::memory_order_acquire)) {
    timespec ts{0, 20'000};
    nanosleep(&ts, nullptr);
  }
}

// Device thread (or the only thread): stop processing for good and fill the BARs with ones.
void Controller::removeNow() {
  halted_ = true;
  irqCqs_.clear();
  // Relaxed stores: the driver reads BAR words with its own loads; what orders the fill
  // before the remover's return is removedAck_'s release below.
  auto* words = reinterpret_cast<uint32_t*>(bar0_.get());
  for (uint64_t i = 0; i < bar0Size_ / 4; i++) __atomic_store_n(&words[i], 0xFFFFFFFFu, __ATOMIC_RELAXED);
  // The CMB is filled once; stores the driver makes into it later stay visible (it is plain
  // memory the device cannot trap, unlike the BAR0 registers it re-fills every pass).
  if (cmb_) std::memset(cmb_.get(), 0xFF, config_.cmbBytes);
  removed_.store(true, std::memory_order_release);  // removal by a rule: publish the flag
  removedAck_.store(true, std::memory_order_release);
}

// A pass of a removed device: every BAR0 word the driver stored since reads all ones again.
// Returns true when it put something back (the device thread then keeps spinning briefly).
bool Controller::removedPass() {
  if (!removedAck_.load(std::memory_order_relaxed)) {  // only this thread stores it true
    removeNow();
    return true;
  }
  bool changed = false;
  auto* words = reinterpret_cast<uint32_t*>(bar0_.get());
  for (uint64_t i = 0; i < bar0Size_ / 4; i++) {
    // Relaxed: the value is only compared with all ones, nothing else is read through it.
    if (__atomic_load_n(&words[i], __ATOMIC_RELAXED) != 0xFFFFFFFFu) {
      __atomic_store_n(&words[i], 0xFFFFFFFFu, __ATOMIC_RELAXED);
      changed = true;
    }
  }
  return changed;
}

bool Controller::pollOnce() {
  // Acquire: pairs with surpriseRemove()'s release; a removed device reads no register,
  // runs no command, posts no completion and signals no vector again.
  if (removed_.load(std::memory_order_acquire)) return removedPass();
  // CC changes are acquire loads of the register the driver stores with release.
  uint32_t cc = reg32(REG_CC);
  bool work = false;
  if (cc != ccSeen_) {
    handleCcChange(cc);
    work = true;
  }
  handleCmbRegisters();
  restoreReadOnlyRegisters();
  handleInterruptMaskRegisters();
  // No DMA at all while Bus Master Enable is clear: commands wait in their queues.
  if (injectedPending_.load(std::memory_order_acquire)) {
    takeInjected();
    work = true;
  }
  if (!enabled_ || halted_ || !busMaster_.load(std::memory_order_acquire)) return work;
  return processQueues() || work;
}

// ---- Queues (4.1, 4.6) ----

void Controller::readCqDoorbells() {
  for (uint32_t q = 0; q <= config_.queues; q++) {
    CompletionQueue& cq = cqs_[q];
    if (!cq.exists) continue;
    uint32_t head = doorbell(2 * q + 1);
    if (head == cq.head) continue;
    // A head past the entries the device posted is an invalid doorbell write (4.1): keep
    // the old value.
    uint32_t posted = (cq.tail + cq.size - cq.head) % cq.size;
    uint32_t advance = (head + cq.size - cq.head) % cq.size;
    if (head >= cq.size || advance > posted) {
      bump(stats_.invalidDoorbells);
      __atomic_store_n(reinterpret_cast<uint32_t*>(bar0_.get() + REG_DOORBELLS + 8 * q + 4), cq.head, __ATOMIC_RELEASE);
      asyncEvent(0, 1, LOG_ERROR);  // error event: invalid doorbell write value
      continue;
    }
    cq.head = head;
  }
}

bool Controller::processQueues() {
  std::lock_guard<std::mutex> lock(iommu_->mutex);  // once per batch, not per access
  readCqDoorbells();
  bool work = false;
  if (!pending_.empty()) work = completeDue(nowNs());
  // The removal flag is checked per queue too (relaxed: it only ends this pass sooner; the
  // pass-start acquire in pollOnce() is what the ordering rests on), so a removal injected
  // during a long pass does not wait for every queue's batch.
  for (uint32_t q = 0; q <= config_.queues && !halted_ && !removed_.load(std::memory_order_relaxed); q++) {
    SubmissionQueue& sq = sqs_[q];
    if (!sq.exists) continue;
    uint32_t tail = doorbell(2 * q);
    if (tail != sq.tail) {
      if (tail >= sq.size) {
        bump(stats_.invalidDoorbells);
        __atomic_store_n(reinterpret_cast<uint32_t*>(bar0_.get() + REG_DOORBELLS + 8 * q), sq.tail, __ATOMIC_RELEASE);
        asyncEvent(0, 1, LOG_ERROR);
      } else {
        sq.tail = tail;
      }
    }
    if (sq.head != sq.tail && !stoppedSq_[q]) work |= processSq(static_cast<uint16_t>(q), 256) > 0;
  }
  if (work) signalInterrupts();
  return work;
}

uint32_t Controller::processSq(uint16_t sqid, uint32_t budget) {
  // Registers the driver wrote before this doorbell are visible now (the doorbell load was
  // an acquire): pick up a CMB window change before running the commands that rely on it.
  handleCmbRegisters();
  // Bus Master Enable again, after the doorbell's acquire: a config write that cleared it
  // before this doorbell was rung must stop these commands (on a real bus the non-posted
  // config write completes before the doorbell write is issued).
  if (!busMaster_.load(std::memory_order_acquire)) return 0;
  // Likewise rules injected before this doorbell (e.g. clear, then read) apply to it.
  if (injectedPending_.load(std::memory_order_acquire)) {
    takeInjected();
    if (halted_ || stoppedSq_[sqid]) return 0;
  }
  SubmissionQueue& sq = sqs_[sqid];
  uint32_t done = 0;
  while (sq.head != sq.tail && done < budget && !halted_) {
    CompletionQueue& cq = cqs_[sq.cqid];
    // Fetch only when the completion has a free slot to go to, so the CQ never overruns.
    uint32_t used = cq.tail >= cq.head ? cq.tail - cq.head : cq.tail + cq.size - cq.head;  // no division
    if (used + cq.reserved + 1 >= cq.size) break;
    if (config_.timing.inflight && sqid != ADMIN_QID && pending_.size() >= config_.timing.inflight) break;
    Command cmd;
    uint64_t iova = sq.base + static_cast<uint64_t>(sq.head) * SQE_SIZE;
    uint64_t avail = 0;
    const uint8_t* p = translateForDevice(iova, SQE_SIZE, false, &avail);
    if (!p || avail != SQE_SIZE) {
      recordFault(iova, SQE_SIZE, false, FaultSite::SqFetch, nullptr);
      fatal("SQ fetch fault");
      break;
    }
    std::memcpy(&cmd.sqe, p, sizeof cmd.sqe);
    sq.head = sq.head + 1 == sq.size ? 0 : sq.head + 1;
    cmd.sqid = sqid;
    cmd.cid = static_cast<uint16_t>(cmd.sqe.cdw0 >> 16);
    cmd.opcode = static_cast<uint8_t>(cmd.sqe.cdw0);
    cq.reserved++;
    bump(stats_.commands);
    Completion c;
    if (!abortRequests_.empty() && takeAbortRequest(sqid, cmd.cid)) {
      c.status = makeStatus(SCT_GENERIC, SC_ABORTED_BY_REQUEST, false);
    } else {
      c = sqid == ADMIN_QID ? executeAdmin(cmd) : executeIo(cmd);
    }
    if (c.status) {
      bump(stats_.errors);
      recordError(cmd, c.status);
    }
    if (c.deferred) {  // completes later; its CQ slot stays reserved
      done++;
      continue;
    }
    cq.reserved--;
    if (!postCompletion(sqid, cmd.cid, c)) break;
    done++;
  }
  return done;
}

// Posts a CQE (4.6). DW0..DW2 are plain stores; DW3, which carries the phase bit, is stored
// with release ordering so a driver that sees the new phase (acquire) sees the whole entry.
bool Controller::postCompletion(uint16_t sqid, uint16_t cid, const Completion& c) {
  SubmissionQueue& sq = sqs_[sqid];
  CompletionQueue& cq = cqs_[sq.cqid];
  uint64_t iova = cq.base + static_cast<uint64_t>(cq.tail) * CQE_SIZE;
  uint64_t avail = 0;
  uint8_t* p = translateForDevice(iova, CQE_SIZE, true, &avail);
  if (!p || avail != CQE_SIZE) {
    recordFault(iova, CQE_SIZE, true, FaultSite::CqPost, nullptr);
    fatal("CQ post fault");
    return false;
  }
  uint32_t* e = reinterpret_cast<uint32_t*>(p);
  e[0] = c.dw0;
  e[1] = 0;
  e[2] = sq.head | static_cast<uint32_t>(sqid) << 16;
  uint32_t dw3 = cid | (cq.phase ? 1u : 0u) << CQE_PHASE_BIT | static_cast<uint32_t>(c.status) << CQE_SC_SHIFT;
  __atomic_store_n(&e[3], dw3, __ATOMIC_RELEASE);
  if (++cq.tail == cq.size) {
    cq.tail = 0;
    cq.phase = !cq.phase;
  }
  if (cq.interrupts && !cq.irqPending) {
    cq.irqPending = true;
    irqCqs_.push_back(sq.cqid);  // capacity reserved: one slot per CQ
  }
  return true;
}

void Controller::signalInterrupts() {
  if (irqCqs_.empty()) return;
  // A device removed during this pass raises no interrupt for it (acquire: pairs with
  // surpriseRemove()'s release; the vectors' eventfds stay open until close).
  if (removed_.load(std::memory_order_acquire)) {
    for (uint16_t q : irqCqs_) cqs_[q].irqPending = false;
    irqCqs_.clear();
    return;
  }
  std::lock_guard<std::mutex> lock(vectorMutex_);
  for (uint16_t q : irqCqs_) {
    CompletionQueue& cq = cqs_[q];
    cq.irqPending = false;
    if (cq.exists && cq.vector < vectorFds_.size()) {
      uint64_t one = 1;
      if (write(vectorFds_[cq.vector], &one, sizeof one) == sizeof one) bump(stats_.interrupts);
    }
  }
  irqCqs_.clear();
}

}  // namespace phyr::emu

namespace phyr::emu {
bool Controller::takeAbortRequest(uint16_t sqid, uint16_t cid) {
  for (size_t i = 0; i < abortRequests_.size(); i++) {
    if (abortRequests_[i].first == sqid && abortRequests_[i].second == cid) {
      abortRequests_.erase(abortRequests_.begin() + static_cast<long>(i));
      return true;
    }
  }
  return false;
}
}  // namespace phyr::emu
