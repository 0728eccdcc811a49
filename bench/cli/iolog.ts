// fio's write_iolog for phyr jobs: the native loop stores each submitted IO (namespace
// byte offset, bytes, direction: read, write or trim) in an array sized before the run, and the
// log is written afterwards in fio's iolog version 2 format (no timestamps: version 3's
// per-IO times are not recorded), which fio's read_iolog replays. The file field names
// the namespace (`nsN`): there is no file.
import * as fs from 'fs';
import { readBoundedTextFile } from '../../lib/files';
import { BenchConfigError } from './errors';
import type { JobSpec } from './job';
import type { PlannedJob } from './plan';
import { formatBytesFio } from './units';

/** Doubles per IO of the native log array: offset, bytes, direction (0 read, 1 write, 2 trim). */
export const IOLOG_FIELDS = 3;

/** The most IOs one log holds (24 bytes each: 96 MiB). */
export const IOLOG_MAX_IOS = 4 << 20;

/** The log array for a planned job: room for every IO it can submit, main phase and read-back. */
export function ioLogFor(plan: PlannedJob, name: string, replay?: Float64Array): Float64Array {
  const sizes = [plan.readPercent > 0 ? plan.readBs.min : Infinity, plan.readPercent < 100 ? plan.writeBs.min : Infinity];
  // A replay issues the log's IOs (4 doubles each in its array), no more.
  const main = replay ? replay.length / 4 : Math.ceil(plan.ioBytes / Math.min(...sizes));
  // verify_backlog reads each write back once, during the write phase or after it.
  // The read-back's chunks hold whole verify intervals.
  const chunk = plan.verifyInterval ? Math.floor(plan.slotBytes / plan.verifyInterval) * plan.verifyInterval : plan.slotBytes;
  const readBack = plan.verifyBacklog ? main : plan.verify && plan.doVerify ? Math.ceil(plan.regionBytes / chunk) : 0;
  // trimwrite: a trim for every write, and ioBytes counts the writes.
  // The Flushes are logged too (fio logs its syncs): fsync=N's, and end_fsync's one.
  const flushes = plan.fsyncEvery ? Math.ceil(main / plan.fsyncEvery) : 0;
  const ios = main * (plan.trimWrite ? 2 : 1) + readBack + flushes + (plan.endFsync ? 1 : 0) + 1;
  if (ios > IOLOG_MAX_IOS) throw new BenchConfigError(`job '${name}': write_iolog: the job may submit ${ios} IOs; a log holds at most ${IOLOG_MAX_IOS}: give a smaller size`);
  return new Float64Array(IOLOG_FIELDS * ios);
}

/** Writes a job's log in fio's iolog version 2 format. */
export function writeIoLog(file: string, nsid: number, log: Float64Array, count: number): void {
  const cap = log.length / IOLOG_FIELDS;
  if (count > cap) throw new Error(`write_iolog ${file}: the job submitted ${count} IOs, more than the ${cap} its log was sized for`);
  const dev = `ns${nsid}`;
  const lines = ['fio version 2 iolog', `${dev} add`, `${dev} open`];
  const actions = ['read', 'write', 'trim', 'sync'];
  for (let i = 0; i < count; i++) {
    const e = IOLOG_FIELDS * i;
    lines.push(`${dev} ${actions[log[e + 2]]} ${log[e]} ${log[e + 1]}`);
  }
  lines.push(`${dev} close`, '');
  fs.writeFileSync(file, lines.join('\n'));
}

/** One IO of a replayed log. */
export interface ReplayIo {
  /** Namespace byte offset. */
  offset: number;
  bytes: number;
  /** sync: a Flush once the IOs before it complete (fio's sync and datasync lines; NVMe has one Flush). */
  dir: 'read' | 'write' | 'trim' | 'sync';
  /** When to issue it, ns after the job's start (0 = at once). */
  dueNs: number;
}

/** A parsed iolog: its version, the one file it names, and its IOs in order. */
export interface ReplayLog {
  version: 2 | 3;
  file: string;
  ios: ReplayIo[];
}

// fio's iolog actions of an IO line.
const IO_ACTIONS = new Set(['read', 'write', 'trim', 'sync', 'datasync']);

