// Embedded controller: registers, enable/disable/shutdown, BME (manual polling).
#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

TEST(emu_cap_and_version) {
  emu::EmuConfig cfg;
  cfg.qsize = 256;
  MiniDriver d(cfg);
  d.step();
  uint64_t cap = d.read64(REG_CAP);
  CHECK_EQ(cap & CAP_MQES_MASK, 255u);
  CHECK_EQ((cap >> CAP_CQR_SHIFT) & 1, 1u);
  CHECK((cap >> CAP_TO_SHIFT & 0xFF) > 0);
  CHECK_EQ((cap >> CAP_DSTRD_SHIFT) & 0xF, 0u);
  CHECK_EQ((cap >> CAP_CSS_SHIFT) & 0xFF, CAP_CSS_NVM);
  CHECK_EQ((cap >> CAP_MPSMIN_SHIFT) & 0xF, 0u);
  CHECK_EQ((cap >> CAP_CMBS_SHIFT) & 1, 0u);
  CHECK_EQ(d.read32(REG_VS), 0x00010400u);
  // Read-only registers keep their value when the driver stores into them.
  d.write64(REG_CAP, 0);
  d.write32(REG_CSTS, 0xFF);
  d.step();
  CHECK_EQ(d.read64(REG_CAP), cap);
  CHECK_EQ(d.read32(REG_CSTS), 0u);
}

TEST(emu_enable_disable) {
  MiniDriver d(emu::EmuConfig{});
  CHECK(d.enable());
  CHECK_EQ(d.read32(REG_CSTS), CSTS_RDY);
  d.write32(REG_CC, 0);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS) & CSTS_RDY, 0u);
  CHECK(d.enable());
}

TEST(emu_enable_with_bad_fields_sets_cfs) {
  struct Bad {
    const char* what;
    uint32_t aqa;
    uint64_t asqOffset;
    uint32_t cc;
  } cases[] = {
      {"ASQS 0 (one entry)", 0x001F0000, 0, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT},
      {"ASQ not page aligned", 0x001F001F, 8, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT},
      {"IOSQES 5", 0x001F001F, 0, CC_EN | 5u << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT},
      {"IOCQES 0", 0x001F001F, 0, CC_EN | IOSQES << CC_IOSQES_SHIFT},
      {"MPS 5 > MPSMAX", 0x001F001F, 0, CC_EN | 5u << CC_MPS_SHIFT | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT},
      {"CSS 7", 0x001F001F, 0, CC_EN | 7u << CC_CSS_SHIFT | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT},
  };
  for (const Bad& b : cases) {
    MiniDriver d(emu::EmuConfig{});
    d.write32(REG_AQA, b.aqa);
    d.write64(REG_ASQ, d.iova(d.page(0)) + b.asqOffset);
    d.write64(REG_ACQ, d.iova(d.page(1)));
    d.write32(REG_CC, b.cc);
    d.step();
    if (d.read32(REG_CSTS) != CSTS_CFS) std::fprintf(stderr, "    case: %s\n", b.what);
    CHECK_EQ(d.read32(REG_CSTS), CSTS_CFS);
    // A reset clears CFS.
    d.write32(REG_CC, 0);
    d.step();
    CHECK_EQ(d.read32(REG_CSTS), 0u);
  }
}

// A failed enable stays pending while CC.EN reads 1: a host whose 1 -> 0 -> 1 fell between
// two device passes (RDY was already 0, so it had nothing to wait for) still gets a ready
// controller once the fields are valid.
TEST(emu_failed_enable_is_carried_out_when_the_fields_become_valid) {
  MiniDriver d(emu::EmuConfig{});
  d.busMaster(true);
  d.write32(REG_AQA, 0x001F0000);  // ASQS 0: one entry
  d.write64(REG_ASQ, d.iova(d.page(0)));
  d.write64(REG_ACQ, d.iova(d.page(1)));
  d.write32(REG_CC, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS), CSTS_CFS);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS), CSTS_CFS);  // still invalid: still failed
  d.write32(REG_AQA, 0x001F001F);          // as after a toggle the device did not see
  d.step();
  CHECK_EQ(d.read32(REG_CSTS), CSTS_RDY);
}

