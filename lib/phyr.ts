// phyr arrays: lists of {addr, len, flags} ranges in a device's address space, stored in an
// ArrayBuffer that native code reads in place. The layout is spec/phyr.h's (16 bytes,
// little-endian), read here through its generated twin spec/phyr.ts:
//   bytes 0..7  addr  (u64, written as two u32 words: low then high)
//   bytes 8..11 len   (u32, 1 .. 2^32 - 1)
//   bytes 12..15 flags (u32, PhyrFlags bits)
// encodePhyrEntry is the one TypeScript encoder of an entry: the queue pair's arena uses
// it too. The hot paths (push, addrAt/lenAt/flagsAt) create no objects and use no BigInt.
import * as spec from '../spec/phyr';
import { PhyrError } from './errors';

/** Bytes per phyr entry. */
export const PHYR_ENTRY_SIZE = spec.PHYR_ENTRY.BYTES;
/** Byte offsets of the entry fields. */
export const PHYR_LAYOUT = { addrOffset: spec.PHYR_ENTRY.ADDR_OFFSET, lenOffset: spec.PHYR_ENTRY.LEN_OFFSET, flagsOffset: spec.PHYR_ENTRY.FLAGS_OFFSET } as const;
/** Largest length one entry can carry; longer ranges are split. */
export const PHYR_MAX_LEN = spec.PHYR_ENTRY.MAX_LEN;

// Word indices of one entry (u32 words), as plain constants for the hot paths.
const WORDS = spec.PHYR_ENTRY.WORDS;
const ADDR_LO = spec.PHYR_ENTRY.ADDR_LO_WORD;
const ADDR_HI = spec.PHYR_ENTRY.ADDR_HI_WORD;
const LEN = spec.PHYR_ENTRY.LEN_WORD;
const FLAGS = spec.PHYR_ENTRY.FLAGS_WORD;

/**
 * Writes entry `index` into `words` (a view of entries): the address as its low and high
 * u32 halves, the length and the flags. No checks and no allocation: callers validate.
 */
export function encodePhyrEntry(words: Uint32Array, index: number, addrLo: number, addrHi: number, len: number, flags: number): void {
  const w = index * WORDS;
  words[w + ADDR_LO] = addrLo;
  words[w + ADDR_HI] = addrHi;
  words[w + LEN] = len;
  words[w + FLAGS] = flags;
}

/**
 * Per-entry flags. Why each exists:
 * - PINNED_FOR_IO: memory pinned and IOMMU-mapped only for one IO (an arbitrary caller
 *   Buffer). It must be unmapped and unpinned when the IO completes; pool memory is mapped
 *   once and never carries it. (The seed thread's FOLL_PIN question.)
 * - PEER_TO_PEER: another device's BAR. The CPU must not use it as plain memory, and it must
 *   be mapped into the same IOMMU domain as the controller. (The seed's P2PDMA question.)
 * - CMB: the target controller's own Controller Memory Buffer. NVMe forbids mixing CMB and
 *   host memory in some places (status 12h).
 * - HUGEPAGE: backed by 2 MiB hugepages; informational, for splitting decisions and reports.
 */
// A constant, not `export { PhyrFlags }`: a re-export compiles to a getter, read per call.
export const PhyrFlags = spec.PhyrFlags;
/** Union of all defined flag bits. */
export const PHYR_KNOWN_FLAGS: number = Object.values(PhyrFlags).reduce((all: number, bit: number) => all | bit, 0);

const TWO_32 = 0x1_0000_0000;
const TWO_64 = 2n ** 64n;

/** Why an entry was rejected. */
export type PhyrEntryProblem = 'zero-length' | 'bad-address' | 'bad-length' | 'overflow' | 'unaligned' | 'unknown-flags';

/** A phyr entry was rejected; `index` is the position it would have had. */
export class PhyrEntryError extends PhyrError {
  constructor(
    readonly index: number,
    readonly problem: PhyrEntryProblem,
    detail: string,
  ) {
    super('PHYR_BAD_ENTRY', `phyr entry ${index}: ${detail}`);
  }
}

/** A PhyrArray call got an argument of the wrong kind (bad options, an index out of range). */
export class PhyrArgumentError extends PhyrError {
  constructor(message: string) {
    super('PHYR_ARRAY_BAD_ARGUMENT', message);
  }
}

/** Largest initial capacity in entries (256 MiB of entries); arrays still grow past it. */
export const PHYR_MAX_INITIAL_CAPACITY = 2 ** 24;

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}' (a string)`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return v === null ? 'null' : typeof v;
}

/** A plain-object view of one entry (for tests and reports, not hot paths). */
export interface PhyrEntry {
  addr: number;
  len: number;
  flags: number;
}

