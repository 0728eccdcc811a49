// CQEs a cache line at a time (4.6): entries that share one 64-byte line of a CQ are
// written together, each entry's DW3 (phase) last with release; a part-filled line is
// written at the end of the device's batch, so no completion waits for a later command.
#include <cstring>
#include <thread>

#include "emu_mini_driver.h"
#include "emu/native/queues.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {
struct Bar {
  emu::RegisterFile regs{2, 64, 0, 0};
  Bar() {
    std::string err;
    CHECK(regs.allocate(&err));
  }
};

uint32_t dw3Of(const uint8_t* slot) { return __atomic_load_n(reinterpret_cast<const uint32_t*>(slot + 12), __ATOMIC_ACQUIRE); }
bool posted(const uint8_t* slot, bool phase) { return ((dw3Of(slot) >> CQE_PHASE_BIT) & 1) == (phase ? 1u : 0u); }

Sqe readSqe(MiniDriver& d, uint64_t buf) {
  Sqe s = d.sqe(IO_READ, 1);
  s.cdw12 = 7;  // 8 x 512 B
  s.dptr1 = buf;
  return s;
}
}  // namespace

TEST(emu_cqe_line_entries_of_one_line_are_written_together) {
  Bar b;
  emu::QueueSet qs(b.regs, 2);
  qs.createCq(1, 0x30000, 16, false, 0);
  qs.createSq(1, 0x40000, 16, 1);
  alignas(64) uint8_t ring[16][CQE_SIZE] = {};
  // Three entries of the first line: staged, nothing in memory yet.
  for (uint16_t cid = 0; cid < 3; cid++) qs.writeCompletion(1, cid, 0, 0x100 + cid, ring[cid]);
  CHECK_EQ(qs.stagedCompletions(), 3u);
  CHECK(!posted(ring[0], true) && !posted(ring[2], true));
  CHECK_EQ(qs.lineWrites(), 0u);
  // The fourth fills the line: all four are written at once, each whole.
  qs.writeCompletion(1, 3, 0, 0x103, ring[3]);
  CHECK_EQ(qs.stagedCompletions(), 0u);
  CHECK_EQ(qs.lineWrites(), 1u);
  for (uint16_t cid = 0; cid < 4; cid++) {
    uint32_t dw[4];
    std::memcpy(dw, ring[cid], sizeof dw);
    CHECK_EQ(dw[0], 0x100u + cid);
    CHECK_EQ(dw[2] >> 16, 1u);  // SQ id
    CHECK_EQ(dw[3] & 0xFFFF, cid);
    CHECK(posted(ring[cid], true));
  }
  // A part-filled line waits only for the flush (the engine's end of batch).
  qs.writeCompletion(1, 4, 0, 0, ring[4]);
  CHECK_EQ(qs.stagedCompletions(), 1u);
  qs.flushCompletions();
  CHECK(posted(ring[4], true));
  CHECK_EQ(qs.lineWrites(), 2u);
  qs.flushCompletions();  // nothing staged: no write
  CHECK_EQ(qs.lineWrites(), 2u);
  // The next slot is not after the staged one (another mapping): the staged one goes first.
  alignas(64) uint8_t elsewhere[CQE_SIZE] = {};
  qs.writeCompletion(1, 5, 0, 0, ring[5]);
  qs.writeCompletion(1, 6, 0, 0, elsewhere);
  CHECK(posted(ring[5], true));
  CHECK_EQ(qs.stagedCompletions(), 1u);
  qs.flushCompletions();
  CHECK(posted(elsewhere, true));
}

TEST(emu_cqe_line_ring_wrap_not_a_multiple_of_four) {
  Bar b;
  emu::QueueSet qs(b.regs, 2);
  qs.createCq(1, 0x30000, 6, false, 0);
  qs.createSq(1, 0x40000, 6, 1);
  alignas(64) uint8_t ring[6][CQE_SIZE] = {};
  for (int round = 0; round < 3; round++) {
    bool phase = round % 2 == 0;
    for (uint16_t slot = 0; slot < 6; slot++) {
      qs.writeCompletion(1, static_cast<uint16_t>(round * 6 + slot), 0, 0, ring[slot]);
      // Written at the line end (slot 3) and at the wrap (slot 5, the ring's last, short line).
      if (slot == 3 || slot == 5) CHECK_EQ(qs.stagedCompletions(), 0u);
      if (slot == 5) {
        for (int i = 0; i < 6; i++) CHECK(posted(ring[i], phase));
      }
      // The head doorbell would have freed them: tail accounting only.
      b.regs.setDoorbell(3, qs.cq(1).tail);
      qs.readCqDoorbells();
    }
    CHECK_EQ(qs.cq(1).tail, 0u);
    CHECK_EQ(qs.cq(1).phase, !phase);
  }
}

TEST(emu_cqe_line_one_pass_posts_every_entry_and_never_holds_one) {
  emu::EmuConfig cfg;
  cfg.backend = "nodata";
  MiniDriver d(cfg);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 64, 2, 3));
  uint64_t buf = d.iova(d.page(100));
  auto slot = [&](uint32_t i) { return q.cq + CQE_SIZE * i; };
  // QD1: one command, one pass, its entry is visible (not held for the line to fill).
  d.submit(q, readSqe(d, buf));
  d.ctrl->pollOnce();
  CHECK(posted(slot(0), true));
  Cqe c{};
  CHECK(d.reap(q, &c));
  // Ten commands behind one doorbell value: one pass posts all ten, whole and in order.
  for (int i = 0; i < 10; i++) d.submit(q, readSqe(d, buf));
  d.ctrl->pollOnce();
  for (uint32_t i = 1; i <= 10; i++) {
    CHECK(posted(slot(i), true));
    uint32_t dw[4];
    std::memcpy(dw, slot(i), sizeof dw);
    CHECK_EQ(dw[2] & 0xFFFF, i + 1);  // SQ head after this command's fetch
    CHECK_EQ(dw[3] & 0xFFFF, i);      // CIDs 1..10
    CHECK_EQ(dw[3] >> CQE_SC_SHIFT, 0u);
  }
  CHECK(!posted(slot(11), true));
}

// Under ThreadSanitizer: the host reads DW0..DW2 with plain loads after the acquire of DW3;
// an entry whose phase became visible before the rest of it was written is a reported race.
TEST(emu_thread_cqe_lines_host_sees_whole_entries) {
  emu::EmuConfig cfg;
  cfg.backend = "nodata";
  MiniDriver d(cfg, true);
  CHECK(d.enable());
  MiniQueue q;
  CHECK(d.createIoPair(q, 1, 32, 2, 3));
  uint64_t buf = d.iova(d.page(100));
  uint32_t expectHead = 0;
  for (int round = 0; round < 400; round++) {
    const int n = 1 + round % 13;  // batches that start and end anywhere within a line
    uint16_t first = q.nextCid;
    for (int i = 0; i < n; i++) d.submit(q, readSqe(d, buf));
    for (int i = 0; i < n; i++) {
      Cqe c{};
      CHECK(d.reap(q, &c));
      CHECK_EQ(c.dw3 & 0xFFFF, static_cast<uint16_t>(first + i));
      CHECK_EQ(c.dw3 >> CQE_SC_SHIFT, 0u);
      CHECK_EQ(c.sqId, 1u);
      expectHead = (expectHead + 1) % q.size;
      CHECK_EQ(c.sqHead, expectHead);  // the SQ head right after this command's fetch
    }
  }
}
