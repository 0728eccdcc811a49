// Embedded controller on its own device thread (also run under ThreadSanitizer).
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

TEST(emu_thread_io_with_interrupts) {
  emu::EmuConfig cfg;
  cfg.queues = 2;
  MiniDriver d(cfg, /*threaded=*/true);
  std::string err;
  auto fds = d.ctrl->enableMsix(2, &err);
  CHECK_EQ(fds.size(), 2u);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 32, 2, 3, /*ien=*/true));
  // Several rounds of batches larger than the device's fetch budget wrap both rings.
  for (int round = 0; round < 20; round++) {
    const int batch = 24;
    for (int i = 0; i < batch; i++) {
      Sqe s = d.sqe(IO_WRITE, 1);
      s.cdw10 = round * batch + i;
      s.dptr1 = d.iova(d.page(100 + i));
      std::memset(d.page(100 + i), round + i, 512);
      d.submit(q, s);
    }
    for (int i = 0; i < batch; i++) {
      Cqe c{};
      CHECK(d.reap(q, &c));
      CHECK_EQ(c.dw3 >> CQE_SC_SHIFT, 0u);
    }
  }
  Sqe r = d.sqe(IO_READ, 1);
  r.cdw10 = 19 * 24 + 5;
  r.dptr1 = d.iova(d.page(200));
  CHECK_EQ(d.run(q, r), 0u);
  CHECK_EQ(d.page(200)[0], 19 + 5u);
  uint64_t count = 0;
  CHECK(read(fds[1], &count, sizeof count) == sizeof count);
  CHECK(count >= 1);
  CHECK_EQ(d.ctrl->stats().ioCommands, 20u * 24 + 1);
}

// Reset (CC.EN 1 -> 0) and re-enable on the device thread, three times. Each round's
// admin command must be the one the device just executed (its admin command counter moved),
// not a completion left in the admin CQ by the previous round: MiniDriver::enable() zeroes
// the CQ's Phase Tags before CC.EN, as the host must (NVMe 1.4 §4.6).
TEST(emu_thread_reset_while_idle_and_restart) {
  MiniDriver d(emu::EmuConfig{}, true);
  for (uint64_t i = 0; i < 3; i++) {
    CHECK(d.enable());
    Sqe g = d.sqe(ADMIN_GET_FEATURES);
    g.cdw10 = FEAT_NUMBER_OF_QUEUES;
    CHECK_EQ(d.admin1(g), 0u);
    // The CQE's acquire load orders the device's counter update before this read.
    CHECK_EQ(d.ctrl->stats().adminCommands, i + 1);
    d.write32(REG_CC, 0);
    CHECK(d.waitFor([&] { return (d.read32(REG_CSTS) & CSTS_RDY) == 0; }));
  }
}

TEST(emu_thread_timing_model_holds_completions) {
  emu::EmuConfig cfg;
  cfg.timing.latency = emu::TimingModel::Latency::Fixed;
  cfg.timing.latencyNs = 200'000;  // 200 us
  MiniDriver d(cfg, true);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 16, 2, 3));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; i++) {
    Sqe s = d.sqe(IO_READ, 1);
    s.dptr1 = d.iova(d.page(100 + i));
    d.submit(q, s);
  }
  for (int i = 0; i < 8; i++) {
    Cqe c{};
    CHECK(d.reap(q, &c));
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(us >= 200);
  CHECK_EQ(d.ctrl->pendingCompletions(), 0u);
}