/** Options of a phyr array. */
export interface PhyrArrayOptions {
  /** Initial capacity in entries (grows by doubling). Default 8. */
  capacity?: number;
  /** Reject entries whose address or length is not a multiple of 4 (DMA-ready output). */
  dwordAligned?: boolean;
}

/** A growable array of phyr entries in memory that native code reads in place. */
export class PhyrArray {
  private words: Uint32Array;
  private count = 0;
  private readonly dwordAligned: boolean;

  constructor(options: PhyrArrayOptions = {}) {
    if (options === null || typeof options !== 'object') throw new PhyrArgumentError(`PhyrArray options must be an object, not ${describe(options)}`);
    const { capacity = 8, dwordAligned = false } = options;
    if (!Number.isSafeInteger(capacity) || capacity < 0 || capacity > PHYR_MAX_INITIAL_CAPACITY) {
      throw new PhyrArgumentError(
        `PhyrArray capacity ${describe(capacity)} is not an integer in 0..${PHYR_MAX_INITIAL_CAPACITY} (entries); the array grows on demand, so start small`,
      );
    }
    if (typeof dwordAligned !== 'boolean') throw new PhyrArgumentError(`PhyrArray option dwordAligned must be a boolean, not ${describe(dwordAligned)}`);
    this.words = new Uint32Array(Math.max(1, capacity) * WORDS);
    this.dwordAligned = dwordAligned;
  }

  /** Builds an array from plain entries (validated and coalesced like push). */
  static from(entries: Iterable<{ addr: number | bigint; len: number; flags?: number }>, options?: PhyrArrayOptions): PhyrArray {
    if (entries === null || typeof (entries as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function') {
      throw new PhyrArgumentError(`PhyrArray.from needs an iterable of {addr, len, flags} entries, not ${describe(entries)}`);
    }
    const a = new PhyrArray(options);
    for (const e of entries) {
      if (e === null || typeof e !== 'object') throw new PhyrEntryError(a.length, 'bad-address', `the entry is ${describe(e)}, not an {addr, len, flags} object`);
      a.push(e.addr, e.len, e.flags ?? 0);
    }
    return a;
  }

  /**
   * True when the backing memory was detached (its ArrayBuffer transferred): the entries
   * are gone and the array cannot be used for IO.
   */
  get detached(): boolean {
    return this.words.byteLength === 0;
  }

  /** Number of entries. */
  get length(): number {
    return this.count;
  }

  /** The backing memory (entries 0..length-1 are valid); pass it with `length` to native code. */
  get buffer(): ArrayBuffer {
    return this.words.buffer as ArrayBuffer;
  }

  /** Removes all entries, keeping the capacity. */
  clear(): void {
    this.count = 0;
  }

  /** Address of entry i as a number (exact below 2^53, which all IOVAs are). */
  addrAt(i: number): number {
    if (!(i >= 0 && i < this.count && i * WORDS < this.words.length) || i !== (i | 0)) this.badIndex('addrAt', i);
    return this.words[i * WORDS + ADDR_LO] + this.words[i * WORDS + ADDR_HI] * TWO_32;
  }

  /** Address of entry i as a BigInt (exact for the whole 64-bit range; not for hot paths). */
  addrBigAt(i: number): bigint {
    if (!(i >= 0 && i < this.count && i * WORDS < this.words.length) || i !== (i | 0)) this.badIndex('addrBigAt', i);
    return BigInt(this.words[i * WORDS + ADDR_LO]) | (BigInt(this.words[i * WORDS + ADDR_HI]) << 32n);
  }

  /** Length in bytes of entry i. */
  lenAt(i: number): number {
    if (!(i >= 0 && i < this.count && i * WORDS < this.words.length) || i !== (i | 0)) this.badIndex('lenAt', i);
    return this.words[i * WORDS + LEN];
  }

  /** Flags of entry i. */
  flagsAt(i: number): number {
    if (!(i >= 0 && i < this.count && i * WORDS < this.words.length) || i !== (i | 0)) this.badIndex('flagsAt', i);
    return this.words[i * WORDS + FLAGS];
  }

  private badIndex(what: string, i: unknown): never {
    if (this.detached) throw new PhyrArgumentError(`${what}: the phyr array's memory was detached (its buffer was transferred); its entries are gone`);
    throw new PhyrArgumentError(`${what}: entry index ${describe(i)} is not an integer in 0..${this.count - 1} (the array has ${this.count} entries)`);
  }

  /** Sum of all entry lengths. */
  totalBytes(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) n += this.words[i * WORDS + LEN];
    return n;
  }

