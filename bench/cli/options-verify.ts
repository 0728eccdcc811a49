// fio's verify shaping options: verify_interval (one header per N bytes), verify_offset
// (where the header sits in its interval), verify_backlog / verify_backlog_batch (read
// written blocks back while writing) and verify_only (check what an earlier run wrote, no
// writes). The option rows parse them as fio does; planVerify checks them against the
// namespace and the job and gives the engine its parameters (bench/native/job_params.h).
import * as fs from 'fs';
import * as path from 'path';
import { BenchOptionError } from './errors';
import { modeTraits, type BlockSizeSpec, type JobSpec } from './job';
import type { NativeJobParams, NativeJobResult } from './native';
import type { BenchOption } from './option-types';
import { formatBytesFio, parseBool, parseBytes } from './units';
import { MAX_VERIFY_BACKLOG, VERIFY_HEADER_BYTES } from './verify-shaping';
import { encodeVerifyState, verifyStateFileName } from './verify-state';

function bytesOf(option: string, v: string | undefined, j: JobSpec): number {
  if (v === undefined || v === '') throw new BenchOptionError(option, '', 'a value is required');
  return parseBytes(option, v, j.kbBase);
}

function count(option: string, v: string | undefined, j: JobSpec): number {
  const n = bytesOf(option, v, j);
  if (n > MAX_VERIFY_BACKLOG) throw new BenchOptionError(option, v ?? '', `at most ${MAX_VERIFY_BACKLOG} (phyr keeps the backlog's log in memory allocated before the first IO)`);
  return n;
}

/** The option table's rows for the verify shaping options (spread into OPTIONS). */
export const VERIFY_OPTIONS: BenchOption[] = [
  {
    name: 'verify_interval', scope: 'job', help: 'one verify header per N bytes of a write (a multiple of the LBA size dividing every block size; default: one per logical block)',
    applyJob: (j, v) => { j.verifyShaping.interval = bytesOf('verify_interval', v, j); },
  },
  {
    name: 'verify_offset', scope: 'job', help: 'the header is swapped with the data N bytes into its interval before the write (and back before the check), as fio does; 0 or 48 .. interval - 48',
    applyJob: (j, v) => { j.verifyShaping.offset = bytesOf('verify_offset', v, j); },
  },
  {
    name: 'verify_backlog', scope: 'job', help: 'while writing, read back the oldest written blocks whenever N writes are unverified (fio\'s order); the read-back after the write phase reads the rest; 0 = none',
    applyJob: (j, v) => { j.verifyShaping.backlog = count('verify_backlog', v, j); },
  },
  {
    name: 'verify_backlog_batch', scope: 'job', help: 'read-backs per verify_backlog batch (default: verify_backlog)',
    applyJob: (j, v) => { j.verifyShaping.backlogBatch = count('verify_backlog_batch', v, j); },
  },
  {
    name: 'verify_only', scope: 'job', flag: true, help: 'issue no writes: draw the write phase\'s IOs (counted as written, untimed, as fio\'s dry run), then read back and check what an earlier run with the same options wrote',
    applyJob: (j, v) => { j.verifyShaping.only = parseBool('verify_only', v); },
  },
  {
    name: 'verify_dump', scope: 'job', flag: true, help: 'on a checksum or pattern failure, write the verify interval as read and as this job writes it to NAME.OFFSET.received / .expected in the working directory (fio\'s names: NAME is the filename= base, else nsN; OFFSET in bytes); at most 16 per job',
    applyJob: (j, v) => { j.verifyShaping.dump = parseBool('verify_dump', v); },
  },
  {
    name: 'verify_state_save', scope: 'job', flag: true, help: 'a job with verify writes fio 3.33\'s verify state file local-NAME-INDEX-verify.state (version 3: writes issued, the last iodepth completed write offsets) to the working directory when it ends, as fio does (default 1); 0: none',
    applyJob: (j, v) => { j.verifyShaping.stateSave = parseBool('verify_state_save', v); },
  },
];

/** The engine's verify shaping parameters (absent: off). */
export type NativeVerifyShaping = Pick<NativeJobParams, 'verifyInterval' | 'verifyOffset' | 'verifyBacklog' | 'verifyBacklogBatch' | 'verifyOnly' | 'verifyDump'>;

function sizesOf(b: BlockSizeSpec): number[] {
  return b.split.length ? b.split.map((e) => e.bytes) : [b.min, b.max];
}

/**
 * Checks a job's verify shaping against the namespace's LBA size and the job, and returns
 * the engine's parameters. fio takes a verify_interval that does not divide the block size
 * and verifies partial intervals; phyr's headers name whole logical blocks, so it refuses.
 */
