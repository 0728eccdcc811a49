// The device thread's idle policy: spin while work is recent, a spin window that grows
// while a workload keeps coming back after short pauses and shrinks after a long idle,
// sleeps in growing steps, spinning for a held completion due soon.
#include "check.h"
#include "emu/native/device_thread.h"

using phyr::emu::IdlePolicy;

namespace {
constexpr uint64_t kUs = 1000, kMs = 1000 * kUs;
}  // namespace

TEST(emu_idle_policy_spins_then_sleeps_in_growing_steps) {
  uint64_t t = 5 * kMs;
  IdlePolicy p(t);
  CHECK_EQ(p.sleepFor(t + 10 * kUs, 0), 0u);  // recent work: spin
  CHECK_EQ(p.sleepFor(t + 49 * kUs, 0), 0u);
  CHECK_EQ(p.sleepFor(t + 50 * kUs, 0), 20 * kUs);
  CHECK_EQ(p.sleepFor(t + 20 * kMs, 0), 200 * kUs);
  CHECK_EQ(p.sleepFor(t + 2000 * kMs, 0), 1 * kMs);
  // A held completion due within 100 us is spun for; a later one caps the sleep.
  IdlePolicy q(t);
  CHECK_EQ(q.sleepFor(t + 60 * kUs, t + 120 * kUs), 0u);
  CHECK_EQ(q.sleepFor(t + 20 * kMs, t + 20 * kMs + 150 * kUs), 100 * kUs);  // wakes 50 us before it
}

TEST(emu_idle_policy_window_grows_while_work_keeps_coming_back) {
  uint64_t t = 5 * kMs;
  IdlePolicy p(t);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  // Work every microsecond: no sleep, the window stays as it is.
  for (int i = 0; i < 100; i++) p.workFound(t += kUs);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  // A 120 us pause (the job thread descheduled): the thread slept, work came back soon.
  CHECK(p.sleepFor(t + 60 * kUs, 0) > 0);
  p.workFound(t += 120 * kUs);
  CHECK_EQ(p.spinNs(), 2 * IdlePolicy::kSpinMinNs);
  CHECK_EQ(p.sleepFor(t + 90 * kUs, 0), 0u);  // the same pause is now spun through
  // Repeated short pauses grow it to the cap, never past.
  for (int i = 0; i < 20; i++) {
    uint64_t gap = p.spinNs() + 10 * kUs;
    CHECK(p.sleepFor(t + gap, 0) > 0);
    p.workFound(t += gap + 5 * kUs);
  }
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMaxNs);
  CHECK_EQ(p.sleepFor(t + IdlePolicy::kSpinMaxNs - 1, 0), 0u);
  // A long idle brings the window back to its start: an idle controller stays cheap.
  CHECK(p.sleepFor(t + IdlePolicy::kDecayNs, 0) > 0);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  p.workFound(t += IdlePolicy::kDecayNs + kMs);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);  // work after a long idle does not regrow it
  CHECK(p.sleepFor(t + IdlePolicy::kSpinMinNs, 0) > 0);
}