/**
 * Parses fio's iolog version 2 or 3 (fio's "I/O replay" formats): version 2 lines are
 * `FILE ACTION [OFFSET LENGTH]`, with `wait` lines (OFFSET microseconds after the previous
 * wait; below 100 discarded, as fio); version 3 lines start with a timestamp (microseconds
 * from the run's start, as fio 3.33 writes them) and have no `wait`. With `noStall`
 * (replay_no_stall) the times are dropped and the IOs go as fast as the queue takes them;
 * otherwise each is due when the log says, counted from the first IO.
 */
export function parseIoLog(text: string, where: string, noStall: boolean): ReplayLog {
  const lines = text.split('\n');
  const head = lines[0]?.trim();
  const version = head === 'fio version 2 iolog' ? 2 : head === 'fio version 3 iolog' ? 3 : undefined;
  if (version === undefined) throw new BenchConfigError(`${where}: not a fio iolog: the first line must be "fio version 2 iolog" or "fio version 3 iolog" (blktrace logs are not replayed)`);
  const ios: ReplayIo[] = [];
  let file: string | undefined;
  let waitUs = 0;
  let firstTs: number | undefined;
  lines.slice(1).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const bad = (why: string): never => {
      throw new BenchConfigError(`${where}: line ${i + 2} '${line}': ${why}`);
    };
    const f = line.split(/\s+/);
    let ts = 0;
    if (version === 3) {
      if (!/^\d+$/.test(f[0])) bad('a version 3 line starts with its timestamp (microseconds)');
      ts = Number(f.shift());
    }
    const [name, action, off, len] = f;
    if (action === undefined) bad('expected FILE ACTION [OFFSET LENGTH]');
    if (f.length === 2) {
      if (action !== 'add' && action !== 'open' && action !== 'close') bad(`unknown file action '${action}' (add, open or close)`);
      return;
    }
    if (f.length !== 4 || !/^\d+$/.test(off) || !/^\d+$/.test(len)) bad('expected FILE ACTION OFFSET LENGTH, both in bytes');
    if (action === 'wait') {
      if (version === 3) bad('version 3 logs have no wait action (their timestamps time the IOs)');
      if (Number(off) >= 100) waitUs += Number(off);
      return;
    }
    if (!IO_ACTIONS.has(action)) bad(`unknown action '${action}' (read, write, trim, sync, datasync${version === 2 ? ', wait' : ''})`);
    if (file === undefined) file = name;
    else if (name !== file) bad(`the log names a second file '${name}' (after '${file}'): phyr replays one log onto one namespace`);
    if (firstTs === undefined) firstTs = ts;
    const dueUs = noStall ? 0 : version === 3 ? ts - firstTs : waitUs;
    ios.push({ offset: Number(off), bytes: Number(len), dir: action === 'datasync' ? 'sync' : (action as ReplayIo['dir']), dueNs: Math.max(0, dueUs) * 1000 });
  });
  if (!ios.some((io) => io.dir !== 'sync')) throw new BenchConfigError(`${where}: the log has no read, write or trim to replay`);
  return { version, file: file!, ios };
}

/** The most bytes of one replayed IO (one buffer slot per IO in flight). */
export const REPLAY_MAX_IO_BYTES = 8 << 20;

/**
 * The native parameters of a job replaying `log` on namespace `ns` (fio's read_iolog): the
 * region is the whole namespace, so the log's byte offsets are the namespace's; each IO
 * must be whole logical blocks inside it. Returns the changed parameters and the replay
 * array (4 doubles per IO: offset, bytes, direction 0 read / 1 write / 2 trim, due ns).
 */