  /**
   * Appends the range [addr, addr + len). Coalesces with the last entry when adjacent with
   * equal flags; splits ranges longer than PHYR_MAX_LEN. Throws PhyrEntryError on bad input.
   */
  push(addr: number | bigint, len: number, flags = 0): this {
    if (typeof addr === 'bigint') return this.pushBig(addr, len, flags);
    if (typeof addr !== 'number') this.reject('bad-address', `address ${describe(addr)} is not a number; pass a number or a BigInt`);
    if (typeof len !== 'number') this.reject('bad-length', `length ${describe(len)} is not a number; pass a number of bytes`);
    if (this.detached) throw new PhyrArgumentError("push: the phyr array's memory was detached (its buffer was transferred); make a new array");
    if (!(len > 0)) this.reject('zero-length', `length ${len} is not positive; a range must cover at least one byte`);
    if (!Number.isSafeInteger(len)) this.reject('bad-length', `length ${len} is not an integer`);
    if (!Number.isSafeInteger(addr) || addr < 0) {
      this.reject('bad-address', `address ${addr} is not an integer in [0, 2^53); pass a BigInt for higher addresses`);
    }
    if (!Number.isSafeInteger(addr + len)) this.reject('overflow', `range ${addr} + ${len} passes 2^53; pass a BigInt address`);
    this.checkFlagsAndAlignment(addr % 4, len, flags);
    this.append(addr, len, flags);
    return this;
  }

  private pushBig(addr: bigint, len: number, flags: number): this {
    if (typeof len !== 'number') this.reject('bad-length', `length ${describe(len)} is not a number; pass a number of bytes`);
    if (this.detached) throw new PhyrArgumentError("push: the phyr array's memory was detached (its buffer was transferred); make a new array");
    if (!(len > 0)) this.reject('zero-length', `length ${len} is not positive; a range must cover at least one byte`);
    if (!Number.isSafeInteger(len)) this.reject('bad-length', `length ${len} is not an integer`);
    if (addr < 0n || addr >= TWO_64) this.reject('bad-address', `address ${addr} is outside [0, 2^64)`);
    if (addr + BigInt(len) > TWO_64) this.reject('overflow', `range 0x${addr.toString(16)} + ${len} passes the end of the 64-bit address space`);
    this.checkFlagsAndAlignment(Number(addr & 3n), len, flags);
    if (addr + BigInt(len) <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.append(Number(addr), len, flags);
      return this;
    }
    // Above 2^53: no coalescing arithmetic in floating point; split exactly with BigInt.
    let a = addr;
    let left = len;
    while (left > 0) {
      const piece = Math.min(left, PHYR_MAX_LEN);
      this.writeEntry(Number(a & 0xffffffffn), Number(a >> 32n), piece, flags);
      a += BigInt(piece);
      left -= piece;
    }
    return this;
  }

  private checkFlagsAndAlignment(addrMod4: number, len: number, flags: number): void {
    if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
      this.reject('unknown-flags', `flags ${describe(flags)} are not a PhyrFlags bit set (an integer)`);
    }
    if ((flags & ~PHYR_KNOWN_FLAGS) !== 0) {
      this.reject('unknown-flags', `flags 0x${flags.toString(16)} include bits outside the known set 0x${PHYR_KNOWN_FLAGS.toString(16)}`);
    }
    if (this.dwordAligned && (addrMod4 !== 0 || len % 4 !== 0)) {
      this.reject('unaligned', 'address and length must be multiples of 4 for DMA-ready output (NVMe data pointers are dword-aligned)');
    }
  }

  private append(addr: number, len: number, flags: number): void {
    let left = len;
    let a = addr;
    const last = this.count - 1;
    if (last >= 0 && this.flagsAt(last) === flags && this.addrAt(last) + this.lenAt(last) === a) {
      const room = PHYR_MAX_LEN - this.lenAt(last);
      const take = Math.min(room, left);
      this.words[last * WORDS + LEN] += take;
      a += take;
      left -= take;
    }
    while (left > 0) {
      const piece = Math.min(left, PHYR_MAX_LEN);
      this.writeEntry(a % TWO_32, Math.floor(a / TWO_32), piece, flags);
      a += piece;
      left -= piece;
    }
  }

  private writeEntry(lo: number, hi: number, len: number, flags: number): void {
    if ((this.count + 1) * WORDS > this.words.length) {
      // 2^28 words: 64 Mi entries (1 GiB) is far past any data pointer a controller takes.
      if (this.words.length * 2 > 2 ** 28) {
        throw new PhyrEntryError(this.count, 'overflow', `the array is full (${this.count} entries); no IO takes that many ranges`);
      }
      const bigger = new Uint32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    encodePhyrEntry(this.words, this.count, lo, hi, len, flags);
    this.count++;
  }

  private reject(problem: PhyrEntryProblem, detail: string): never {
    throw new PhyrEntryError(this.count, problem, detail);
  }

  /** Plain objects for every entry (allocates; for tests, logs and reports). */
  toArray(): PhyrEntry[] {
    const out: PhyrEntry[] = [];
    for (let i = 0; i < this.count; i++) out.push({ addr: this.addrAt(i), len: this.lenAt(i), flags: this.flagsAt(i) });
    return out;
  }
}
