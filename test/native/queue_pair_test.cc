// QueuePair against a software device that reads the SQ and writes the CQ the way a
// controller does: SQE layout, CIDs, phase tracking, doorbells once per batch, the
// outstanding cap, splits completing once, cancellation; and a device thread (TSan).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "check.h"
#include "drivers/nvme/native/prp.h"
#include "drivers/nvme/native/queue_pair.h"
#include "queue_pair_rig.h"

using namespace phyr::nvme;
using phyr::PhyrEntry;

using namespace phyr::nvme::test_rig;

TEST(queue_pair_rejects_bad_memory) {
  uint32_t bar[2];
  alignas(4096) static uint8_t ring[8192];
  QueueConfig cfg;
  cfg.qsize = 1;
  cfg.sqTailDoorbell = &bar[0];
  cfg.cqHeadDoorbell = &bar[1];
  QueueMemory mem{ring, 0x1000, ring, 0x2000, ring, 0x3000, 1};
  const char* why = nullptr;
  CHECK(QueuePair::create(cfg, mem, &why) == nullptr);
  CHECK(why != nullptr && std::strstr(why, "queue size"));
  cfg.qsize = 8;
  mem.sqIova = 0x1010;
  CHECK(QueuePair::create(cfg, mem, &why) == nullptr);
  CHECK(std::strstr(why, "page aligned") != nullptr);
  mem.sqIova = 0x1000;
  CHECK(QueuePair::create(cfg, mem, &why) == nullptr);  // 1 list page < 6 trackers
  CHECK(std::strstr(why, "list page") != nullptr);
}

TEST(queue_pair_sqe_layout_and_one_doorbell_per_batch) {
  Rig r(16);
  CHECK(r.qp != nullptr);
  CHECK_EQ(r.qp->capacity(), 12u);  // 16 - 16/4
  PhyrEntry e[3] = {{0xA000, 4096, 0}, {0xB000, 4096, 0}, {0xC200, 4096, 0}};
  for (int i = 0; i < 3; i++) CHECK(r.qp->submit(read4k(100 + i, &e[i], 7 + i)).result == SubmitResult::Ok);
  CHECK_EQ(r.bar[0], 0u);  // nothing rung yet
  r.qp->ringSubmit();
  r.qp->ringSubmit();  // tail unchanged: no second write
  CHECK_EQ(r.bar[0], 3u);
  CHECK_EQ(r.qp->stats().doorbells, 1ull);
  Sqe s0 = r.sqeAt(0), s2 = r.sqeAt(2);
  CHECK_EQ(s0.cdw0, uint32_t{IO_READ} | 0u << 16);  // CID 0, PSDT PRP
  CHECK_EQ(s2.cdw0 >> 16, 2u);
  CHECK_EQ(s0.nsid, 1u);
  CHECK_EQ(s0.cdw10, 100u);
  CHECK_EQ(s0.cdw12, 7u);  // NLB 0's based
  CHECK_EQ(s0.dptr1, 0xA000ull);
  CHECK_EQ(s0.dptr2, 0ull);
  CHECK_EQ(s2.dptr1, 0xC200ull);
  CHECK_EQ(s2.dptr2, 0xD000ull);  // crosses one page boundary
  CHECK_EQ(r.deviceStep(), 3u);
  Completion out[8];
  CHECK_EQ(r.qp->poll(out, 8), 3u);
  CHECK_EQ(out[0].userData, 7ull);
  CHECK_EQ(out[2].userData, 9ull);
  CHECK_EQ(out[1].status, 0u);
  CHECK_EQ(r.bar[1], 3u);  // CQ head written once
  CHECK_EQ(r.qp->outstanding(), 0u);
  CHECK_EQ(r.qp->poll(out, 8), 0u);
}