export function replayPlan(plan: PlannedJob, log: ReplayLog, ns: { lbaSize: number; blocks: number }, where: string): { plan: PlannedJob; replay: Float64Array } {
  const nsBytes = ns.lbaSize * ns.blocks;
  const replay = new Float64Array(4 * log.ios.length);
  let maxBytes = 0;
  let reads = false;
  let writes = false;
  let total = 0;
  log.ios.forEach((io, i) => {
    if (io.dir === 'sync') {
      replay.set([0, 0, 3, io.dueNs], 4 * i);
      return;
    }
    const what = `${where}: IO ${i + 1} (${io.dir} ${io.offset} ${io.bytes})`;
    if (io.bytes === 0 || io.bytes % ns.lbaSize !== 0 || io.offset % ns.lbaSize !== 0) throw new BenchConfigError(`${what}: offset and length must be whole ${ns.lbaSize}-byte logical blocks of the namespace, and the length not 0`);
    if (io.offset + io.bytes > nsBytes) throw new BenchConfigError(`${what}: reaches beyond the namespace (${formatBytesFio(nsBytes)})`);
    if (io.bytes > REPLAY_MAX_IO_BYTES) throw new BenchConfigError(`${what}: longer than the ${formatBytesFio(REPLAY_MAX_IO_BYTES)} phyr replays in one IO`);
    maxBytes = Math.max(maxBytes, io.bytes);
    reads ||= io.dir !== 'write';
    writes ||= io.dir === 'write';
    total += io.bytes;
    replay.set([io.offset, io.bytes, io.dir === 'read' ? 0 : io.dir === 'write' ? 1 : 2, io.dueNs], 4 * i);
  });
  const bs = { min: ns.lbaSize, max: maxBytes, split: [] as Array<[number, number]> };
  return {
    plan: {
      ...plan,
      regionLba: 0, regionBytes: nsBytes, random: false, readPercent: reads && writes ? 50 : reads ? 100 : 0,
      readBs: bs, writeBs: bs, ioBytes: total, slotBytes: Math.ceil(maxBytes / 4096) * 4096, trim: false, seqSkip: undefined,
    },
    replay,
  };
}

/** The most bytes of a log phyr reads (a 4 KiB-IO log of 256 MiB holds millions of IOs). */
export const REPLAY_MAX_FILE_BYTES = 256 << 20;

/** Reads and parses a job's read_iolog, refusing what the replay cannot combine with. */
export function readReplayLog(j: JobSpec): ReplayLog {
  const where = `job '${j.name}': read_iolog=${j.readIolog}`;
  if (j.timeBased) throw new BenchConfigError(`${where}: with time_based: a replay ends with its log; drop time_based`);
  if (j.verify !== 'none') throw new BenchConfigError(`${where}: with verify: the log's writes carry no verify headers phyr could check; drop verify`);
  // A regular file, opened without blocking and read up to the limit: /dev/zero would be
  // read for ever and a FIFO would block the open until a writer came.
  let text: string;
  try {
    text = readBoundedTextFile(j.readIolog!, 'read_iolog', 'PHYR_BENCH_BAD_IOLOG', REPLAY_MAX_FILE_BYTES);
  } catch (e) {
    throw new BenchConfigError(`${where}: cannot read the log: ${(e as Error).message}`);
  }
  return reshapeReplay(parseIoLog(text, where, j.replayNoStall), j, where);
}

/**
 * fio's replay_skip, replay_scale, replay_align and replay_time_scale on a parsed log: the
 * skipped types left out, each offset divided by the scale and then rounded down to the
 * alignment (fio's order: measured on fio 3.33, 1050624 / 3 aligned to 4096 is 348160),
 * and each IO's time multiplied by 100 / the time scale.
 */
export function reshapeReplay(log: ReplayLog, j: Pick<JobSpec, 'replaySkip' | 'replayScale' | 'replayAlign' | 'replayTimeScale'>, where: string): ReplayLog {
  if (!j.replaySkip.length && j.replayScale === 1 && !j.replayAlign && j.replayTimeScale === 100) return log;
  const ios = log.ios.filter((io) => !j.replaySkip.includes(io.dir)).map((io) => {
    let offset = Math.floor(io.offset / j.replayScale);
    if (j.replayAlign) offset -= offset % j.replayAlign;
    return { ...io, offset, dueNs: Math.round((io.dueNs * 100) / j.replayTimeScale) };
  });
  if (!ios.some((io) => io.dir !== 'sync')) throw new BenchConfigError(`${where}: replay_skip=${j.replaySkip.join(',')} leaves no read, write or trim to replay`);
  return { ...log, ios };
}
