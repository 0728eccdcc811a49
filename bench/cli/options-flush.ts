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
  // fio's readfua / writefua (options of its io_uring, libaio-on-sg and sg engines): the
  // Force Unit Access bit of the NVMe Read / Write command, CDW12 bit 30 (NVMe 1.4 §6.9,
  // §6.15). Reads include the verify read-back, as fio's reads do.
  {
    name: 'readfua', scope: 'job', flag: true, help: 'reads carry Force Unit Access (Read CDW12 bit 30)',
    applyJob: (j: JobSpec, v) => { j.readFua = parseBool('readfua', v); },
  },
  {
    name: 'writefua', scope: 'job', flag: true, help: 'writes carry Force Unit Access (Write CDW12 bit 30): each write is on non-volatile media when it completes',
    applyJob: (j: JobSpec, v) => { j.writeFua = parseBool('writefua', v); },
  },
];
