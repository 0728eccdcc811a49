// Embedded controller with shared=on: BAR0 lives in a memfd, and a second mapping of it
// (what a served client maps, docs/SERVE.md) is the same register file: the controller is
// enabled, an IO queue pair created and a command run entirely through that mapping, with
// the device thread running (its name has "thread": the TSan tier runs it). Without
// shared=on there is no fd to hand out.
#include <cstring>

#include "addon/channel/shared_memory.h"
#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

TEST(emu_shared_bar_thread_runs_commands_through_a_second_mapping) {
  emu::EmuConfig cfg;
  cfg.backend = "ram";
  cfg.nsBytes = 1 << 20;
  cfg.sharedBar = true;
  MiniDriver d(cfg, true);
  int fd = d.ctrl->barFd(0);
  CHECK(fd >= 0);
  CHECK_EQ(d.ctrl->barFd(2), -1);
  channel::SharedRegion view;
  CHECK_EQ(channel::mapShared(fd, d.ctrl->barSize(0), &view), 0);
  CHECK(view.addr != d.bar);
  d.bar = static_cast<uint8_t*>(view.addr);  // every register access from here: the second mapping
  CHECK_EQ(d.read64(REG_CAP), __atomic_load_n(reinterpret_cast<uint64_t*>(d.ctrl->barMemory(0).get() + REG_CAP), __ATOMIC_ACQUIRE));
  d.busMaster(true);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 10, 11));
  CHECK_EQ(d.run(q, d.sqe(IO_FLUSH, 1)), 0u);
  channel::freeShared(&view);
}

TEST(emu_shared_bar_private_by_default) {
  emu::EmuConfig cfg;
  cfg.backend = "null";
  MiniDriver d(cfg);
  CHECK_EQ(d.ctrl->barFd(0), -1);
}
