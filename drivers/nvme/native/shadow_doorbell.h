// Shadow doorbells (NVMe base spec 2.0 §5.8 Doorbell Buffer Config; NVMe 1.4 §5.7): the
// host writes each new SQ tail / CQ head into a shadow buffer in host memory and writes
// the MMIO doorbell only when the controller asked for it through the EventIdx buffer.
// On an emulated controller (a hypervisor's), every MMIO doorbell write is an exit to the
// emulator; the shadow write is a plain store the emulator reads when it polls anyway.
#pragma once
#include <cstdint>

namespace phyr::nvme {

// One queue's shadow doorbell and its EventIdx, both in pool memory the controller reads
// and writes (laid out like the doorbell registers: SQ y at 2y × stride, CQ y at (2y+1) ×
// stride, where stride = 4 << CAP.DSTRD bytes).
struct ShadowDoorbell {
  uint32_t* shadow = nullptr;          // host-written: the new tail or head
  const uint32_t* eventIdx = nullptr;  // controller-written: the value it wants an MMIO write after
};

// The EventIdx rule (the same as virtio's): the controller stores in EventIdx the value it
// last read; the host writes the MMIO doorbell when its update moves past it, i.e. when
// old <= EventIdx < new, modulo 2^16 (queue indices are 16 bits).
inline bool shadowNeedsMmio(uint16_t eventIdx, uint16_t newValue, uint16_t oldValue) {
  return static_cast<uint16_t>(newValue - eventIdx - 1) < static_cast<uint16_t>(newValue - oldValue);
}

// Publishes `value` in the shadow doorbell; true when the MMIO doorbell must be written too.
// Ordering, per the rule's two halves:
// - the shadow store releases: the SQEs written (or the CQEs read) before it are visible
//   before the controller can see the new value;
// - the shadow store and the EventIdx load are both sequentially consistent, so the store is
//   globally visible before the load (store→load order, which release/acquire alone do not
//   give; on x86 the seq_cst store is an XCHG, a full barrier). The controller mirrors it:
//   it stores EventIdx, then re-reads the shadow. Without this, each side could miss the
//   other's update and a submission would wait for a doorbell that never comes.
inline bool publishShadow(const ShadowDoorbell& db, uint32_t value) {
  const uint32_t old = __atomic_load_n(db.shadow, __ATOMIC_RELAXED);  // only this thread writes it
  __atomic_store_n(db.shadow, value, __ATOMIC_SEQ_CST);
  const uint32_t event = __atomic_load_n(db.eventIdx, __ATOMIC_SEQ_CST);
  return shadowNeedsMmio(static_cast<uint16_t>(event), static_cast<uint16_t>(value), static_cast<uint16_t>(old));
}

}  // namespace phyr::nvme
