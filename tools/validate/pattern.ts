// Self-describing data blocks for the integrity suite. Every logical block written carries
// a header naming where and when it was written, a payload derived from those, and a CRC,
// so a read-back mismatch says what went wrong: a misdirected write (wrong LBA in the
// header), a lost or stale write (older sequence), a dropped DMA (zeros), or corruption
// (CRC mismatch, with the first differing byte).
//
// Layout of one block (all little-endian):
//   0..7    magic 'PHYRVAL1'
//   8..15   LBA the block was written to (u64)
//   16..19  sequence number of the write (u32)
//   20..23  seed of the run (u32)
//   24..27  block size in bytes (u32)
//   28..31  zero
//   32..n-5 payload: xorshift32 stream seeded from (seed, LBA, sequence)
//   n-4..   CRC-32 (IEEE 802.3) of bytes 0..n-5

/** Header size in bytes. */
export const HEADER_SIZE = 32;
const MAGIC = [0x50, 0x48, 0x59, 0x52, 0x56, 0x41, 0x4c, 0x31]; // 'PHYRVAL1'

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, reflected, as zlib computes it) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** What identifies one written block. */
export interface BlockStamp {
  lba: number;
  sequence: number;
  seed: number;
}

function payloadSeed(s: BlockStamp): number {
  // Mix the three so neighbouring blocks and successive writes get unrelated payloads;
  // xorshift32 needs a non-zero state.
  let x = (Math.imul(s.seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(s.lba % 0x100000000, 0xc2b2ae35) ^ Math.imul(Math.floor(s.lba / 0x100000000) + s.sequence, 0x27d4eb2f)) >>> 0;
  x ^= x >>> 16;
  return x || 0x6d2b79f5;
}

/** Writes one self-describing block of `size` bytes at `bytes[offset]`. */
export function fillBlock(bytes: Uint8Array, offset: number, size: number, stamp: BlockStamp): void {
  if (size < HEADER_SIZE + 8 || size % 4) throw new RangeError(`block size ${size} too small or not a multiple of 4 for a pattern block`);
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
  for (let i = 0; i < 8; i++) v.setUint8(i, MAGIC[i]);
  v.setUint32(8, stamp.lba % 0x100000000, true);
  v.setUint32(12, Math.floor(stamp.lba / 0x100000000), true);
  v.setUint32(16, stamp.sequence >>> 0, true);
  v.setUint32(20, stamp.seed >>> 0, true);
  v.setUint32(24, size, true);
  v.setUint32(28, 0, true);
  let x = payloadSeed(stamp);
  for (let i = HEADER_SIZE; i < size - 4; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v.setUint32(i, x >>> 0, true);
  }
  v.setUint32(size - 4, crc32(bytes, offset, offset + size - 4), true);
}

/** Fills `count` consecutive blocks starting at `lba`, all with one sequence number. */
export function fillBlocks(bytes: Uint8Array, offset: number, blockSize: number, lba: number, count: number, sequence: number, seed: number): void {
  for (let i = 0; i < count; i++) fillBlock(bytes, offset + i * blockSize, blockSize, { lba: lba + i, sequence, seed });
}

/** Why a block read back is not the block expected. */
export interface BlockMismatch {
  lba: number;
  /** What kind of fault the evidence points to. */
  kind: 'zeros' | 'not-a-pattern' | 'misdirected' | 'stale' | 'foreign-run' | 'corrupt';
  /** One sentence with the evidence. */
  message: string;
}

/** Checks one block; returns undefined when it is exactly what `expected` wrote. */
export function verifyBlock(bytes: Uint8Array, offset: number, size: number, expected: BlockStamp): BlockMismatch | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
  const at = `LBA ${expected.lba}`;
  let allZero = true;
  for (let i = 0; i < size && allZero; i += 4) allZero = v.getUint32(i, true) === 0;
  if (allZero) return { lba: expected.lba, kind: 'zeros', message: `${at}: read back all zeros (write lost, never performed, or the data DMA was dropped)` };
  const magicOk = MAGIC.every((b, i) => v.getUint8(i) === b);
  if (!magicOk) {
    return { lba: expected.lba, kind: 'not-a-pattern', message: `${at}: no pattern header (first bytes ${hex(bytes, offset, 16)})` };
  }
  const lba = v.getUint32(8, true) + v.getUint32(12, true) * 0x100000000;
  const sequence = v.getUint32(16, true);
  const seed = v.getUint32(20, true);
  if (seed !== expected.seed >>> 0) return { lba: expected.lba, kind: 'foreign-run', message: `${at}: block from another run (seed ${seed}, expected ${expected.seed >>> 0})` };
  if (lba !== expected.lba) return { lba: expected.lba, kind: 'misdirected', message: `${at}: holds the block written to LBA ${lba} (misdirected write or read)` };
  if (sequence !== expected.sequence >>> 0) {
    return { lba: expected.lba, kind: 'stale', message: `${at}: holds write #${sequence}, expected write #${expected.sequence} (${sequence < expected.sequence ? 'a later write was lost' : 'an unexpected later write'})` };
  }
  const stored = v.getUint32(size - 4, true);
  const actual = crc32(bytes, offset, offset + size - 4);
  const want = new Uint8Array(size);
  fillBlock(want, 0, size, expected);
  let first = -1;
  for (let i = 0; i < size; i++) {
    if (bytes[offset + i] !== want[i]) {
      first = i;
      break;
    }
  }
  if (first >= 0 || stored !== actual) {
    return {
      lba: expected.lba,
      kind: 'corrupt',
      message: `${at}: corrupted: CRC ${stored !== actual ? `mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})` : 'matches but bytes differ'}; first differing byte at offset ${first} (expected 0x${want[first]?.toString(16).padStart(2, '0')}, read 0x${bytes[offset + first]?.toString(16).padStart(2, '0')})`,
    };
  }
  return undefined;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function hex(bytes: Uint8Array, offset: number, n: number): string {
  return [...bytes.subarray(offset, offset + n)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A small seeded PRNG (mulberry32) so a run's random LBAs can be reproduced from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