export function planVerify(j: JobSpec, lbaSize: number, fail: (m: string) => never): NativeVerifyShaping {
  const v = j.verifyShaping;
  const t = modeTraits(j.rw);
  // Without verify, fio ignores them; so does phyr (there is nothing to place or read back).
  if (j.verify === 'none') return {};
  const writeOnly = t.writes && !t.reads && !t.trims;
  const out: NativeVerifyShaping = {};
  const unit = v.interval || lbaSize;
  if (v.interval) {
    if (v.interval % lbaSize !== 0) fail(`verify_interval=${formatBytesFio(v.interval)} is not a multiple of the namespace's LBA size (${lbaSize} bytes): phyr's verify headers name whole logical blocks; use a multiple such as ${formatBytesFio(Math.ceil(v.interval / lbaSize) * lbaSize)}`);
    const used = [...(t.reads || t.trims ? sizesOf(j.bs.read) : []), ...(t.writes ? sizesOf(j.bs.write) : [])];
    const bad = used.find((bs) => bs % v.interval !== 0);
    if (bad !== undefined) fail(`verify_interval=${formatBytesFio(v.interval)} does not divide the block size ${formatBytesFio(bad)}: each IO must hold whole verify intervals; give a divisor of every block size (e.g. ${formatBytesFio(lbaSize)})`);
    if (j.seqSkip % v.interval !== 0 || j.blockAlign % v.interval !== 0) fail(`verify_interval=${formatBytesFio(v.interval)} must divide rw=MODE:N's skip and blockalign, so that every IO starts on an interval`);
    out.verifyInterval = v.interval;
  }
  if (v.offset) {
    if (j.verify === 'pattern' || j.verify === 'null') fail(`verify_offset moves the verify header, and verify=${j.verify} writes none; drop verify_offset`);
    if (v.offset < VERIFY_HEADER_BYTES || v.offset + VERIFY_HEADER_BYTES > unit) {
      fail(`verify_offset=${v.offset} must leave room for the ${VERIFY_HEADER_BYTES}-byte header both at the interval's start and at the offset: ${VERIFY_HEADER_BYTES} .. ${unit - VERIFY_HEADER_BYTES} for a ${formatBytesFio(unit)} interval`);
    }
    out.verifyOffset = v.offset;
  }
  if (v.only && v.backlog) {
    fail('verify_only with verify_backlog is not supported: fio\'s dry run takes the backlog\'s read-backs without reading them, so only the last partial backlog would be checked; drop verify_backlog');
  }
  // fio reads back during the write phase only when it verifies at all (do_verify=1).
  if (v.backlog && writeOnly && j.doVerify) {
    out.verifyBacklog = v.backlog;
    if (v.backlogBatch) out.verifyBacklogBatch = v.backlogBatch;
  }
  if (v.only && writeOnly) out.verifyOnly = true;
  if (v.dump) out.verifyDump = true;
  return out;
}

/** The base of verify_dump's file names: fio's basename of the filename, here the namespace. */
export function verifyDumpBase(j: JobSpec, nsid: number): string {
  return j.kernelFilename !== undefined ? path.basename(j.kernelFilename) : `ns${nsid}`;
}

/**
 * verify_dump: writes each dumped verify interval as received and as expected, named as
 * fio 3.33's dump_buf names them (verify.c): `<base>.<byte offset>.received` and
 * `.expected` in the working directory (fio's --aux-path, which moves them, is not
 * offered). Returns fio's two notice lines per failure, for the job's output.
 */
export function writeVerifyDumps(j: JobSpec, nsid: number, lbaSize: number, failures: NativeJobResult['verifyFailures'], dir = process.cwd()): string[] {
  const lines: string[] = [];
  for (const f of failures) {
    if (!f.received || !f.expected) continue;
    const stem = `${verifyDumpBase(j, nsid)}.${f.lba * lbaSize}`;
    for (const [kind, bytes] of [['received', f.received], ['expected', f.expected]] as const) {
      const name = `${stem}.${kind}`;
      try {
        fs.writeFileSync(path.join(dir, name), bytes);
        lines.push(`       ${kind} data dumped as ${name}`);
      } catch (e) {
        lines.push(`phyr bench: job '${j.name}': verify_dump could not write ${name}: ${(e as Error).message}`);
      }
    }
  }
  return lines;
}

/**
 * verify_state_save: fio 3.33 writes local-NAME-INDEX-verify.state to the working directory
 * at the end of every job with verify set (measured: also with do_verify=0 and verify_only,
 * never without verify or with verify_state_save=0). INDEX is the job thread's number in
 * the run from 0; numberio the writes issued; the completions the last iodepth writes.
 * Returns a notice when the file could not be written.
 */
export function writeVerifyState(j: JobSpec, index: number, iodepth: number, n: NativeJobResult, dir = process.cwd()): string | undefined {
  if (j.verify === 'none' || !j.verifyShaping.stateSave) return undefined;
  const name = verifyStateFileName(j.name, index);
  const bytes = encodeVerifyState({ name: j.name, index, depth: iodepth, nofiles: 1, numberio: n.write.ios, comps: (n.lastWrites ?? []).map((offset) => ({ fileno: 0, offset })) });
  try {
    fs.writeFileSync(path.join(dir, name), bytes);
    return undefined;
  } catch (e) {
    return `phyr bench: job '${j.name}': verify_state_save could not write ${name}: ${(e as Error).message}`;
  }
}
