// `null[:key=value,...]`: the benchmark's device-less target. There is no controller: the
// job engine drives the driver's real queue pair over an in-thread loopback that answers
// each command at its doorbell and moves no data (fio's --ioengine=null). Its "namespace"
// only bounds the offsets the jobs draw, so it has a size and an LBA size and nothing else.
import { BenchConfigError } from './errors';
import { sizeSuffixMultiplier } from './units';

/** The null target's namespace. */
export interface NullTargetOptions {
  /** Namespace capacity in bytes (default 1 TiB). */
  bytes: number;
  /** LBA size in bytes: 512 (lbads=9, the default) or 4096 (lbads=12). */
  lbaSize: number;
}

/** The default namespace: 1 TiB of 512-byte blocks, so any --size up to that fits. */
export const NULL_TARGET_DEFAULTS: Readonly<NullTargetOptions> = { bytes: 2 ** 40, lbaSize: 512 };

/** The largest namespace accepted: 2^52 bytes, so every byte offset is an exact JS number. */
export const NULL_TARGET_MAX_BYTES = 2 ** 52;

/** Bytes per command before the driver splits it: 2^7 x 4 KiB, the embedded controller's default MDTS. */
export const NULL_TARGET_MAX_TRANSFER = 2 ** 7 * 4096;

/** The largest queue the loopback takes (entries per ring; CAP.MQES's reach). */
export const NULL_TARGET_MAX_QUEUE = 65536;

const KEYS = 'size=SIZE (default 1T), lbads=9|12 (512 B or 4 KiB blocks, default 9)';

function bad(target: string, why: string): BenchConfigError {
  const shown = target.length > 80 ? `${target.slice(0, 80)}...` : target;
  return new BenchConfigError(`target '${shown}': ${why}; the null target takes ${KEYS}`, 'PHYR_BENCH_BAD_TARGET');
}

/** Parses `null` or `null:size=...,lbads=...`; throws a BenchConfigError naming the bad key. */
export function parseNullTarget(target: string): NullTargetOptions {
  const o: NullTargetOptions = { ...NULL_TARGET_DEFAULTS };
  if (target === 'null') return o;
  if (!target.startsWith('null:')) throw bad(target, 'not a null target');
  const seen = new Set<string>();
  for (const part of target.slice('null:'.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(target, `'${part}' is not key=value`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (seen.has(key)) throw bad(target, `${key} is given twice`);
    seen.add(key);
    if (key === 'size') o.bytes = parseNullSize(target, value);
    else if (key === 'lbads') {
      if (value !== '9' && value !== '12') throw bad(target, `lbads=${value}: expected 9 (512 B) or 12 (4 KiB)`);
      o.lbaSize = 2 ** Number(value);
    } else throw bad(target, `unknown key '${key}'`);
  }
  if (o.bytes < o.lbaSize || o.bytes % o.lbaSize !== 0) throw bad(target, `size=${o.bytes}: must be a non-zero multiple of the LBA size (${o.lbaSize} bytes)`);
  return o;
}

// A size as fio writes one (k, m, g, t, p in powers of 1024; KiB-style forms as fio reads them).
function parseNullSize(target: string, text: string): number {
  const m = /^(0[xX][0-9a-fA-F]+|\d+)([A-Za-z]*)$/.exec(text);
  const mult = m ? sizeSuffixMultiplier(m[2]) : undefined;
  if (!m || mult === undefined) throw bad(target, `size=${text}: expected a whole number of bytes with an optional suffix, e.g. 1g, 1t`);
  const bytes = (m[1].toLowerCase().startsWith('0x') ? parseInt(m[1], 16) : Number(m[1])) * mult;
  if (!Number.isSafeInteger(bytes) || bytes > NULL_TARGET_MAX_BYTES) throw bad(target, `size=${text}: at most ${NULL_TARGET_MAX_BYTES} bytes (4 PiB)`);
  return bytes;
}

/** What the report says the target is: plainly no device. */
export function describeNullTarget(o: NullTargetOptions): string {
  return `no device: an in-thread loopback controller answers each command at its doorbell, moves no data and stores nothing ` +
    `(fio's null engine's twin; the driver's real queue pair; a ${o.bytes}-byte namespace of ${o.lbaSize}-byte blocks that only bounds the offsets)`;
}
