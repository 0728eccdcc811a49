// fio's sampling options: bwavgtime and iopsavgtime, the interval of the bandwidth and IOPS
// samples behind bw_min ... iops_samples and phyr's timeline. The job thread takes the
// samples (bench/native/sampler.h); phyr samples both on one interval, so the two must agree.
import { BenchConfigError, BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseInteger } from './units';

/** fio's default of both (ms). */
export const DEFAULT_SAMPLE_INTERVAL_MS = 500;

function intervalMs(option: string, value: string | undefined): number {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required (milliseconds)');
  // 1 ms at least: the job thread checks the boundary at each loop pass, and fio's rates
  // divide by whole elapsed milliseconds.
  return parseInteger(option, value, 1, 3_600_000);
}

/** The option table's rows for sampling (spread into OPTIONS). */
export const LOG_OPTIONS: PacingOption[] = [
  {
    name: 'bwavgtime', scope: 'job', help: 'the interval of the bandwidth samples in ms (bw_min, bw_max, bw_mean ..., the timeline); fio default 500',
    applyJob: (j: JobSpec, v) => { j.bwAvgTimeMs = intervalMs('bwavgtime', v); },
  },
  {
    name: 'iopsavgtime', scope: 'job', help: 'the interval of the IOPS samples in ms (iops_min, iops_max ...); phyr takes both samples together, so it must equal bwavgtime',
    applyJob: (j: JobSpec, v) => { j.iopsAvgTimeMs = intervalMs('iopsavgtime', v); },
  },
];

/** The job's sample interval in ms; a job whose bwavgtime and iopsavgtime differ is refused. */
export function sampleIntervalMs(j: JobSpec): number {
  if (j.bwAvgTimeMs !== j.iopsAvgTimeMs) {
    throw new BenchConfigError(`job '${j.name}': bwavgtime=${j.bwAvgTimeMs} and iopsavgtime=${j.iopsAvgTimeMs} differ; phyr takes bandwidth and IOPS samples on one interval: give both the same value`, 'PHYR_BENCH_UNSUPPORTED_OPTION');
  }
  return j.bwAvgTimeMs;
}
