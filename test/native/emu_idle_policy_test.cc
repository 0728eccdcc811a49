// The device thread's idle policy: spin while work is recent, a spin window that grows
// while a workload keeps coming back after short pauses and shrinks after a long idle or a
// lost core, sleeps in growing steps, spinning for a held completion due soon.
#include "check.h"
#include "emu/native/device_thread.h"

using phyr::emu::IdlePolicy;

namespace {
constexpr uint64_t kUs = 1000, kMs = 1000 * kUs;
constexpr uint64_t kPass = 5 * kUs;  // passes of a spinning thread in these models

// Idle passes from `t` until the policy sleeps; returns when it did (t moves there).
uint64_t spinUntilSleep(IdlePolicy& p, uint64_t& t) {
  for (;; t += kPass)
    if (p.sleepFor(t, 0) > 0) return t;
}
// Work found at every pass for `len`.
void busy(IdlePolicy& p, uint64_t& t, uint64_t len) {
  for (uint64_t end = t + len; t < end; t += kPass) p.workFound(t);
}
}  // namespace

TEST(emu_idle_policy_spins_then_sleeps_in_growing_steps) {
  uint64_t t = 5 * kMs;
  IdlePolicy p(t);
  CHECK_EQ(p.sleepFor(t + 10 * kUs, 0), 0u);  // recent work: spin
  CHECK_EQ(p.sleepFor(t + 45 * kUs, 0), 0u);
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
  busy(p, t, 100 * kUs);  // work at every pass: no sleep, the window stays as it is
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  // The job pauses: the thread spins its window, sleeps, and the work comes back soon.
  spinUntilSleep(p, t);
  p.workFound(t += 40 * kUs);
  CHECK_EQ(p.spinNs(), 2 * IdlePolicy::kSpinMinNs);
  // Repeated short pauses grow it to the cap, never past.
  for (int i = 0; i < 20; i++) {
    busy(p, t, 20 * kUs);
    spinUntilSleep(p, t);
    p.workFound(t += 40 * kUs);
  }
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMaxNs);
  uint64_t from = t;
  CHECK_EQ(spinUntilSleep(p, t) - from, IdlePolicy::kSpinMaxNs);  // spun the whole window
  // A long idle brings the window back to its start: an idle controller stays cheap.
  CHECK(p.sleepFor(t + IdlePolicy::kDecayNs, 0) > 0);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  p.workFound(t += IdlePolicy::kDecayNs + kMs);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);  // work after a long idle does not regrow it
  from = t;
  CHECK_EQ(spinUntilSleep(p, t) - from, IdlePolicy::kSpinMinNs);
}

TEST(emu_idle_policy_yields_past_the_first_window) {
  uint64_t t = 5 * kMs;
  IdlePolicy p(t);
  CHECK(!p.yieldWhileSpinning(t + 10 * kUs));  // the first 50 us: pause only
  spinUntilSleep(p, t);
  p.workFound(t += 40 * kUs);  // the window grew to 100 us
  for (uint64_t at = t + kPass; at < t + 70 * kUs; at += kPass) CHECK_EQ(p.sleepFor(at, 0), 0u);
  CHECK(p.yieldWhileSpinning(t + 70 * kUs));  // its extended part yields the core
}

TEST(emu_idle_policy_a_lost_core_keeps_the_window_small) {
  uint64_t t = 5 * kMs;
  IdlePolicy p(t);
  spinUntilSleep(p, t);
  p.workFound(t += 40 * kUs);
  CHECK_EQ(p.spinNs(), 2 * IdlePolicy::kSpinMinNs);
  // Two spinning passes farther apart than kPreemptedNs: the thread was descheduled.
  busy(p, t, 20 * kUs);
  CHECK_EQ(p.sleepFor(t, 0), 0u);
  t += IdlePolicy::kPreemptedNs + kUs;
  CHECK(p.sleepFor(t, 0) > 0);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  // Short pauses after sleeps no longer grow it ...
  p.workFound(t += 40 * kUs);
  busy(p, t, 20 * kUs);
  spinUntilSleep(p, t);
  p.workFound(t += 40 * kUs);
  CHECK_EQ(p.spinNs(), IdlePolicy::kSpinMinNs);
  // ... until kDecayNs of passes on a core of its own.
  busy(p, t, IdlePolicy::kDecayNs);
  spinUntilSleep(p, t);
  p.workFound(t += 40 * kUs);
  CHECK_EQ(p.spinNs(), 2 * IdlePolicy::kSpinMinNs);
}
