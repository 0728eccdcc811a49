// The device's pass reads the doorbells of the queues that exist only: QueueSet keeps their
// ids ascending through create, delete and reset, and the controller still serves a queue
// created or deleted by an admin command of the same pass.
#include <algorithm>

#include "emu_mini_driver.h"
#include "emu/native/queues.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

TEST(emu_live_queues_ids_follow_create_delete_reset) {
  emu::RegisterFile regs(8, 64, 0, 0);
  std::string err;
  CHECK(regs.allocate(&err));
  emu::QueueSet qs(regs, 8);
  CHECK(qs.liveSqs().empty());
  qs.createAdmin(0x10000, 4, 0x20000, 4);
  qs.createCq(5, 0x30000, 4, false, 0);
  qs.createCq(2, 0x31000, 4, false, 0);
  qs.createSq(5, 0x40000, 4, 5);
  qs.createSq(2, 0x41000, 4, 2);
  qs.createSq(7, 0x42000, 4, 2);
  CHECK(qs.liveSqs() == (std::vector<uint16_t>{0, 2, 5, 7}));
  qs.deleteSq(5);
  CHECK(qs.liveSqs() == (std::vector<uint16_t>{0, 2, 7}));
  // A CQ head doorbell of a deleted CQ is not read: its value stays what the driver wrote.
  qs.deleteCq(5);
  regs.setDoorbell(2 * 5 + 1, 3);
  CHECK_EQ(qs.readCqDoorbells(), 0u);
  CHECK_EQ(regs.doorbell(2 * 5 + 1), 3u);
  // A live CQ's head past what was posted is still caught.
  regs.setDoorbell(2 * 2 + 1, 2);
  CHECK_EQ(qs.readCqDoorbells(), 1u);
  qs.reset();
  CHECK(qs.liveSqs().empty());
}

TEST(emu_live_queues_controller_serves_the_queues_it_has) {
  emu::EmuConfig cfg;
  cfg.backend = "nodata";
  cfg.queues = 64;
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue a, b;
  CHECK(d.createIoPair(a, 40, 16, 2, 3));
  CHECK(d.createIoPair(b, 3, 16, 4, 5));
  Sqe r = d.sqe(IO_READ, 1);
  r.dptr1 = d.iova(d.page(100));
  CHECK_EQ(d.run(a, r), 0u);
  CHECK_EQ(d.run(b, r), 0u);
  // Delete pair 40: its SQ doorbell is no longer a queue's; the other keeps working.
  Sqe ds = d.sqe(ADMIN_DELETE_SQ);
  ds.cdw10 = 40;
  CHECK_EQ(d.admin1(ds), 0u);
  Sqe dc = d.sqe(ADMIN_DELETE_CQ);
  dc.cdw10 = 40;
  CHECK_EQ(d.admin1(dc), 0u);
  CHECK_EQ(d.run(b, r), 0u);
  CHECK(d.ctrl->stats().ioCommands == 3);
}

// A pass with nothing to fetch skips the IOMMU lock; an invalid doorbell found by that
// look must still be reported (error event, type 0, info 01h: NVMe 1.4 §5.2) in the same pass.
TEST(emu_live_queues_invalid_doorbell_on_an_idle_controller_is_reported) {
  emu::EmuConfig cfg;
  cfg.backend = "nodata";
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  uint16_t aer = d.submit(d.admin, d.sqe(ADMIN_ASYNC_EVENT_REQUEST));
  for (int i = 0; i < 4; i++) d.ctrl->pollOnce();  // outstanding, nothing else to do
  d.write32(doorbellOffsetSq(1, 0), 16);           // tail == size: invalid
  d.ctrl->pollOnce();
  CHECK_EQ(d.read32(doorbellOffsetSq(1, 0)), 0u);  // given back its old value
  CHECK_EQ(d.ctrl->stats().invalidDoorbells, 1u);
  Cqe c{};
  CHECK(d.reap(d.admin, &c));
  CHECK_EQ(c.dw3 & 0xFFFF, aer);
  CHECK_EQ(c.dw0, 0u | 1u << 8 | static_cast<uint32_t>(LOG_ERROR) << 16);
  // The queue still works.
  Sqe r = d.sqe(IO_READ, 1);
  r.dptr1 = d.iova(d.page(100));
  CHECK_EQ(d.run(q, r), 0u);
}
