// fio's pacing and amount options: how fast a job issues (rate, rate_iops, rate_process,
// thinktime), when it starts (startdelay), when it fails for being slow (rate_min,
// rate_iops_min, ratecycle) and how much it does (loops, io_size, number_ios). Each keeps
// fio's meaning and default units; the native loop does the pacing (bench/native/engine.h).
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import { parseBool, parseBytes, parseInteger, parseSize, parseTimeNs } from './units';

/** A job option row, the shape of the option table's (options.ts spreads these into it). */
export interface PacingOption {
  name: string;
  aliases?: string[];
  scope: 'job';
  flag?: boolean;
  help: string;
  applyJob(job: JobSpec, value: string | undefined): void;
}

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}

/**
 * fio's per-direction rate syntax: `R` for every direction, `R,W`, `,W` (writes only) or
 * `R,` (reads only); an empty part leaves that direction unlimited. A third (trim) value
 * is refused: phyr issues no trims, so a trim rate would limit nothing.
 */
function rateValues(option: string, value: string, parse: (text: string) => number): [number, number] {
  const parts = value.split(',');
  if (parts.length > 3) throw new BenchOptionError(option, value, 'give READ[,WRITE]');
  if (parts.length === 3 && parts[2] !== '') throw new BenchOptionError(option, value, 'phyr issues no trims, so a trim rate limits nothing; give READ[,WRITE]');
  if (parts.length === 1) {
    const v = parse(parts[0]);
    return [v, v];
  }
  const [r, w] = parts;
  if (r === '' && w === '') throw new BenchOptionError(option, value, 'give a read or a write value');
  return [r === '' ? 0 : parse(r), w === '' ? 0 : parse(w)];
}

const rateBytes = (option: string, j: JobSpec) => (text: string): number => parseBytes(option, text, j.kbBase);
const rateCount = (option: string) => (text: string): number => parseInteger(option, text, 0, Number.MAX_SAFE_INTEGER);

