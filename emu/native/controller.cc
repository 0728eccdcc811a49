// Controller lifecycle: creation, the BARs and config space seen by the driver, controller
// reset, and surprise removal. Section numbers refer to the NVMe Base Specification 1.4.
#include "emu/native/controller.h"

#include <time.h>

#include <cstdlib>
#include <cstring>

#include "emu/native/clock.h"

namespace phyr::emu {
using namespace phyr::nvme;

Controller::Controller(const EmuConfig& config, std::shared_ptr<IommuTable> iommu)
    : config_(config),
      iommu_(std::move(iommu)),
      regs_(config.queues, config.qsize, config.cmbBytes, config.cmbSupport),
      queues_(regs_, config.queues),
      configSpace_(config.msixTableSize(), config.cmbBytes != 0),
      memory_(regs_, *iommu_, faults_),
      dptr_(memory_, regs_, config.sgl, config.mdts ? (4096ull << config.mdts) : 0) {}

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
  c->movesData_ = c->backend_->movesData();
  if (!c->regs_.allocate(config.sharedBar, error)) return nullptr;
  for (const FaultRule& r : config.faults)
    if (r.kind == FaultKind::Unchecked) c->regs_.uncheck(r.uncheck);
    else if (r.kind == FaultKind::Cfs && r.sticky) c->regs_.setFatalOnEnable(true);
  c->stoppedSq_.assign(config.queues + 1, false);
  c->rules_ = config.faults;
  c->pending_.reserve(4096);
  c->createdNs_ = monotonicNs();
  for (const FaultRule& r : config.faults) {
    if (r.kind == FaultKind::Stop && r.qid >= 0 && static_cast<uint32_t>(r.qid) <= config.queues) c->stoppedSq_[r.qid] = true;
  }
  c->sqAllocated_ = c->cqAllocated_ = config.queues;
  c->maxTransfer_ = config.mdts ? (4096ull << config.mdts) : 0;
  c->nsBlocks_ = config.nsBytes >> config.lbads;
  c->scratch_.resize(IDENTIFY_DATA_SIZE);
  if (config.cmbBytes) {
    void* cmb = nullptr;
    if (posix_memalign(&cmb, 4096, config.cmbBytes) != 0) {
      *error = "cannot allocate the controller memory buffer";
      return nullptr;
    }
    std::memset(cmb, 0, config.cmbBytes);
    c->cmb_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(cmb), [](uint8_t* p) { std::free(p); });
    c->memory_.setCmb(c->cmb_.get());
  }
  // faults=remove (after=0): the function is gone from the start, as a slot whose device
  // was pulled before the driver looked at it.
  for (const FaultRule& r : config.faults)
    if (r.kind == FaultKind::Remove && r.after == 0) c->removeNow();
  return c;
}

// The device thread stops before the vectors' eventfds are closed (MsixVectors' destructor).
Controller::~Controller() { stop(); }

std::shared_ptr<uint8_t> Controller::barMemory(int index) const {
  if (index == 0) return regs_.memory();
  if (index == 2 && cmb_) return cmb_;
  return nullptr;
}

int Controller::barFd(int index) const { return index == 0 ? regs_.memoryFd() : -1; }

uint64_t Controller::barSize(int index) const {
  if (index == 0) return regs_.size();
  if (index == 2 && cmb_) return config_.cmbBytes;
  return 0;
}

uint32_t Controller::configRead(uint32_t offset, uint32_t size) const {
  // A removed function answers no configuration read: the root port completes it with all
  // ones (PCIe 3.0 §2.3.2, Unsupported Request to a missing device). Acquire: pairs with
  // the release in surpriseRemove()/removeNow().
  if (removed_.load(std::memory_order_acquire)) return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  return configSpace_.read(offset, size);
}

void Controller::configWrite(uint32_t offset, uint32_t size, uint32_t value) {
  // Writes to a removed function go nowhere (acquire: as in configRead).
  if (removed_.load(std::memory_order_acquire)) return;
  configSpace_.write(offset, size, value);
}

// CC.EN 1 -> 0 (7.3.2): drop every queue and pending command, forget features. The
// register file then clears CSTS.
void Controller::resetController() {
  queues_.reset();
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
  arbitration_ = powerManagement_ = writeAtomicity_ = 0;
  overTemperature_ = kDefaultOverTemperature;
  underTemperature_ = 0;
}

// CC.EN 0 -> 1 (7.6.1) with valid admin queue attributes.
void Controller::createAdminQueues(uint64_t asq, uint32_t asqs, uint64_t acq, uint32_t acqs) {
  queues_.createAdmin(asq, asqs, acq, acqs);
}

// ---- Surprise removal ----

void Controller::surpriseRemove() {
  // Release: a device pass or config access that sees the flag (acquire) stops acting on
  // the device's state from then on.
  removed_.store(true, std::memory_order_release);
  if (!thread_.running()) {
    // No device thread (manual polling, or stopped): nobody else touches the device state,
    // so the caller does what the device thread would.
    if (!removedAck_.load(std::memory_order_acquire)) removeNow();
    return;
  }
  // Acquire: pairs with removeNow()'s release of removedAck_, so the BAR fill and the end
  // of every command processing happen before this returns. The device thread notices the
  // flag within one idle sleep (at most ~1 ms, see DeviceThread::run()).
  while (!removedAck_.load(std::memory_order_acquire)) {
    timespec ts{0, 20'000};
    nanosleep(&ts, nullptr);
  }
}

// Device thread (or the only thread): stop processing for good and fill the BARs with ones.
void Controller::removeNow() {
  regs_.halt();
  queues_.forgetInterrupts();
  // Relaxed stores (RegisterFile::fillOnes): the driver reads BAR words with its own loads;
  // what orders the fill before the remover's return is removedAck_'s release below.
  regs_.fillOnes();
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
  return regs_.refillOnes();
}

}  // namespace phyr::emu
