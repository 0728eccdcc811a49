// The embedded controller's parts on their own, without a Controller: the register file's
// state machine with a recording host, the PCI config space and MSI-X vectors, the queue
// set's doorbell checks and CQE posting, and the bounded fault log.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "emu/native/fault_log.h"
#include "emu/native/pci_config.h"
#include "emu/native/queues.h"
#include "emu/native/registers.h"
#include "spec/nvme.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {

// Records what the state machine asked for.
struct RecordingHost final : emu::RegisterHost {
  int resets = 0, flushes = 0, admins = 0;
  uint64_t asq = 0, acq = 0;
  uint32_t asqs = 0, acqs = 0;
  void resetController() override { resets++; }
  void createAdminQueues(uint64_t sq, uint32_t sqs, uint64_t cq, uint32_t cqs) override {
    admins++;
    asq = sq, asqs = sqs, acq = cq, acqs = cqs;
  }
  void flushForShutdown() override { flushes++; }
};

struct Bar {
  emu::RegisterFile regs;
  uint8_t* mem;
  explicit Bar(uint32_t queues = 4, uint32_t qsize = 64, uint64_t cmb = 0,
               uint32_t cmbSupport = CMBSZ_SQS | CMBSZ_LISTS | CMBSZ_RDS | CMBSZ_WDS)
      : regs(queues, qsize, cmb, cmbSupport) {
    std::string err;
    CHECK(regs.allocate(&err));
    mem = regs.memory().get();
  }
  uint32_t r32(uint32_t off) { return __atomic_load_n(reinterpret_cast<uint32_t*>(mem + off), __ATOMIC_ACQUIRE); }
  void w32(uint32_t off, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(mem + off), v, __ATOMIC_RELEASE); }
  void w64(uint32_t off, uint64_t v) { __atomic_store_n(reinterpret_cast<uint64_t*>(mem + off), v, __ATOMIC_RELEASE); }
  void ringSq(uint32_t q, uint32_t v) { w32(REG_DOORBELLS + 8 * q, v); }
  void ringCq(uint32_t q, uint32_t v) { w32(REG_DOORBELLS + 8 * q + 4, v); }
};

constexpr uint32_t kCcValid = CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT;

}  // namespace

TEST(emu_parts_register_file_enable_shutdown_reset) {
  Bar b;
  RecordingHost host;
  CHECK(!b.regs.poll(host));  // nothing written yet
  CHECK(!b.regs.enabled());
  b.w32(REG_AQA, 0x000F001F);  // ACQS 16, ASQS 32 (0's based)
  b.w64(REG_ASQ, 0x10000);
  b.w64(REG_ACQ, 0x20000);
  b.w32(REG_CC, kCcValid | 1u << CC_MPS_SHIFT);
  CHECK(b.regs.poll(host));
  CHECK_EQ(host.admins, 1);
  CHECK_EQ(host.asq, 0x10000u);
  CHECK_EQ(host.asqs, 32u);
  CHECK_EQ(host.acq, 0x20000u);
  CHECK_EQ(host.acqs, 16u);
  CHECK(b.regs.enabled() && !b.regs.halted());
  CHECK_EQ(b.regs.pageSize(), 8192u);
  CHECK_EQ(b.r32(REG_CSTS), CSTS_RDY);
  // Shutdown: one flush, SHST complete, halted until a reset.
  b.w32(REG_CC, kCcValid | 1u << CC_MPS_SHIFT | 1u << CC_SHN_SHIFT);
  b.regs.poll(host);
  CHECK_EQ(host.flushes, 1);
  CHECK(b.regs.halted());
  CHECK_EQ((b.r32(REG_CSTS) & CSTS_SHST_MASK) >> CSTS_SHST_SHIFT, SHST_COMPLETE);
  // CC.EN 1 -> 0: the host resets first, then CSTS reads 0 and nothing is halted.
  b.w32(REG_CC, 0);
  b.regs.poll(host);
  CHECK_EQ(host.resets, 1);
  CHECK(!b.regs.enabled() && !b.regs.halted());
  CHECK_EQ(b.r32(REG_CSTS), 0u);
}

TEST(emu_parts_register_file_bad_enable_is_fatal) {
  Bar b(4, 64);
  RecordingHost host;
  b.w32(REG_AQA, 0x007F007F);  // 128 entries > CAP.MQES + 1 = 64
  b.w32(REG_CC, kCcValid);
  b.regs.poll(host);
  CHECK_EQ(host.admins, 0);
  CHECK(b.regs.halted() && !b.regs.enabled());
  CHECK_EQ(b.r32(REG_CSTS), CSTS_CFS);
}