// The one-range fast path writes PRP1/PRP2 itself for ranges within two pages: it must
// match what the general PRP builder writes, at every offset and length around the page
// boundaries (and lists beyond two pages must still come from a list page).
TEST(queue_pair_fast_path_prps_match_the_prp_builder) {
  const uint64_t offsets[] = {0, 4, 512, 2048, 4092, 3584, 4096 - 512};
  const uint32_t blocks[] = {1, 7, 8, 9, 15, 16, 17, 24};
  uint32_t checked = 0, withPrp2 = 0, withList = 0;
  for (uint64_t off : offsets) {
    for (uint32_t nlb : blocks) {
      Rig r(8);
      const uint64_t bytes = uint64_t{nlb} * 512;
      PhyrEntry e{0x40000 + off, static_cast<uint32_t>(bytes), 0};
      IoCommand c = read4k(5, &e, 1);
      c.blocks = nlb;
      CHECK(r.qp->submit(c).result == SubmitResult::Ok);
      const Sqe s = r.sqeAt(0);
      // Reference: the builder on its own, with a fresh list page at the tracker's page.
      struct OnePage : ListPageSource {
        uint8_t* cpu;
        uint64_t iova;
        bool used = false;
        bool take(ListPage* out) override {
          if (used) return false;
          used = true;
          *out = {cpu, iova};
          return true;
        }
      } page;
      std::vector<uint8_t> scratch(4096, 0);
      page.cpu = scratch.data();
      page.iova = 0x300000;  // the rig's first list page (tracker 0's own)
      uint64_t prp1 = 0, prp2 = 0;
      uint32_t used = 0;
      CHECK(buildPrp(PhyrSlice{&e, 1, 0, bytes}, 4096, page, &prp1, &prp2, &used) == DptrError::None);
      CHECK_EQ(s.dptr1, prp1);
      CHECK_EQ(s.dptr2, prp2);
      const uint64_t pagesSpanned = ((e.addr + bytes - 1) >> 12) - (e.addr >> 12) + 1;
      if (used) CHECK(std::memcmp(r.lists, scratch.data(), (pagesSpanned - 1) * 8) == 0);  // same list entries
      withPrp2 += prp2 != 0 && used == 0;
      withList += used != 0;
      checked++;
    }
  }
  CHECK_EQ(checked, 56u);
  CHECK(withPrp2 > 0);  // both shapes were exercised
  CHECK(withList > 0);
}

TEST(queue_pair_caps_outstanding_and_tracks_phase_across_wraps) {
  Rig r(8);
  PhyrEntry e{0x10000, 4096, 0};
  uint32_t accepted = 0;
  while (r.qp->submit(read4k(accepted, &e, accepted)).result == SubmitResult::Ok) accepted++;
  CHECK_EQ(accepted, 6u);  // 8 - 8/4
  CHECK(r.qp->submit(read4k(0, &e, 0)).result == SubmitResult::QueueFull);
  r.qp->ringSubmit();
  Completion out[8];
  uint64_t total = 0;
  // Many rounds: the rings wrap repeatedly and the phase flips each time.
  for (int round = 0; round < 50; round++) {
    r.deviceStep(round == 13 ? 0x4002 : 0);  // DNR + Invalid Field once
    uint32_t n = r.qp->poll(out, 8);
    for (uint32_t i = 0; i < n; i++) {
      if (round == 13) CHECK_EQ(out[i].status, 0x4002u);
      CHECK(r.qp->submit(read4k(i, &e, 1000 + total)).result == SubmitResult::Ok);
      total++;
    }
    r.qp->ringSubmit();
  }
  CHECK_EQ(total, 300ull);
  CHECK_EQ(r.qp->stats().spurious, 0ull);
}

TEST(queue_pair_split_completes_once_and_lists_grow_on_demand) {
  Rig r(16, 2, 0, 8192);  // no SGL, MDTS 8 KiB
  PhyrEntry big{0x100000, 32768, 0};
  IoCommand c = read4k(0, &big, 42);
  c.blocks = 64;
  SubmitOutcome o = r.qp->submit(c);
  CHECK(o.result == SubmitResult::Ok);
  CHECK(o.decision.format == DptrFormat::Split && o.decision.reason == DptrReason::SplitMdts);
  CHECK_EQ(o.decision.children, 4u);
  r.qp->ringSubmit();
  std::vector<Sqe> seen;
  r.deviceStep(0, &seen);
  CHECK_EQ(seen.size(), 4ul);
  CHECK_EQ(seen[1].cdw10, 16u);  // second child starts 16 LBAs in
  CHECK_EQ(seen[1].cdw12, 15u);
  CHECK_EQ(seen[3].dptr1, 0x106000ull);
  Completion out[8];
  CHECK_EQ(r.qp->poll(out, 8), 1u);  // one completion for the whole command
  CHECK_EQ(out[0].userData, 42ull);
  CHECK_EQ(r.qp->outstanding(), 0u);

  // A long PRP list needs extra pages: 3 MiB = 768 pages -> 767 entries -> 2 list pages.
  Rig l(8, 0);
  PhyrEntry huge{0x40000000, 3u << 20, 0};
  IoCommand h = read4k(0, &huge, 1);
  h.blocks = 6144;
  CHECK(l.qp->submit(h).result == SubmitResult::NeedListPages);
  CHECK_EQ(l.qp->outstanding(), 0u);
  CHECK_EQ(l.qp->stats().submitted, 0ull);
  alignas(4096) static uint8_t more[4096];
  CHECK(l.qp->addListPages(more, 0x900000, 1));
  CHECK(l.qp->submit(h).result == SubmitResult::Ok);
  CHECK_EQ(l.qp->spareListPages(), 0u);
  l.qp->ringSubmit();
  l.deviceStep();
  CHECK_EQ(l.qp->poll(out, 8), 1u);
  CHECK_EQ(l.qp->spareListPages(), 1u);  // returned on completion
}

