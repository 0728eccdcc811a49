// fio's sync options on a raw namespace: fsync=N and fdatasync=N issue an NVMe Flush after
// every N writes (NVMe has one Flush for data and metadata alike), end_fsync one Flush when
// the write phase ends. The native loop issues them (bench/native/engine.h).
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import type { PacingOption } from './options-pacing';
import { parseBool, parseInteger } from './units';

function every(option: string, value: string | undefined): number {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required (writes between two flushes)');
  return parseInteger(option, value, 0, 0xffffffff);
}

/** The option table's rows for flushes (spread into OPTIONS). */
export const FLUSH_OPTIONS: PacingOption[] = [
  {
    name: 'fsync', scope: 'job', help: 'a Flush after every N writes, once they complete (none after the last write, as in fio); 0 = none',
    applyJob: (j: JobSpec, v) => { j.fsync = every('fsync', v); },
  },
  {
    name: 'fdatasync', scope: 'job', help: 'as fsync: NVMe has one Flush for data and metadata',
    applyJob: (j: JobSpec, v) => { j.fdatasync = every('fdatasync', v); },
  },
  {
    name: 'end_fsync', scope: 'job', flag: true, help: 'a Flush when the write phase ends (not counted in the sync statistics, as in fio)',
    applyJob: (j: JobSpec, v) => { j.endFsync = parseBool('end_fsync', v); },
  },
];
