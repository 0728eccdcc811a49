// BAR0 of the embedded controller: the register file (3.1) and the doorbells behind it,
// and the controller state the registers drive — the CC/CSTS enable, shutdown and reset
// state machine (7.6.1, 7.6.2, 7.3.2), the fatal status, the interrupt mask registers and
// the CMB location/size/space-control registers.
//
// Memory ordering: the driver stores registers and doorbells with release; every load here
// is an acquire, so what the driver wrote before a register (SQEs, PRP lists, other
// registers) is visible once the register is. Device stores are releases too.
//
// Device thread only, except memory()/size() (the BAR handed to the driver).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "emu/native/faults.h"
#include "spec/nvme.h"

namespace phyr::emu {

/** What the state machine asks of the rest of the controller when CC changes. */
class RegisterHost {
 public:
  // CC.EN 1 -> 0: drop every queue and pending command, forget features. CSTS is the
  // register file's: it reads 0 once this returns.
  virtual void resetController() = 0;
  // CC.EN 0 -> 1 with valid fields: the admin queue pair exists from now on.
  virtual void createAdminQueues(uint64_t asq, uint32_t asqs, uint64_t acq, uint32_t acqs) = 0;
  // CC.SHN set: make every completed write durable before SHST reads complete.
  virtual void flushForShutdown() = 0;

 protected:
  ~RegisterHost() = default;
};

/** The CMB controller memory space (CMBMSC.CMSE): addresses that reach the CMB directly. */
struct CmbWindow {
  bool on = false;
  uint64_t base = 0;
  uint64_t bytes = 0;  // the CMB's size
  bool contains(uint64_t iova) const { return on && iova - base < bytes; }
};

class RegisterFile {
 public:
  // `queues`: IO queue pairs (doorbells for 0..queues); `maxQueueEntries`: CAP.MQES + 1;
  // `cmbBytes`: 0 when the controller has no CMB.
  // `cmbSupport`: the CMBSZ support bits (SQS, CQS, LISTS, RDS, WDS) published once CMBMSC.CRE is set.
  RegisterFile(uint32_t queues, uint32_t maxQueueEntries, uint64_t cmbBytes, uint32_t cmbSupport);
  // Allocates BAR0 (zeroed) and sets CAP, VS and CSTS. `shared`: in a memfd another
  // process can map (its fd: memoryFd()). False with *error on failure.
  bool allocate(bool shared, std::string* error);
  bool allocate(std::string* error) { return allocate(false, error); }

  std::shared_ptr<uint8_t> memory() const { return bar_; }
  // The memfd of a shared BAR0 (open while memory() holders exist), else -1.
  int memoryFd() const { return barFd_; }
  uint64_t size() const { return size_; }

  // One pass over the registers the driver writes (CC, CMBMSC, INTMS/INTMC) and those it
  // may not (given their value back). True when CC changed.
  bool poll(RegisterHost& host);
  // Skips one enable check (an EnableCheck bit, faults.h): fault injection at creation.
  void uncheck(uint8_t check) { unchecked_ |= check; }
  // Picks up a CMBMSC change (also called before running commands of a new doorbell).
  void syncCmb();

  // Doorbell `index` (2q: SQ q tail, 2q + 1: CQ q head; stride 4). Acquire load: the SQEs
  // the driver wrote before ringing are visible once the doorbell is.
  uint32_t doorbell(uint32_t index) const {
    return __atomic_load_n(reinterpret_cast<const uint32_t*>(bar_.get() + nvme::REG_DOORBELLS + 4 * index),
                           __ATOMIC_ACQUIRE);
  }
  // The device puts a doorbell back (an invalid write) or to 0 (queue created or deleted).
  void setDoorbell(uint32_t index, uint32_t v) {
    __atomic_store_n(reinterpret_cast<uint32_t*>(bar_.get() + nvme::REG_DOORBELLS + 4 * index), v, __ATOMIC_RELEASE);
  }

  // Controller state.
  bool enabled() const { return enabled_; }
  bool halted() const { return halted_; }  // CFS raised, shut down or removed: no command processing
  uint32_t pageSize() const { return pageSize_; }  // CC.MPS
  const CmbWindow& cmb() const { return cmb_; }
  // The CMB uses the controller supports (CMBSZ bits 4:0, 3.1.13), whether or not published yet.
  // With the cmbsz check skipped (fault injection) every use is accepted.
  bool cmbSupports(uint32_t bit) const { return (cmbSupport_ & bit) != 0 || !checked(static_cast<uint8_t>(EnableCheck::CmbUse)); }
  // Controller Fatal Status (CSTS.CFS): stops command processing until a reset.
  void fatal(const char* why);
  // A sticky fatal status (fault injection): every enable raises CSTS.CFS again, so no
  // reset recovers the controller until the rule is cleared.
  void setFatalOnEnable(bool on) { fatalOnEnable_ = on; }
  void halt() { halted_ = true; }

  // Surprise removal: every BAR0 word reads all ones. fillOnes() once, then refillOnes()
  // each pass puts ones back over what the driver stored since (true when it did).
  void fillOnes();
  bool refillOnes();

 private:
  uint32_t reg32(uint32_t off) const { return __atomic_load_n(reinterpret_cast<uint32_t*>(bar_.get() + off), __ATOMIC_ACQUIRE); }
  uint64_t reg64(uint32_t off) const { return __atomic_load_n(reinterpret_cast<uint64_t*>(bar_.get() + off), __ATOMIC_ACQUIRE); }
  void setReg32(uint32_t off, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(bar_.get() + off), v, __ATOMIC_RELEASE); }
  void setReg64(uint32_t off, uint64_t v) { __atomic_store_n(reinterpret_cast<uint64_t*>(bar_.get() + off), v, __ATOMIC_RELEASE); }
  void init();
  bool checked(uint8_t check) const { return !(unchecked_ & check); }
  void restoreReadOnlyRegisters();
  void handleInterruptMaskRegisters();
  void handleCcChange(uint32_t cc, RegisterHost& host);
  void enable(uint32_t cc, RegisterHost& host);
  bool enableFieldsValid(uint32_t cc) const;
  void retryFailedEnable(uint32_t cc, RegisterHost& host);
  void reset(RegisterHost& host);
  void shutdown(RegisterHost& host);

  const uint32_t queues_;
  const uint32_t maxQueueEntries_;
  std::shared_ptr<uint8_t> bar_;
  int barFd_ = -1;
  uint64_t size_ = 0;

  // Shadows of what the device published or last saw.
  uint64_t cap_ = 0;
  uint8_t unchecked_ = 0;  // EnableCheck bits skipped (fault injection, faults.h)
  bool fatalOnEnable_ = false;
  bool enableFailed_ = false;  // the last CC.EN 0 -> 1 raised CSTS.CFS (retried while CC.EN stays 1)  // a sticky CFS rule (fault injection): no enable succeeds
  uint32_t ccSeen_ = 0;
  uint32_t csts_ = 0;
  uint32_t intMask_ = 0;
  uint32_t pageSize_ = 4096;
  bool enabled_ = false;
  bool halted_ = false;
  uint64_t cmbMscSeen_ = 0;
  uint32_t cmbloc_ = 0, cmbsz_ = 0, cmbsts_ = 0;  // published values (0 until CMBMSC.CRE)
  CmbWindow cmb_;
  uint32_t cmbSupport_ = 0;
};

}  // namespace phyr::emu
