// fio's latency target mode: latency_target, latency_window, latency_percentile and
// latency_run (fio 3.33). The job searches for the deepest queue depth at which
// latency_percentile % of the IOs of each latency_window complete within latency_target,
// starting at depth 1; once the depth settles it resets its statistics, runs one more window
// there and ends (latency_run=1 keeps searching for the whole runtime). fio reports the
// depth it ended at as latency_depth. The search runs in the native loop
// (bench/native/latency_target.h); this file reads the options with fio's units: the target
// and the window are times in microseconds unless a unit is given, held as fio holds them
// (whole microseconds).
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseBool, parseTimeNs } from './units';

// A time option in whole microseconds, as fio stores latency_target and latency_window.
// fio reads an "ns" suffix as microseconds (its time parser knows no nanoseconds) and
// truncates fractions; phyr refuses both rather than run another target than the one meant.
function microseconds(option: string, value: string | undefined): number {
  const v = (value ?? '').trim();
  if (v === '') throw new BenchOptionError(option, '', 'a value is required (microseconds unless a unit is given, e.g. 500us, 10ms)');
  if (/ns(ec)?$/i.test(v)) throw new BenchOptionError(option, v, 'fio holds this time in whole microseconds and reads an ns suffix as us: give us, ms or s');
  const ns = parseTimeNs(option, v, 'us');
  if (ns % 1000 !== 0) throw new BenchOptionError(option, v, 'fio holds this time in whole microseconds: give us, ms or s');
  return ns / 1000;
}

// fio's latency_percentile: one floating-point value in [0, 100] (a list of one).
function percentile(value: string | undefined): number {
  const v = (value ?? '').trim();
  if (v === '') throw new BenchOptionError('latency_percentile', '', 'a value is required: a percentage 0..100, e.g. 99.9');
  if (v.includes(':')) throw new BenchOptionError('latency_percentile', v, 'give one percentage (fio\'s list holds one value here)');
  if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new BenchOptionError('latency_percentile', v, 'not a number: give a percentage 0..100, e.g. 99.9');
  const p = Number(v);
  if (!(p >= 0 && p <= 100)) throw new BenchOptionError('latency_percentile', v, 'out of range: a percentage 0..100');
  return p;
}

/** The option table's rows for the latency target mode (spread into OPTIONS). */
export const LATENCY_OPTIONS: PacingOption[] = [
  {
    name: 'latency_target', scope: 'job',
    help: 'TIME (microseconds unless a unit is given; 0 = off): search for the deepest queue depth (1 .. iodepth) at which latency_percentile of each latency_window\'s IOs complete within it, as fio; the job ends one window after the depth settles and reports it as latency_depth. With latency_percentile=100 an IO above the target at depth 1 ends the job with ETIMEDOUT (110), as in fio',
    applyJob: (j, v) => { j.latency.targetUs = microseconds('latency_target', v); },
  },
  {
    name: 'latency_window', scope: 'job',
    help: 'TIME (microseconds unless a unit is given; default 0): the length of each window latency_target is judged over',
    applyJob: (j, v) => { j.latency.windowUs = microseconds('latency_window', v); },
  },
  {
    name: 'latency_percentile', scope: 'job',
    help: 'PERCENT (0..100, default 100): the share of a window\'s IOs that must complete within latency_target; at 100 the first IO above it fails the depth at once',
    applyJob: (j, v) => { j.latency.percentile = percentile(v); },
  },
  {
    name: 'latency_run', scope: 'job', flag: true,
    help: 'keep adjusting the queue depth to latency_target for the whole runtime instead of ending after the depth settles (default 0)',
    applyJob: (j, v) => { j.latency.keepRunning = parseBool('latency_run', v); },
  },
];

/** The native loop's parameters for a job's latency target (none without one). */
export function nativeLatencyParams(j: JobSpec): { latencyTargetNs?: number; latencyWindowUs?: number; latencyPercentile?: number; latencyRun?: boolean } {
  if (!j.latency.targetUs) return {};
  return { latencyTargetNs: j.latency.targetUs * 1000, latencyWindowUs: j.latency.windowUs, latencyPercentile: j.latency.percentile, ...(j.latency.keepRunning ? { latencyRun: true } : {}) };
}
