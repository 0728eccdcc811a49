// fio's I/O replay options: read_iolog=FILE replays a fio iolog (version 2, which phyr's
// write_iolog writes, or version 3, which fio 3.33's writes) in order — offset, length and
// direction of each IO — onto the job's namespace, and replay_no_stall drops the log's
// timing (fio's default, 0, keeps it). The log is read and checked before any IO
// (iolog.ts parseIoLog, replayPlan); the native loop issues its IOs (engine.h).
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseBool, parseBytes, parseInteger } from './units';

const SKIPPABLE = ['read', 'write', 'trim', 'sync'] as const;

/** The option table's rows for replay (spread into OPTIONS). */
export const REPLAY_OPTIONS: PacingOption[] = [
  {
    name: 'read_iolog', scope: 'job', help: 'replay this fio iolog (version 2 or 3): its reads, writes and trims in order, at their offsets and lengths, and its syncs as Flushes, onto the job\'s namespace (the file it names is the namespace); with its timing unless replay_no_stall',
    applyJob: (j: JobSpec, v) => {
      if (v === undefined || v === '') throw new BenchOptionError('read_iolog', '', 'a value is required: the iolog file to replay');
      if (v.includes(':')) throw new BenchOptionError('read_iolog', v, 'one log per job: merging several logs (FILE1:FILE2, merge_blktrace_file) is not implemented');
      j.readIolog = v;
    },
  },
  {
    name: 'replay_no_stall', scope: 'job', flag: true, help: 'replay the log as fast as the queue takes its IOs, in order, ignoring its timestamps and waits (default 0: keep the log\'s timing, as fio)',
    applyJob: (j: JobSpec, v) => { j.replayNoStall = parseBool('replay_no_stall', v); },
  },
  {
    name: 'replay_time_scale', scope: 'job', help: 'replay the log\'s timing at this percentage of its rate (default 100; 50 = half the rate, the gaps twice as long; 200 = twice the rate)',
    applyJob: (j: JobSpec, v) => { j.replayTimeScale = parseInteger('replay_time_scale', need('replay_time_scale', v), 1, 0xffffffff); },
  },
  {
    name: 'replay_scale', scope: 'job', help: 'divide the log\'s offsets by this (default 1), as fio; pair with replay_align to keep them block-aligned',
    applyJob: (j: JobSpec, v) => {
      // fio reads both as integers with its unit suffixes (4k = 4096).
      const val = need('replay_scale', v);
      const n = parseBytes('replay_scale', val, j.kbBase);
      if (n < 1) throw new BenchOptionError('replay_scale', val, 'must be at least 1 (1 = the offsets as logged)');
      j.replayScale = n;
    },
  },
  {
    name: 'replay_align', scope: 'job', help: 'round the log\'s (scaled) offsets down to a multiple of this power of two, as fio',
    applyJob: (j: JobSpec, v) => {
      const val = need('replay_align', v);
      const n = parseBytes('replay_align', val, j.kbBase);
      if (n < 1 || n > 2 ** 30 || (n & (n - 1)) !== 0) throw new BenchOptionError('replay_align', val, 'must be a power of two up to 1g (e.g. 4096 or 4k), as fio');
      j.replayAlign = n;
    },
  },
  {
    name: 'replay_skip', scope: 'job', help: 'leave these IO types of the log out: a comma list of read, write, trim and sync (fio 3.33 applies it to blktrace replays only and issues every IO of an iolog; phyr applies it to the iolog)',
    applyJob: (j: JobSpec, v) => {
      const val = need('replay_skip', v);
      const kinds = val.split(',').map((x) => x.trim());
      const bad = kinds.find((k) => !(SKIPPABLE as readonly string[]).includes(k));
      if (bad !== undefined) throw new BenchOptionError('replay_skip', val, `unknown IO type '${bad}': give a comma list of read, write, trim and sync`);
      j.replaySkip = kinds as JobSpec['replaySkip'];
    },
  },
];

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}
