// Self-describing blocks for the durability and fault tests: every block written carries
// a header naming its LBA and a sequence number, a payload derived from both, and a
// checksum over everything, so a read-back tells apart "this write", "an older or newer
// write", "never written" and "torn" (a mix of two writes inside one block).
//   bytes 0..3  magic 'PHYB'   4..11 LBA (u64 LE)   12..19 sequence (u64 LE)
//   20..23      FNV-1a 32 of bytes 0..19 and 24..end   24..end payload
// Plain JavaScript so that a child process running the built library can use it as is.
'use strict';

const MAGIC = 0x42594850; // 'PHYB' little-endian

/** A small deterministic generator (xorshift32); seeds select reproducible runs. */
class Rng {
  constructor(seed) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next() {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  /** An integer in [0, n). */
  below(n) {
    return n <= 1 ? 0 : this.next() % n;
  }
  /** True with probability p. */
  chance(p) {
    return this.next() / 4294967296 < p;
  }
  pick(list) {
    return list[this.below(list.length)];
  }
}

function fnv(bytes, from, to, h) {
  for (let i = from; i < to; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function checksum(block) {
  return fnv(block, 24, block.length, fnv(block, 0, 20, 0x811c9dc5));
}

/** Fills one block (a Uint8Array of the LBA size) with the header of (lba, seq). */
function fillBlock(block, lba, seq) {
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  v.setUint32(0, MAGIC, true);
  v.setBigUint64(4, BigInt(lba), true);
  v.setBigUint64(12, BigInt(seq), true);
  let x = (lba * 2654435761 + seq * 40503 + 1) >>> 0 || 1;
  for (let i = 24; i < block.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    block[i] = x & 0xff;
  }
  v.setUint32(20, checksum(block), true);
}

/**
 * Decodes one block: {state: 'empty'} (all zeros: never written), {state: 'torn'} (a
 * header whose checksum does not match, or bytes that are neither zeros nor a header), or
 * {state: 'ok', lba, seq}.
 */
function parseBlock(block) {
  const v = new DataView(block.buffer, block.byteOffset, block.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return block.every((b) => b === 0) ? { state: 'empty' } : { state: 'torn' };
  if (v.getUint32(20, true) !== checksum(block)) return { state: 'torn' };
  return { state: 'ok', lba: Number(v.getBigUint64(4, true)), seq: Number(v.getBigUint64(12, true)) };
}

module.exports = { Rng, fillBlock, parseBlock, MAGIC };