// A command needing more children than the queue has trackers can never fit: submit
// says QueueFull with decision.children > capacity (the driver then splits it into parts),
// writes nothing and holds nothing; the same queue still takes a part that fits.
TEST(queue_pair_more_children_than_trackers_is_reported_not_held) {
  Rig r(8, 0, 0, 4096);  // capacity 6, MDTS 4 KiB
  CHECK_EQ(r.qp->capacity(), 6u);
  PhyrEntry big{0x100000, 10 * 4096, 0};
  IoCommand c = read4k(0, &big, 7);
  c.blocks = 80;  // 10 children of 4 KiB
  SubmitOutcome o = r.qp->submit(c);
  CHECK(o.result == SubmitResult::QueueFull);
  CHECK_EQ(o.decision.children, 10u);
  CHECK(o.decision.children > r.qp->capacity());
  CHECK_EQ(r.qp->outstanding(), 0u);
  CHECK_EQ(r.qp->stats().submitted, 0ull);
  r.qp->ringSubmit();
  CHECK_EQ(r.bar[0], 0u);  // no doorbell for nothing
  // The first half (5 children) as its own command fits and completes once.
  IoCommand half = c;
  half.blocks = 40;
  o = r.qp->submit(half);
  CHECK(o.result == SubmitResult::Ok);
  CHECK_EQ(o.decision.children, 5u);
  r.qp->ringSubmit();
  CHECK_EQ(r.deviceStep(), 5u);
  Completion out[8];
  CHECK_EQ(r.qp->poll(out, 8), 1u);
  CHECK_EQ(out[0].userData, 7ull);
  CHECK_EQ(r.qp->outstanding(), 0u);
}

TEST(queue_pair_bounce_reject_invalid_and_sgl) {
  Rig r(16, 0, 1);
  PhyrEntry odd[2] = {{0x10000, 256, 0}, {0x20200, 256, 0}};
  IoCommand c = read4k(0, odd, 1);
  c.blocks = 1;
  c.dataCount = 2;
  SubmitOutcome o = r.qp->submit(c);
  CHECK(o.result == SubmitResult::Ok);
  CHECK(o.decision.format == DptrFormat::Sgl && o.decision.reason == DptrReason::SglNotPrpable);
  r.qp->ringSubmit();
  std::vector<Sqe> seen;
  r.deviceStep(0, &seen);
  CHECK_EQ(seen[0].cdw0 >> 14 & 3u, 1u);  // PSDT = SGL
  Rig p(16, 0, 0);
  CHECK(p.qp->submit(c).result == SubmitResult::Bounce);
  PhyrEntry short1{0x10000, 1024, 0};
  IoCommand s = read4k(0, &short1, 1);  // 4 KiB into 1 KiB
  SubmitOutcome so = p.qp->submit(s);
  CHECK(so.result == SubmitResult::Invalid);
  CHECK(so.error == DptrError::OutOfBounds);
  CHECK_EQ(p.qp->outstanding(), 0u);
}