// cfs:sticky raises CFS now and at every enable until clear; then the pending enable runs.
TEST(emu_sticky_cfs_fails_every_enable_until_clear) {
  MiniDriver d(emu::EmuConfig{});
  CHECK(d.enable());
  emu::FaultRule sticky;
  sticky.kind = emu::FaultKind::Cfs;
  sticky.sticky = true;
  d.ctrl->inject(sticky);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS) & CSTS_CFS, CSTS_CFS);
  for (int i = 0; i < 3; i++) {
    d.write32(REG_CC, 0);
    d.step();
    CHECK_EQ(d.read32(REG_CSTS), 0u);  // the reset clears CFS
    CHECK(!d.enable());
    CHECK_EQ(d.read32(REG_CSTS), CSTS_CFS);  // and the next enable raises it again
  }
  emu::FaultRule clear;
  clear.kind = emu::FaultKind::Clear;
  d.ctrl->inject(clear);
  d.step();
  d.step();
  CHECK_EQ(d.read32(REG_CSTS), CSTS_RDY);
}

TEST(emu_shutdown_reports_shst_complete) {
  MiniDriver d(emu::EmuConfig{});
  CHECK(d.enable());
  uint32_t cc = d.read32(REG_CC);
  d.write32(REG_CC, cc | CC_SHN_NORMAL << CC_SHN_SHIFT);
  d.step();
  CHECK_EQ((d.read32(REG_CSTS) & CSTS_SHST_MASK) >> CSTS_SHST_SHIFT, SHST_COMPLETE);
  // After shutdown no command runs until a reset.
  d.submit(d.admin, d.sqe(ADMIN_IDENTIFY));
  for (int i = 0; i < 10; i++) d.step();
  CHECK_EQ(d.ctrl->stats().commands, 0u);
}

TEST(emu_no_dma_while_bus_master_disabled) {
  MiniDriver d(emu::EmuConfig{});
  CHECK(d.enable());
  d.busMaster(false);
  Sqe s = d.sqe(ADMIN_IDENTIFY);
  s.cdw10 = CNS_CONTROLLER;
  s.dptr1 = d.iova(d.page(10));
  d.submit(d.admin, s);
  for (int i = 0; i < 10; i++) d.step();
  CHECK_EQ(d.ctrl->stats().commands, 0u);
  d.busMaster(true);
  Cqe c{};
  CHECK(d.reap(d.admin, &c));
  CHECK_EQ(c.dw3 >> CQE_SC_SHIFT, 0u);
  CHECK_EQ(d.ctrl->configRead(0x04, 2) & 0x4, 0x4u);
  CHECK_EQ(d.ctrl->configRead(0x00, 2), 0x1234u);
  CHECK_EQ(d.ctrl->configRead(0x09, 1) | d.ctrl->configRead(0x0A, 2) << 8, 0x010802u);
}

TEST(emu_sq_fetch_fault_sets_cfs) {
  MiniDriver d(emu::EmuConfig{});
  d.write32(REG_AQA, 0x000F000F);
  d.write64(REG_ASQ, 0x40000000);  // unmapped
  d.write64(REG_ACQ, d.iova(d.page(1)));
  d.busMaster(true);
  d.write32(REG_CC, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS), CSTS_RDY);
  d.write32(doorbellOffsetSq(0, 0), 1);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS) & CSTS_CFS, CSTS_CFS);
  CHECK_EQ(d.ctrl->faultCount(), 1u);
  auto log = d.ctrl->faultLog();
  CHECK_EQ(log.size(), 1u);
  CHECK_EQ(log[0].iova, 0x40000000u);
  CHECK(log[0].site == emu::FaultSite::SqFetch);
}

TEST(emu_cq_post_fault_sets_cfs) {
  MiniDriver d(emu::EmuConfig{});
  d.write32(REG_AQA, 0x000F000F);
  d.write64(REG_ASQ, d.iova(d.page(0)));
  d.write64(REG_ACQ, 0x40000000);  // unmapped
  d.busMaster(true);
  d.write32(REG_CC, CC_EN | IOSQES << CC_IOSQES_SHIFT | IOCQES << CC_IOCQES_SHIFT);
  d.step();
  d.admin = MiniQueue{0, 16, d.page(0), d.page(1)};
  Sqe s = d.sqe(ADMIN_GET_FEATURES);
  s.cdw10 = FEAT_NUMBER_OF_QUEUES;
  d.submit(d.admin, s);
  d.step();
  CHECK_EQ(d.read32(REG_CSTS) & CSTS_CFS, CSTS_CFS);
  auto log = d.ctrl->faultLog();
  CHECK_EQ(log.size(), 1u);
  CHECK(log.size() == 1 && log[0].site == emu::FaultSite::CqPost && log[0].write);
}
