// fio's sampling and log options: bwavgtime and iopsavgtime (the interval of the bandwidth
// and IOPS samples behind bw_min ... iops_samples and phyr's timeline), and the log files
// write_lat_log, write_bw_log, write_iops_log with log_avg_msec, log_max_value,
// per_job_logs, log_offset and log_prio, and write_hist_log with log_hist_msec and
// log_hist_coarseness (logs.ts). The job thread takes the samples
// (bench/native/sampler.h).
import { BenchConfigError, BenchOptionError } from './errors';
import type { JobSpec } from './job';
import { sampleIntervals } from './logs';
import type { PacingOption } from './options-pacing';
import { parseBool, parseInteger } from './units';

function intervalMs(option: string, value: string | undefined, min: number): number {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required (milliseconds)');
  // 1 ms at least: the job thread checks the boundary at each loop pass, and fio's rates
  // divide by whole elapsed milliseconds.
  return parseInteger(option, value, min, 3_600_000);
}

// A log's file prefix: fio's write_*_log=PREFIX, or the job's name without one.
function prefix(value: string | undefined): string {
  return value ?? '';
}

/** The option table's rows for sampling and logs (spread into OPTIONS). */
export const LOG_OPTIONS: PacingOption[] = [
  {
    name: 'bwavgtime', scope: 'job', help: 'the interval of the bandwidth samples in ms (bw_min, bw_max, bw_mean ..., the timeline); fio default 500, or log_avg_msec with write_bw_log',
    applyJob: (j: JobSpec, v) => { j.bwAvgTimeMs = intervalMs('bwavgtime', v, 1); },
  },
  {
    name: 'iopsavgtime', scope: 'job', help: 'the interval of the IOPS samples in ms (iops_min, iops_max ...); fio default 500, or log_avg_msec with write_iops_log',
    applyJob: (j: JobSpec, v) => { j.iopsAvgTimeMs = intervalMs('iopsavgtime', v, 1); },
  },
  {
    name: 'write_lat_log', scope: 'job', help: 'latency logs PREFIX_{lat,slat,clat}.N.log (fio\'s format; PREFIX defaults to the job name): every IO\'s latency in ns (log_avg_msec=0, fio\'s default), or each log_avg_msec window\'s mean',
    applyJob: (j: JobSpec, v) => { j.logs.lat = prefix(v); },
  },
  {
    name: 'write_bw_log', scope: 'job', help: 'bandwidth log PREFIX_bw.N.log: each log_avg_msec window\'s bandwidth sample, KiB/s',
    applyJob: (j: JobSpec, v) => { j.logs.bw = prefix(v); },
  },
  {
    name: 'write_iops_log', scope: 'job', help: 'IOPS log PREFIX_iops.N.log: each log_avg_msec window\'s IOPS sample',
    applyJob: (j: JobSpec, v) => { j.logs.iops = prefix(v); },
  },
  {
    name: 'log_avg_msec', scope: 'job', help: 'the logs\' averaging window in ms; 0 (fio\'s default) = an entry per IO, which phyr writes for the latency logs only (bw and iops logs need N > 0)',
    applyJob: (j: JobSpec, v) => { j.logs.avgMsec = intervalMs('log_avg_msec', v, 0); },
  },
  {
    name: 'log_max_value', scope: 'job', flag: true, help: 'bw/iops logs: the window\'s largest sample (each window holds one); refused with write_lat_log (phyr keeps window means only)',
    applyJob: (j: JobSpec, v) => { j.logs.maxValue = parseBool('log_max_value', v); },
  },
  {
    name: 'per_job_logs', scope: 'job', flag: true, help: 'one log file per job (PREFIX_TYPE.N.log, default) or one shared file (PREFIX_TYPE.log) every job appends to',
    applyJob: (j: JobSpec, v) => { j.logs.perJob = parseBool('per_job_logs', v); },
  },
  {
    name: 'log_offset', scope: 'job', flag: true, help: 'an offset column in the logs (0 in averaged entries, as fio writes them)',
    applyJob: (j: JobSpec, v) => { j.logs.offset = parseBool('log_offset', v); },
  },
  {
    name: 'log_prio', scope: 'job', flag: true, help: 'the prio column as fio\'s priority value (0x0000: phyr sets no IO priorities) instead of fio\'s RT flag (0)',
    applyJob: (j: JobSpec, v) => { j.logs.prio = parseBool('log_prio', v); },
  },
  {
    name: 'write_hist_log', scope: 'job', help: 'completion-latency histogram log PREFIX_clat_hist.N.log: per log_hist_msec window and direction, fio\'s 1856 clat bins (fio\'s format)',
    applyJob: (j: JobSpec, v) => { j.logs.hist = prefix(v); },
  },
  {
    name: 'log_hist_msec', scope: 'job', help: 'the histogram log\'s window in ms (0, fio\'s default: no entries)',
    applyJob: (j: JobSpec, v) => { j.logs.histMsec = intervalMs('log_hist_msec', v, 0); },
  },
  {
    name: 'log_hist_coarseness', scope: 'job', help: '0..6: each histogram log column sums 2^N of fio\'s bins (1856 / 2^N columns)',
    applyJob: (j: JobSpec, v) => {
      if (v === undefined || v === '') throw new BenchOptionError('log_hist_coarseness', '', 'a value is required (0..6)');
      j.logs.histCoarseness = parseInteger('log_hist_coarseness', v, 0, 6);
    },
  },
];

/** The job's sample clocks in ms (logs.ts sampleIntervals); refuses what phyr does not write. */
export function jobSampleIntervals(j: JobSpec): { bwMs: number; iopsMs: number; logWindowMs: number; perIo: boolean; histMs: number } {
  const s = sampleIntervals(j.name, j.logs, j.bwAvgTimeMs, j.iopsAvgTimeMs);
  if (!Number.isInteger(s.bwMs) || s.bwMs < 1) throw new BenchConfigError(`job '${j.name}': the bandwidth sample interval must be at least 1 ms`);
  return s;
}
