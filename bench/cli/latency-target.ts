// What a job asks of fio's latency target mode and what it reports of it (the options are
// read in options-latency.ts; the search runs in bench/native/latency_target.h). Kept apart
// from the options so the job description can hold it without importing the option table.

/** What a job asked of the latency target mode (JobSpec.latency). */
export interface LatencyTargetSpec {
  /** latency_target in microseconds; 0 = off. */
  targetUs: number;
  /** latency_window in microseconds; 0 = every loop pass decides. */
  windowUs: number;
  /** latency_percentile: the share (0..100) of a window's IOs that must meet the target. */
  percentile: number;
  /** latency_run: keep searching for the whole runtime instead of ending at the settled depth. */
  keepRunning: boolean;
}

/** What a job reports of it: the settings and the depth the search ended at. */
export interface LatencyTargetResult {
  /** fio's latency_depth: the depth the search ended at (the job's iodepth without a target). */
  depth: number;
  /** fio's latency_target in ns, latency_window in us, latency_percentile. */
  targetNs: number;
  windowUs: number;
  percentile: number;
  /** The search's decisions in order (fio's --debug=rate "Ramped up/down: low depth high" lines); absent without a target. */
  steps?: LatencyStepResult[];
  /** Decisions past the native step log's capacity. */
  stepsDropped?: number;
}

/** One decision of the search: a ramp up or down to `depth` between `low` and `high`, the final window, or the end. */
export interface LatencyStepResult {
  step: 'up' | 'down' | 'final' | 'done';
  low: number;
  depth: number;
  high: number;
}

/** fio's defaults: no target, window 0, percentile 100, no latency_run. */
export function defaultLatencyTarget(): LatencyTargetSpec {
  return { targetUs: 0, windowUs: 0, percentile: 100, keepRunning: false };
}