/** The option table's rows for pacing and amounts (spread into OPTIONS). */
export const PACING_OPTIONS: PacingOption[] = [
  {
    name: 'rate', scope: 'job', help: 'cap the bandwidth in bytes/s, READ[,WRITE] (e.g. 10m, or ,5m for writes only); open loop: IOs go at their scheduled times whatever the completions do',
    applyJob: (j, v) => { j.rate = rateValues('rate', need('rate', v), rateBytes('rate', j)); },
  },
  {
    name: 'rate_iops', scope: 'job', help: 'cap the IOs per second, READ[,WRITE] (as fio: the rate in bytes is this times the smallest block size)',
    applyJob: (j, v) => { j.rateIops = rateValues('rate_iops', need('rate_iops', v), rateCount('rate_iops')); },
  },
  {
    name: 'rate_min', aliases: ['ratemin'], scope: 'job', help: 'fail the job (EIO) if its bandwidth over a ratecycle falls below this, READ[,WRITE] (checked after a 2 s settle)',
    applyJob: (j, v) => { j.rateMin = rateValues('rate_min', need('rate_min', v), rateBytes('rate_min', j)); },
  },
  {
    name: 'rate_iops_min', scope: 'job', help: 'fail the job (EIO) if its IOPS over a ratecycle fall below this, READ[,WRITE]',
    applyJob: (j, v) => { j.rateIopsMin = rateValues('rate_iops_min', need('rate_iops_min', v), rateCount('rate_iops_min')); },
  },
  {
    name: 'rate_cycle', aliases: ['ratecycle'], scope: 'job', help: 'window of the rate_min checks (milliseconds unless a unit is given; default 1000)',
    applyJob: (j, v) => {
      const val = need('ratecycle', v);
      const ns = parseTimeNs('ratecycle', val, 'ms');
      if (ns < 1e6) throw new BenchOptionError('ratecycle', val, 'must be at least 1 ms');
      j.rateCycleNs = ns;
    },
  },
  {
    name: 'rate_process', scope: 'job', help: 'linear (evenly spaced IOs, the default) or poisson (exponential gaps of the same mean: arrivals of independent users)',
    applyJob: (j, v) => {
      const val = need('rate_process', v);
      if (val !== 'linear' && val !== 'poisson') throw new BenchOptionError('rate_process', val, 'expected linear or poisson');
      j.rateProcess = val;
    },
  },
  {
    name: 'thinktime', scope: 'job', help: 'pause after every thinktime_blocks IOs, once they complete (microseconds unless a unit is given)',
    applyJob: (j, v) => { j.thinktimeNs = parseTimeNs('thinktime', need('thinktime', v), 'us'); },
  },
  {
    name: 'thinktime_spin', scope: 'job', help: 'how much of thinktime is spent spinning rather than sleeping (microseconds unless a unit is given)',
    applyJob: (j, v) => { j.thinktimeSpinNs = parseTimeNs('thinktime_spin', need('thinktime_spin', v), 'us'); },
  },
  {
    name: 'thinktime_blocks', scope: 'job', help: 'IOs between two thinktimes (default 1), counted as thinktime_blocks_type says',
    applyJob: (j, v) => {
      j.thinktimeBlocks = parseInteger('thinktime_blocks', need('thinktime_blocks', v), 1, 0xffffffff);
      j.thinktimeBlocksGiven = true;
    },
  },
  {
    // fio's default counts completions: at iodepth > 1 the IOs of a first full queue go
    // before any completes, then each think drains what is in flight.
    name: 'thinktime_blocks_type', scope: 'job', help: 'complete (the default): thinktime_blocks counts IOs completed; issue: IOs issued (the same at iodepth=1)',
    applyJob: (j, v) => {
      const val = need('thinktime_blocks_type', v);
      if (val !== 'complete' && val !== 'issue') throw new BenchOptionError('thinktime_blocks_type', val, 'expected complete or issue');
      j.thinktimeBlocksType = val;
    },
  },
  {
    name: 'thinktime_iotime', scope: 'job', help: 'think after this much IO time too (seconds unless a unit is given): IO for T, think, IO again; with thinktime_blocks, whichever comes first',
    applyJob: (j, v) => { j.thinktimeIotimeNs = parseTimeNs('thinktime_iotime', need('thinktime_iotime', v), 's'); },
  },
  {
    name: 'rate_ignore_thinktime', scope: 'job', flag: true, help: 'after a thinktime the rate schedule starts again from now instead of catching up on the IOs the think skipped',
    applyJob: (j, v) => { j.rateIgnoreThinktime = parseBool('rate_ignore_thinktime', v); },
  },
  {
    // Shaping rather than pacing, but of the same kind: when the next IO may go.
    name: 'serialize_overlap', scope: 'job', flag: true, help: 'an IO whose blocks overlap an IO in flight waits until that one completes (matters at iodepth > 1)',
    applyJob: (j, v) => { j.serializeOverlap = parseBool('serialize_overlap', v); },
  },
  {
    name: 'startdelay', scope: 'job', help: 'start the job this long after its group (seconds unless a unit is given); its runtime starts after the delay',
    applyJob: (j, v) => {
      const val = need('startdelay', v);
      if (/^[^-]+-[^-]+$/.test(val)) throw new BenchOptionError('startdelay', val, 'a random delay range is not supported; give one delay');
      j.startDelayNs = parseTimeNs('startdelay', val, 's');
    },
  },
  {
    name: 'loops', scope: 'job', help: 'repeat the job\'s workload this many times (default 1)',
    applyJob: (j, v) => { j.loops = parseInteger('loops', need('loops', v), 1, 0xffffffff); },
  },
  {
    name: 'io_size', aliases: ['io_limit'], scope: 'job', help: 'bytes to transfer (or N% of size); more than size wraps around the region, less stops early',
    applyJob: (j, v) => { j.ioSize = parseSize('io_size', need('io_size', v), true, j.kbBase); },
  },
  {
    name: 'number_ios', scope: 'job', help: 'stop a size-bound job after this many IOs (a time-based job starts over, so it limits nothing there, as in fio)',
    applyJob: (j, v) => { j.numberIos = parseInteger('number_ios', need('number_ios', v), 0, Number.MAX_SAFE_INTEGER); },
  },
];
