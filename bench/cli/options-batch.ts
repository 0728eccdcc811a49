// fio's batching options, as the native loop's real batching: how many commands share an
// SQ doorbell (iodepth_batch_submit), how many completions a reap waits for and takes
// (iodepth_batch_complete_min / _max), and the low-water mark a full queue drains to before
// it is refilled (iodepth_low). Out-of-range values are clamped as fio clamps them (plan.ts).
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseBytes, parseInteger, parseSize } from './units';
import { BenchOptionError } from './errors';

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}

function count(option: string, value: string | undefined): number {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required (a number of IOs)');
  return parseInteger(option, value, 0, 65535);
}

/** The option table's rows for batching and offsets (spread into OPTIONS). */
export const BATCH_OPTIONS: PacingOption[] = [
  {
    // fio's own name is iodepth_batch (its JSON reports it so, whichever spelling was written).
    name: 'iodepth_batch', aliases: ['iodepth_batch_submit'], scope: 'job',
    help: 'commands per SQ doorbell (0 or more than iodepth = iodepth; phyr\'s default: all a loop pass submits, one doorbell)',
    applyJob: (j: JobSpec, v) => { j.batchSubmit = count('iodepth_batch_submit', v); },
  },
  {
    name: 'iodepth_batch_complete_min', aliases: ['iodepth_batch_complete'], scope: 'job',
    help: 'after a submission, reap at least this many completions (or all in flight) before submitting again (default 1)',
    applyJob: (j: JobSpec, v) => { j.batchCompleteMin = count('iodepth_batch_complete_min', v); },
  },
  {
    name: 'iodepth_batch_complete_max', scope: 'job',
    help: 'completions taken per reap at most (phyr\'s default: all there are, up to 256)',
    applyJob: (j: JobSpec, v) => { j.batchCompleteMax = count('iodepth_batch_complete_max', v); },
  },
  {
    name: 'offset_increment', scope: 'job',
    help: 'clone N of numjobs starts at offset + N x this (bytes, or N% of the namespace)',
    applyJob: (j: JobSpec, v) => { j.offsetIncrement = parseSize('offset_increment', need('offset_increment', v), true, j.kbBase); },
  },
  {
    name: 'offset_align', scope: 'job',
    help: 'round a percentage offset (or offset_increment) up to this (default: the smallest block size); an absolute offset is used as given, as in fio',
    applyJob: (j: JobSpec, v) => {
      const val = need('offset_align', v);
      const n = parseBytes('offset_align', val, j.kbBase);
      if (n <= 0) throw new BenchOptionError('offset_align', val, 'must be positive');
      j.offsetAlign = n;
    },
  },
  {
    name: 'blockalign', aliases: ['ba'], scope: 'job',
    help: 'random offsets are multiples of this (default: the smallest block size); one value, or READ,WRITE equal',
    applyJob: (j: JobSpec, v) => {
      const val = need('blockalign', v);
      const parts = val.split(',').filter((x, i) => i < 2 || x !== '');
      const sizes = [...new Set(parts.filter((x) => x !== '').map((x) => parseBytes('blockalign', x, j.kbBase)))];
      if (sizes.length !== 1) throw new BenchOptionError('blockalign', val, 'phyr draws reads and writes from one offset sequence: give one alignment');
      if (sizes[0] <= 0) throw new BenchOptionError('blockalign', val, 'must be positive');
      j.blockAlign = sizes[0];
    },
  },
  {
    name: 'percentage_random', scope: 'job',
    help: 'in a random job, the percentage of IOs that are random; the others continue sequentially from the previous IO (default 100)',
    applyJob: (j: JobSpec, v) => {
      const val = need('percentage_random', v);
      const parts = [...new Set(val.split(',').filter((x) => x !== ''))];
      if (parts.length !== 1) throw new BenchOptionError('percentage_random', val, 'phyr draws reads and writes alike: give one percentage');
      j.percentageRandom = parseInteger('percentage_random', parts[0], 0, 100);
    },
  },
  {
    name: 'iodepth_low', scope: 'job',
    help: 'once iodepth IOs are in flight, refill only when at most this many are (default iodepth: keep the queue full)',
    applyJob: (j: JobSpec, v) => { j.iodepthLow = count('iodepth_low', v); },
  },
];
