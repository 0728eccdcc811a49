// fio's I/O replay options: read_iolog=FILE replays a fio iolog (version 2, which phyr's
// write_iolog writes, or version 3, which fio 3.33's writes) in order — offset, length and
// direction of each IO — onto the job's namespace, and replay_no_stall drops the log's
// timing (fio's default, 0, keeps it). The log is read and checked before any IO
// (iolog.ts parseIoLog, replayPlan); the native loop issues its IOs (engine.h).
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseBool } from './units';

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
];
