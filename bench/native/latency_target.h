// fio's latency target mode (latency_target, latency_window, latency_percentile,
// latency_run; fio 3.33 io_u.c lat_target_*): the job searches for the deepest queue depth
// at which `percentile` % of the IOs completed in a window of `window` finish within the
// target. It starts at depth 1, doubles while windows succeed, bisects between the last
// good and first bad depth once one fails, and when a success leaves the depth where it
// was it resets the statistics and runs one more window at that depth (the "final run"),
// after which the job ends. latency_run keeps searching for the whole runtime instead.
//
// This class is the decision logic only, in fio's order and arithmetic; the engine
// (engine.h) owns the clock, the IO counts and the queue: it limits the IOs in flight to
// depth(), waits for the queue to drain ("quiesce") when a decision says so, and then
// starts the next window with newCycle(). No allocation: the step log is a fixed array.
#pragma once
#include <cstdint>

namespace phyr::bench {

// One decision of the search, as fio's debug output (--debug=rate) names them: a ramp up
// or down leaves (low, depth, high); kFinalRun and kDone carry the depth they ran at.
enum class LatencyStepKind : uint8_t { kUp = 0, kDown = 1, kFinalRun = 2, kDone = 3 };
struct LatencyStep {
  LatencyStepKind kind;
  uint32_t low, depth, high;
};

struct LatencyStepLog {
  static constexpr uint32_t kMaxSteps = 256;
  LatencyStep steps[kMaxSteps] = {};
  uint32_t count = 0;
  uint64_t dropped = 0;  // decisions past kMaxSteps (latency_run over a long runtime)
  void add(LatencyStepKind kind, uint32_t low, uint32_t depth, uint32_t high) {
    if (count < kMaxSteps) steps[count++] = LatencyStep{kind, low, depth, high};
    else dropped++;
  }
};

class LatencyTarget {
 public:
  // What the engine must do after a decision.
  enum class Action : uint8_t {
    kNone,      // go on (the depth may have grown; the next window has begun)
    kQuiesce,   // ramped down: let the IOs in flight complete, then newCycle()
    kFinalRun,  // the search settled: drain, reset the statistics, newCycle(), run one window
    kDone,      // the final window succeeded: the job ends
    kFatal,     // an IO missed the target at depth 1 with percentile 100: ETIMEDOUT
  };

  // fio's lat_target_init: depth 1, bounds 1 and iodepth, the window starting at `now`
  // with `ios` completions counted so far.
  void init(uint32_t iodepth, uint64_t windowTicks, double percentile, bool keepRunning, uint64_t now, uint64_t ios) {
    iodepth_ = iodepth;
    windowTicks_ = windowTicks;
    percentile_ = percentile;
    keepRunning_ = keepRunning;
    endRun_ = false;
    qd_ = 1;
    high_ = iodepth;
    low_ = 1;
    stable_ = 0;
    newCycle(now, ios);
  }

  // fio's lat_target_reset (its reset_all_stats, at the end of the ramp): the search starts
  // over unless the final run is under way.
  void reset(uint64_t now, uint64_t ios) {
    if (!endRun_) init(iodepth_, windowTicks_, percentile_, keepRunning_, now, ios);
  }

  // fio's lat_new_cycle: a window starts now, nothing failed yet.
  void newCycle(uint64_t now, uint64_t ios) {
    windowStart_ = now;
    windowIos_ = ios;
    failed_ = 0;
  }

  // A measured IO whose latency is above the target (fio's lat_target_failed): with
  // percentile 100 it fails the window at once, else it is counted against the window.
  Action missed(LatencyStepLog* log) {
    if (percentile_ == 100.0) return qd_ == 1 ? Action::kFatal : rampDown(log);
    failed_++;
    return Action::kNone;
  }

  // fio's lat_target_check, once per loop pass: when the window is over, the share of its
  // IOs within the target decides up or down. An empty window (no IO completed) is a
  // failure, as fio's 0/0 comparison is.
  Action check(uint64_t now, uint64_t ios, LatencyStepLog* log) {
    if (now - windowStart_ < windowTicks_) return Action::kNone;
    const uint64_t n = ios - windowIos_;
    const double success = static_cast<double>(n - failed_) / static_cast<double>(n) * 100.0;
    if (success >= percentile_) return rampUp(now, ios, log);
    // At depth 1 fio's failure path returns before starting a new window, so every later
    // pass fails again over the growing window; the depth stays 1 and the job goes on.
    return qd_ == 1 ? Action::kNone : rampDown(log);
  }

  uint32_t depth() const { return qd_; }
  bool finalRun() const { return endRun_; }

 private:
  // fio's __lat_target_failed above depth 1: halve towards the low bound.
  Action rampDown(LatencyStepLog* log) {
    high_ = qd_;
    if (qd_ == low_) low_--;
    qd_ = (qd_ + low_) / 2;
    stable_ = 0;
    if (log) log->add(LatencyStepKind::kDown, low_, qd_, high_);
    return Action::kQuiesce;
  }

  // fio's lat_target_success.
  Action rampUp(uint64_t now, uint64_t ios, LatencyStepLog* log) {
    const uint32_t qd = qd_;
    low_ = qd_;
    // One below the failing depth: fio raises the high bound by one after three
    // successes in a row there, so the search can creep back up.
    if (qd_ + 1 == high_ && ++stable_ >= 3) {
      high_++;
      stable_ = 0;
    }
    // Doubling until a depth has failed (high is still iodepth), then bisecting.
    if (high_ != iodepth_) qd_ = (qd_ + high_) / 2;
    else qd_ *= 2;
    if (qd_ > iodepth_) qd_ = iodepth_;
    if (log) log->add(LatencyStepKind::kUp, low_, qd_, high_);
    Action a = Action::kNone;
    if (!keepRunning_ && qd_ == qd) {
      if (endRun_) {
        if (log) log->add(LatencyStepKind::kDone, low_, qd_, high_);
        a = Action::kDone;
      } else {
        if (log) log->add(LatencyStepKind::kFinalRun, low_, qd_, high_);
        endRun_ = true;
        a = Action::kFinalRun;
      }
    }
    newCycle(now, ios);
    return a;
  }

  uint32_t iodepth_ = 1;
  uint64_t windowTicks_ = 0;
  double percentile_ = 100.0;
  bool keepRunning_ = false;
  bool endRun_ = false;
  uint32_t qd_ = 1, low_ = 1, high_ = 1, stable_ = 0;
  uint64_t windowStart_ = 0, windowIos_ = 0, failed_ = 0;
};

}  // namespace phyr::bench
