// fio's verify state file (verify_state_save / verify_state_load), version 3 as fio 3.33
// writes it (verify-state.h, verify.c): a 24-byte header — version, the size of what
// follows, fio's CRC-32C of what follows, each a little-endian u64 — then one thread_io_list:
//   0   no_comps  u64   completions listed below
//   8   depth     u32   the job's iodepth (the list's capacity per file)
//   12  nofiles   u32   files of the job (phyr: 1, the namespace)
//   16  numberio  u64   writes the job issued
//   24  index     u64   the job's number, from 0
//   32  rand      56 bytes: use64 (u64), then the generator's state (phyr: zeros)
//   88  name      64 bytes, the job's name, NUL-terminated
//   152 comps     depth x nofiles entries of (fileno u64, offset u64): the last writes
//                 that completed, the latest first (fio-verify-state prints them oldest first)
// The file is named local-NAME-INDEX-verify.state, '/' in the name turned into '.'.
import { crc32c } from '../../fabrics/crc32c';
import { BenchConfigError } from './errors';

/** fio's VSTATE_HDR_VERSION. */
export const VERIFY_STATE_VERSION = 3;
const HDR_BYTES = 24;
const LIST_BYTES = 152;
const COMP_BYTES = 16;
const NAME_BYTES = 64;

/** fio's fio_crc32c: CRC-32C with the initial inversion but not the final one (measured:
 *  fio 3.33's files carry the bitwise complement of the standard CRC-32C). */
function fioCrc32c(b: Uint8Array): number {
  return ~crc32c(b) >>> 0;
}

/** One job's verify state. */
export interface VerifyState {
  name: string;
  /** The job's number among all jobs, from 0. */
  index: number;
  depth: number;
  nofiles: number;
  /** Writes the job issued. */
  numberio: number;
  /** The last completed writes, the latest first (at most depth x nofiles). */
  comps: Array<{ fileno: number; offset: number }>;
}

/** fio's verify_state_gen_name with the prefix "local". */
export function verifyStateFileName(name: string, index: number): string {
  return `local-${name.replace(/\//g, '.')}-${index}-verify.state`;
}

/** The file's bytes. */
export function encodeVerifyState(s: VerifyState): Buffer {
  const slots = s.depth * s.nofiles;
  if (!Number.isInteger(slots) || slots < 1) throw new BenchConfigError(`verify state: depth ${s.depth} x files ${s.nofiles} must be at least 1`);
  if (s.comps.length > slots) throw new BenchConfigError(`verify state: ${s.comps.length} completions do not fit ${slots} slots`);
  const name = Buffer.from(s.name, 'utf8');
  const list = Buffer.alloc(LIST_BYTES + slots * COMP_BYTES);
  list.writeBigUInt64LE(BigInt(s.comps.length), 0);
  list.writeUInt32LE(s.depth, 8);
  list.writeUInt32LE(s.nofiles, 12);
  list.writeBigUInt64LE(BigInt(s.numberio), 16);
  list.writeBigUInt64LE(BigInt(s.index), 24);
  // rand (32..88) stays zero: phyr's generators are not fio's, and fio reads it only back
  // into a state it then reseeds from the job's options.
  name.copy(list, 88, 0, Math.min(name.length, NAME_BYTES - 1)); // fio's snprintf truncates to 63
  s.comps.forEach((c, i) => {
    list.writeBigUInt64LE(BigInt(c.fileno), LIST_BYTES + i * COMP_BYTES);
    list.writeBigUInt64LE(BigInt(c.offset), LIST_BYTES + i * COMP_BYTES + 8);
  });
  const hdr = Buffer.alloc(HDR_BYTES);
  hdr.writeBigUInt64LE(BigInt(VERIFY_STATE_VERSION), 0);
  hdr.writeBigUInt64LE(BigInt(list.length), 8);
  hdr.writeBigUInt64LE(BigInt(fioCrc32c(list)), 16);
  return Buffer.concat([hdr, list]);
}

/** Reads a state file's bytes as fio's verify_load_state does; throws saying what is wrong. */
export function decodeVerifyState(buf: Uint8Array, what = 'verify state file'): VerifyState {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): never => {
    throw new BenchConfigError(`${what}: ${why}`, 'PHYR_BENCH_BAD_VERIFY_STATE');
  };
  if (b.length < HDR_BYTES + LIST_BYTES) bad(`${b.length} bytes, shorter than a header and one job's state (${HDR_BYTES + LIST_BYTES})`);
  const version = Number(b.readBigUInt64LE(0));
  if (version !== VERIFY_STATE_VERSION) bad(`version ${version}; fio 3.33 and phyr read version ${VERIFY_STATE_VERSION}`);
  const size = Number(b.readBigUInt64LE(8));
  if (size !== b.length - HDR_BYTES) bad(`the header says ${size} bytes follow, the file has ${b.length - HDR_BYTES}`);
  const list = b.subarray(HDR_BYTES);
  const crc = Number(b.readBigUInt64LE(16));
  const got = fioCrc32c(list);
  if (crc !== got) bad(`CRC-32C mismatch: the header says 0x${crc.toString(16)}, the data gives 0x${got.toString(16)}`);
  const noComps = Number(list.readBigUInt64LE(0));
  const depth = list.readUInt32LE(8);
  const nofiles = list.readUInt32LE(12);
  if (LIST_BYTES + depth * nofiles * COMP_BYTES !== list.length) bad(`depth ${depth} x files ${nofiles} does not match the ${list.length}-byte state`);
  if (noComps > depth * nofiles) bad(`${noComps} completions, more than the ${depth * nofiles} slots`);
  const nameEnd = list.indexOf(0, 88);
  const name = list.subarray(88, nameEnd < 0 || nameEnd > 88 + NAME_BYTES ? 88 + NAME_BYTES : nameEnd).toString('utf8');
  const comps: VerifyState['comps'] = [];
  for (let i = 0; i < noComps; i++) {
    comps.push({ fileno: Number(list.readBigUInt64LE(LIST_BYTES + i * COMP_BYTES)), offset: Number(list.readBigUInt64LE(LIST_BYTES + i * COMP_BYTES + 8)) });
  }
  return { name, index: Number(list.readBigUInt64LE(24)), depth, nofiles, numberio: Number(list.readBigUInt64LE(16)), comps };
}
