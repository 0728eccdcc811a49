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

// Surprise removal on the device thread (fault 'remove'): once inject() returns, BAR0 and
// config space read all ones, writes are ignored (a doorbell or CC store reads all ones
// again at the device's next pass), held commands never complete, no interrupt is raised,
// and commands submitted afterwards are never fetched.
TEST(emu_thread_surprise_remove) {
  emu::EmuConfig cfg;
  cfg.queues = 2;
  cfg.timing.latency = emu::TimingModel::Latency::Fixed;
  cfg.timing.latencyNs = 30'000'000;  // 30 ms: the reads below are held in the device
  MiniDriver d(cfg, /*threaded=*/true);
  std::string err;
  auto fds = d.ctrl->enableMsix(2, &err);
  CHECK_EQ(fds.size(), 2u);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 32, 2, 3, /*ien=*/true));
  // One read that completes, with its interrupt, before the removal.
  Sqe r0 = d.sqe(IO_READ, 1);
  r0.dptr1 = d.iova(d.page(100));
  CHECK_EQ(d.run(q, r0), 0u);
  uint64_t count = 0;
  CHECK(d.waitFor([&] { return read(fds[1], &count, sizeof count) == sizeof count; }));
  const uint64_t interrupts = d.ctrl->stats().interrupts;
  // Four reads held by the timing model, then the removal.
  for (int i = 0; i < 4; i++) {
    Sqe s = d.sqe(IO_READ, 1);
    s.dptr1 = d.iova(d.page(110 + i));
    d.submit(q, s);
  }
  CHECK(d.waitFor([&] { return d.ctrl->pendingCompletions() == 4; }));
  const uint64_t fetched = d.ctrl->stats().commands;
  emu::FaultRule remove;
  remove.kind = emu::FaultKind::Remove;
  d.ctrl->inject(remove);
  CHECK(d.ctrl->removed());
  CHECK_EQ(d.read64(REG_CAP), ~0ull);
  CHECK_EQ(d.read32(REG_VS), ~0u);
  CHECK_EQ(d.read32(REG_CSTS), ~0u);
  CHECK_EQ(d.read32(doorbellOffsetSq(1, 0)), ~0u);
  CHECK_EQ(d.ctrl->configRead(0, 2), 0xFFFFu);
  CHECK_EQ(d.ctrl->configRead(0, 4), ~0u);
  CHECK_EQ(d.ctrl->configRead(0x04, 1), 0xFFu);
  d.ctrl->configWrite(0x04, 2, 0x6);  // ignored
  CHECK_EQ(d.ctrl->configRead(0x04, 2), 0xFFFFu);
  // A write after the removal: the next device pass puts all ones back.
  d.write32(REG_CC, 0);
  CHECK(d.waitFor([&] { return d.read32(REG_CC) == ~0u; }));
  // A new command: written to the SQ and rung, never fetched, its buffer untouched.
  Sqe late = d.sqe(IO_READ, 1);
  std::memset(d.page(120), 0xA5, 4096);
  late.dptr1 = d.iova(d.page(120));
  d.submit(q, late);
  // Three times the held commands' latency: none of them completes.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (uint32_t i = 1; i < 6; i++) {
    auto* e = reinterpret_cast<Cqe*>(q.cq + CQE_SIZE * i);
    CHECK_EQ(__atomic_load_n(&e->dw3, __ATOMIC_ACQUIRE), 0u);  // no CQE after the first
  }
  // (The held reads moved their data when they executed, before the removal: the timing
  // model holds only their completions.) The late read moved nothing.
  CHECK_EQ(d.page(120)[0], 0xA5u);
  CHECK_EQ(d.ctrl->stats().commands, fetched);
  CHECK_EQ(d.ctrl->stats().interrupts, interrupts);
  CHECK(read(fds[1], &count, sizeof count) < 0);  // no interrupt pending (EAGAIN)
  CHECK_EQ(d.read32(REG_CSTS), ~0u);
  // A second removal is a no-op; stop() (close) works.
  d.ctrl->inject(remove);
  d.ctrl->stop();
  CHECK_EQ(d.read32(REG_CSTS), ~0u);
}