TEST(emu_parts_register_file_read_only_and_removal_fill) {
  Bar b;
  RecordingHost host;
  b.w32(REG_VS, 0);
  b.w32(REG_NSSR, 0x4E564D65);
  b.regs.poll(host);
  CHECK_EQ(b.r32(REG_VS), 0x00010400u);
  CHECK_EQ(b.r32(REG_NSSR), 0u);
  b.regs.fillOnes();
  CHECK_EQ(b.r32(REG_CC), 0xFFFFFFFFu);
  CHECK(!b.regs.refillOnes());
  b.ringSq(1, 3);
  CHECK(b.regs.refillOnes());
  CHECK_EQ(b.r32(REG_DOORBELLS + 8), 0xFFFFFFFFu);
}

TEST(emu_parts_register_file_cmb_window) {
  Bar b(4, 64, 1 << 20);
  RecordingHost host;
  b.w64(REG_CMBMSC, 0x80000000ull | CMBMSC_CRE | CMBMSC_CMSE);
  b.regs.poll(host);
  CHECK(b.regs.cmb().contains(0x80000000ull));
  CHECK(b.regs.cmb().contains(0x80000000ull + (1 << 20) - 1));
  CHECK(!b.regs.cmb().contains(0x80000000ull + (1 << 20)));
  CHECK_EQ(b.r32(REG_CMBLOC), 2u);
  b.w64(REG_CMBMSC, CMBMSC_CRE);  // space disabled: no window
  b.regs.syncCmb();
  CHECK(!b.regs.cmb().contains(0));
}

// cmbsz=: CMBSZ publishes exactly the configured support bits (3.1.13) next to SZ.
TEST(emu_parts_register_file_cmbsz_bits) {
  for (uint32_t bits : {0u, static_cast<uint32_t>(CMBSZ_CQS), static_cast<uint32_t>(CMBSZ_SQS | CMBSZ_CQS | CMBSZ_LISTS | CMBSZ_RDS | CMBSZ_WDS)}) {
    Bar b(4, 64, 1 << 20, bits);
    RecordingHost host;
    b.w64(REG_CMBMSC, CMBMSC_CRE);
    b.regs.poll(host);
    CHECK_EQ(b.r32(REG_CMBSZ), bits | ((1u << 20) / 4096) << CMBSZ_SZ_SHIFT);
    CHECK_EQ(b.regs.cmbSupports(CMBSZ_CQS), (bits & CMBSZ_CQS) != 0);
  }
}

TEST(emu_parts_config_space_masks_writes) {
  emu::ConfigSpace cs(8, false);
  CHECK_EQ(cs.read(0x00, 2), 0x1234u);
  CHECK_EQ(cs.read(0x08, 4) >> 8, 0x010802u);
  CHECK_EQ(cs.read(0x18, 4), 0u);                    // no BAR2 without a CMB
  CHECK_EQ(cs.read(0x40, 1), 0x11u);                 // MSI-X capability
  CHECK_EQ(cs.read(0x42, 2), 7u);                    // table size 8 (0's based)
  CHECK(!cs.busMaster());
  cs.write(0x04, 2, 0xFFFF);
  CHECK_EQ(cs.read(0x04, 2), 0x0406u);               // memory, bus master, INTx disable only
  CHECK(cs.busMaster());
  cs.write(0x00, 2, 0);                              // read-only: dropped
  CHECK_EQ(cs.read(0x00, 2), 0x1234u);
  cs.write(0x43, 1, 0xFF);                           // MSI-X enable + function mask
  CHECK_EQ(cs.read(0x43, 1), 0xC0u);
  cs.write(0x04, 2, 0x2);
  CHECK(!cs.busMaster());
  emu::ConfigSpace withCmb(8, true);
  CHECK_EQ(withCmb.read(0x18, 4), 0xCu);
}

TEST(emu_parts_msix_vectors_signal) {
  emu::MsixVectors v;
  std::string err;
  CHECK(v.enable(0, 4, &err).empty());
  CHECK(!err.empty());
  err.clear();
  CHECK(v.enable(5, 4, &err).empty());
  std::vector<int> fds = v.enable(2, 4, &err);
  CHECK_EQ(fds.size(), 2u);
  {
    emu::MsixVectors::Batch batch(v);
    CHECK(batch.signal(1));
    CHECK(batch.signal(1));
    CHECK(!batch.signal(2));  // not enabled
  }
  uint64_t count = 0;
  CHECK_EQ(read(fds[1], &count, sizeof count), static_cast<ssize_t>(sizeof count));
  CHECK_EQ(count, 2u);
  CHECK_EQ(read(fds[0], &count, sizeof count), -1);  // nonblocking, nothing signalled
}