TEST(queue_pair_cancel_all_and_timeouts) {
  Rig r(16);
  PhyrEntry e{0x10000, 4096, 0};
  for (int i = 0; i < 5; i++) r.qp->submit(read4k(i, &e, 50 + i));
  r.qp->ringSubmit();
  r.qp->tick();
  r.qp->tick();
  uint64_t tags[16];
  uint16_t cids[16];
  CHECK_EQ(r.qp->expired(2, tags, cids, 16), 5u);
  CHECK_EQ(r.qp->expired(3, tags, cids, 16), 0u);
  CHECK_EQ(r.qp->cidsOf(52, cids, 16), 1u);
  CHECK_EQ(cids[0], 2u);
  Completion out[16];
  CHECK_EQ(r.qp->cancelAll(out, 16, 0x7FFF), 5u);
  CHECK_EQ(out[0].flags, kCompletionCancelled);
  CHECK_EQ(r.qp->outstanding(), 0u);
  // Rings rewound: a fresh device sees the next command at slot 0.
  r.devSqHead = r.devCqTail = 0;
  r.devPhase = 1;
  r.bar[0] = 0;
  CHECK(r.qp->submit(read4k(9, &e, 99)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.bar[0], 1u);
  r.deviceStep();
  CHECK_EQ(r.qp->poll(out, 16), 1u);
  CHECK_EQ(out[0].userData, 99ull);
}

TEST(queue_pair_thread_device_round_trip) {
  Rig r(64);
  std::atomic<bool> stop{false};
  std::thread device([&] {
    while (!stop.load(std::memory_order_acquire)) {
      // Never overrun the CQ: the driver's outstanding cap guarantees room.
      if (r.deviceStep() == 0) std::this_thread::yield();
    }
  });
  PhyrEntry e{0x10000, 4096, 0};
  Completion out[64];
  uint64_t done = 0, sent = 0, sum = 0;
  while (done < 20000) {
    while (sent < 20000 && r.qp->submit(read4k(sent, &e, sent)).result == SubmitResult::Ok) sent++;
    r.qp->ringSubmit();
    uint32_t n = r.qp->poll(out, 64);
    for (uint32_t i = 0; i < n; i++) sum += out[i].userData;
    done += n;
    if (n == 0) std::this_thread::yield();
  }
  stop.store(true, std::memory_order_release);
  device.join();
  CHECK_EQ(sum, 20000ull * 19999 / 2);
  CHECK_EQ(r.qp->stats().spurious, 0ull);
}

// setCqHeadLag: the CQ head doorbell lags the consumed entries by at most the ring's spare
// quarter (qsize − 1 − capacity): fewer doorbells, and the controller's view of the CQ
// never fills; turned off, the lagging head is published at once.
TEST(queue_pair_cq_head_doorbell_lags_by_at_most_the_spare_entries) {
  Rig r(64);
  CHECK_EQ(r.qp->capacity(), 48u);  // 15 spare entries beyond the 48 in flight
  r.qp->setCqHeadLag(true);
  PhyrEntry e{0x10000, 4096, 0};
  Completion out[64];
  for (uint32_t i = 0; i < 10; i++) CHECK(r.qp->submit(read4k(i, &e, i)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.deviceStep(), 10u);
  CHECK_EQ(r.qp->poll(out, 64), 10u);
  CHECK_EQ(r.bar[1], 0u);  // 10 unreported entries fit in the 15 spare ones
  CHECK_EQ(r.qp->stats().doorbells, 1ull);  // the SQ tail only
  for (uint32_t i = 0; i < 10; i++) CHECK(r.qp->submit(read4k(i, &e, 10 + i)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.deviceStep(), 10u);
  CHECK_EQ(r.qp->poll(out, 64), 10u);
  CHECK_EQ(r.bar[1], 20u);  // 20 would not fit: reported
  // Full depth for many laps: the controller's count of posted, unreported entries (posted
  // minus every advance of the CQ head doorbell) stays below the ring's size.
  uint64_t posted = 20, reported = 20, sent = 20;
  uint32_t lastHead = r.bar[1];
  for (int round = 0; round < 400; round++) {
    while (r.qp->submit(read4k(sent, &e, sent)).result == SubmitResult::Ok) sent++;
    r.qp->ringSubmit();
    posted += r.deviceStep();
    CHECK(posted - reported <= 63u);
    r.qp->poll(out, static_cast<uint32_t>(1 + round % 7));  // reaped a few at a time
    reported += (r.bar[1] + 64 - lastHead) % 64;
    lastHead = r.bar[1];
  }
  CHECK(reported > 1000u);  // 400 rounds of 1 to 7 reaped entries
  CHECK_EQ(r.qp->stats().spurious, 0ull);
  // Off again: whatever lagged is published now, and every reap reports.
  while (r.qp->outstanding() != 0) {
    r.deviceStep();
    r.qp->poll(out, 1);
  }
  r.qp->setCqHeadLag(false);
  CHECK_EQ(r.bar[1], r.devCqTail);
  CHECK(r.qp->submit(read4k(0, &e, 0)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.deviceStep(), 1u);
  CHECK_EQ(r.qp->poll(out, 64), 1u);
  CHECK_EQ(r.bar[1], r.devCqTail);
}
