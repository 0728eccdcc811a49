// Shadow doorbells (Doorbell Buffer Config): the EventIdx rule, the queue pair's choice of
// shadow-only versus shadow-then-MMIO, and a device thread that sleeps on the MMIO doorbell
// and serves from the shadow buffer — no command may strand between the two (TSan).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "check.h"
#include "drivers/nvme/native/queue_pair.h"
#include "drivers/nvme/native/shadow_doorbell.h"
#include "queue_pair_rig.h"

using namespace phyr::nvme;
using phyr::PhyrEntry;

using namespace phyr::nvme::test_rig;

// The shared rig with the queue's shadow slots (its device reads the shadow tail).
struct ShadowRig : Rig {
  explicit ShadowRig(uint32_t q) : Rig(q, 0, 0, 0, true) {}
  uint32_t serve() { return deviceStep(); }
};

TEST(shadow_event_idx_rule) {
  // MMIO is due when old <= event < new, modulo 2^16.
  CHECK(shadowNeedsMmio(0, 1, 0));
  CHECK(!shadowNeedsMmio(5, 3, 1));
  CHECK(shadowNeedsMmio(5, 6, 3));
  CHECK(shadowNeedsMmio(5, 6, 5));   // the update moves past the value the controller last read
  CHECK(!shadowNeedsMmio(5, 5, 4));  // it reaches it only: the controller has not read past it
  CHECK(!shadowNeedsMmio(5, 5, 5));  // nothing moved
  CHECK(!shadowNeedsMmio(9, 8, 2));
  CHECK(shadowNeedsMmio(0xFFFF, 2, 0xFFFE));  // across the 16-bit wrap
  CHECK(!shadowNeedsMmio(3, 2, 0xFFFE));
}

TEST(shadow_doorbells_write_mmio_only_when_event_idx_asks) {
  ShadowRig r(64);
  CHECK(r.qp != nullptr);
  PhyrEntry e{0x10000, 4096, 0};
  // EventIdx 0, tail 0 -> 1: the update moves past 0, so MMIO.
  CHECK(r.qp->submit(read4k(0, &e, 0)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.shadow[0], 1u);
  CHECK_EQ(r.bar[0], 1u);
  CHECK_EQ(r.qp->stats().doorbells, 1ull);
  // The controller polls the shadow and asks for an MMIO write once the tail moves past 5.
  __atomic_store_n(&r.eventIdx[0], 5u, __ATOMIC_RELEASE);
  for (int i = 1; i < 3; i++) CHECK(r.qp->submit(read4k(i, &e, i)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.shadow[0], 3u);
  CHECK_EQ(r.bar[0], 1u);  // no MMIO: 5 is not in [1, 3)
  for (int i = 3; i < 7; i++) CHECK(r.qp->submit(read4k(i, &e, i)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.shadow[0], 7u);
  CHECK_EQ(r.bar[0], 7u);  // 5 is in [3, 7)
  CHECK_EQ(r.qp->stats().shadowUpdates, 3ull);
  CHECK_EQ(r.qp->stats().doorbells, 2ull);
  // The CQ head, lagging (setCqHeadLag, as the benchmark's polled queues do): 7 consumed
  // entries fit in the ring's 15 spare ones, so the head is not published yet; at 16 it is,
  // and with EventIdx 100 the move 0 -> 16 stays in the shadow.
  r.qp->setCqHeadLag(true);
  CHECK_EQ(r.serve(), 7u);
  __atomic_store_n(&r.eventIdx[1], 100u, __ATOMIC_RELEASE);
  Completion out[16];
  CHECK_EQ(r.qp->poll(out, 16), 7u);
  CHECK_EQ(r.shadow[1], 0u);
  for (int i = 7; i < 16; i++) CHECK(r.qp->submit(read4k(i, &e, i)).result == SubmitResult::Ok);
  r.qp->ringSubmit();
  CHECK_EQ(r.serve(), 9u);
  CHECK_EQ(r.qp->poll(out, 16), 9u);
  CHECK_EQ(r.shadow[1], 16u);
  CHECK_EQ(r.bar[1], 0u);  // 100 is not in [0, 16)
}

// A device thread that sleeps on the MMIO doorbell the way an emulator does, serves from
// the shadow tail, then sets EventIdx to what it served and re-reads the shadow (the same
// store→load order the host keeps, mirrored) before it sleeps again. A submission lost
// between the two would wait for a doorbell that never comes: the run would stop short of
// its count and fail at the deadline.
// A doorbell write is an event to a real device even when it carries the value of the last
// one (a full lap of shadow-only updates later). The device here takes each write by
// swapping a value no tail can have into the register, so such a write is not mistaken
// for no write (which stranded the run now and then).
TEST(shadow_doorbells_thread_device_strands_nothing) {
  ShadowRig r(64);
  constexpr uint32_t kTaken = 0xFFFFFFFFu;  // not a tail of a 64-entry ring
  __atomic_store_n(&r.bar[0], kTaken, __ATOMIC_RELEASE);
  std::atomic<bool> stop{false};
  std::thread device([&] {
    while (!stop.load(std::memory_order_acquire)) {
      if (__atomic_exchange_n(&r.bar[0], kTaken, __ATOMIC_ACQ_REL) == kTaken) {
        std::this_thread::yield();
        continue;
      }
      for (;;) {
        r.serve();
        __atomic_store_n(&r.eventIdx[0], r.devSqHead, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&r.shadow[0], __ATOMIC_SEQ_CST) == r.devSqHead) break;
      }
    }
  });
  PhyrEntry e{0x10000, 4096, 0};
  Completion out[64];
  uint64_t done = 0, sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (done < 20000 && std::chrono::steady_clock::now() < deadline) {
    while (sent < 20000 && r.qp->submit(read4k(sent, &e, sent)).result == SubmitResult::Ok) sent++;
    r.qp->ringSubmit();
    const uint32_t n = r.qp->poll(out, 64);
    done += n;
    if (n == 0) std::this_thread::yield();
  }
  stop.store(true, std::memory_order_release);
  device.join();
  CHECK_EQ(done, 20000ull);
  CHECK(r.qp->stats().doorbells < r.qp->stats().shadowUpdates);
}