TEST(emu_parts_queue_set_doorbells_and_posting) {
  Bar b(2);
  emu::QueueSet qs(b.regs, 2);
  qs.createAdmin(0x10000, 4, 0x20000, 4);
  qs.createCq(1, 0x30000, 4, true, 1);
  qs.createSq(1, 0x40000, 4, 1);
  CHECK_EQ(qs.cq(1).sqRefs, 1u);
  // SQ tail past the queue: invalid, the old value is given back.
  b.ringSq(1, 4);
  CHECK(!qs.readSqDoorbell(1));
  CHECK_EQ(b.r32(REG_DOORBELLS + 8), 0u);
  b.ringSq(1, 3);
  CHECK(qs.readSqDoorbell(1));
  CHECK_EQ(qs.sq(1).tail, 3u);
  // Three completions fill the 4-entry CQ (one slot stays empty); the phase flips at the wrap.
  alignas(16) uint8_t slots[4][CQE_SIZE] = {};
  for (uint16_t cid = 0; cid < 3; cid++) {
    CHECK(qs.cq(1).hasRoom());
    CHECK_EQ(qs.cq(1).tailIova(), 0x30000u + cid * CQE_SIZE);
    qs.writeCompletion(1, cid, 0, 0xAB, slots[cid]);
  }
  qs.flushCompletions();  // staged entries of a part-filled line are written at the pass end
  CHECK(!qs.cq(1).hasRoom());
  uint32_t dw3;
  std::memcpy(&dw3, slots[2] + 12, 4);
  CHECK_EQ(dw3 & 0xFFFF, 2u);
  CHECK_EQ((dw3 >> CQE_PHASE_BIT) & 1, 1u);
  // One interrupt per CQ and pass, however many entries.
  std::vector<uint16_t> signalled;
  qs.drainInterrupts([&](uint16_t vector) { signalled.push_back(vector); });
  CHECK_EQ(signalled.size(), 1u);
  CHECK_EQ(signalled[0], 1u);
  CHECK(!qs.interruptsOwed());
  // A CQ head past what was posted is invalid; a valid one frees slots.
  b.ringCq(1, 0);
  CHECK_EQ(qs.readCqDoorbells(), 0u);
  b.ringCq(1, 4);
  CHECK_EQ(qs.readCqDoorbells(), 1u);
  CHECK_EQ(b.r32(REG_DOORBELLS + 12), 0u);
  b.ringCq(1, 3);
  CHECK_EQ(qs.readCqDoorbells(), 0u);
  CHECK(qs.cq(1).hasRoom());
  qs.writeCompletion(1, 3, 0, 0, slots[3]);
  std::memcpy(&dw3, slots[3] + 12, 4);
  CHECK_EQ((dw3 >> CQE_PHASE_BIT) & 1, 1u);
  CHECK_EQ(qs.cq(1).tail, 0u);  // wrapped: the next pass of the ring is phase 0
  CHECK(!qs.cq(1).phase);
  // Deleting unbinds; a reset clears everything and zeroes the doorbells.
  qs.deleteSq(1);
  CHECK_EQ(qs.cq(1).sqRefs, 0u);
  CHECK(!qs.sq(1).exists);
  b.ringSq(0, 2);
  qs.reset();
  CHECK(!qs.sq(0).exists && !qs.cq(1).exists);
  CHECK_EQ(b.r32(REG_DOORBELLS), 0u);
}

TEST(emu_parts_fault_log_is_bounded) {
  emu::FaultLog log;
  for (uint64_t i = 0; i < emu::FaultLog::kMax + 10; i++)
    log.record(emu::FaultRecord{i, 8, false, emu::FaultSite::Data, 1, 2, 3});
  CHECK_EQ(log.count(), emu::FaultLog::kMax + 10);
  std::vector<emu::FaultRecord> r = log.records();
  CHECK_EQ(r.size(), emu::FaultLog::kMax);
  CHECK_EQ(r.front().iova, 10u);
  CHECK(std::strcmp(emu::faultSiteName(r.back().site), "data") == 0);
  log.clear();
  CHECK_EQ(log.count(), 0u);
  CHECK(log.records().empty());
}
